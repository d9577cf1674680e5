// Allowed imports between the folders of src/ (issue 11 §1; docs/architecture.md, "Code rules:
// imports, lint and format"). `npm run lint:deps` checks them; `npm run lint` and .ci/run include it. Each rule holds for the code today: a new violation fails CI, and an
// exception is written into the rule with the reason, never added silently.
//
// Paths are relative to the repository root. Node's built-in modules are named without the `node:`
// prefix (`import crypto from 'node:crypto'` resolves to `crypto`, dependency type `core`).

/** Feature folders: everything in src/ except src/platform (shared plumbing) and src/evaluation (pure). */
const FEATURES = '(flags|cohorts|persons|groups|ingestion|sdk|access|activity|console|cli)';

/**
 * Files that speak HTTP and may import Fastify (`fastify`, `@fastify/*`, `fastify-type-provider-zod`):
 * route modules, the app and its HTTP plumbing, and the few request/reply helpers that exist because
 * they read headers, cookies or raw bodies. Services, repositories and evaluation take plain values.
 */
const HTTP_EDGE = [
  '^src/app[.]ts$',
  '^src/platform/http/',
  '(^|/)[^/]*routes[.]ts$', // routes.ts, flags-routes.ts, login-routes.ts, …
  '^src/sdk/hot-path[.]ts$', // the SDK fast path answers on the raw Node request (docs/architecture.md)
  '^src/sdk/body[.]ts$', // decodes SDK bodies (gzip, base64, form) before and outside Fastify's parsers
  '^src/access/auth-hook[.]ts$', // the onRequest hook that authenticates every request
  '^src/access/sign-in/(cookies|csrf|oidc)[.]ts$', // session cookie, CSRF header check, OIDC redirect routes
  '^src/console/static[.]ts$', // serves the console's files
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import cycles. Exception, to be removed: src/sdk/hot-path.ts imports the Services type from ' +
        'src/app.ts, which imports the fast path (directly and via src/sdk/flags-routes.ts). Another ' +
        'change removes that cycle; once merged, delete the `via` line so every cycle fails. The ' +
        'exception only covers cycles made entirely of those three files.',
      from: {},
      to: {
        circular: true,
        via: { pathNot: '^src/(app|sdk/hot-path|sdk/flags-routes)[.]ts$' },
      },
    },
    {
      name: 'evaluation-is-pure',
      severity: 'error',
      comment:
        'src/evaluation is the pure flag evaluator: it imports only itself, re2js (linear-time regex) and ' +
        'the built-ins crypto (SHA-1 bucketing) and v8 (regex cache sizing). No database, HTTP, config or logger.',
      from: { path: '^src/evaluation/' },
      to: { pathNot: ['^src/evaluation/', '^node_modules/re2js/', '^(crypto|v8)$'] },
    },
    {
      name: 'platform-imports-no-feature',
      severity: 'error',
      comment:
        'src/platform is the plumbing every feature builds on (config, db, errors, HTTP); it must not ' +
        'depend on a feature folder or on the app that assembles them.',
      from: { path: '^src/platform/' },
      to: { path: [`^src/${FEATURES}/`, '^src/(app|server|cli)[.]ts$'] },
    },
    {
      name: 'sql-only-in-repositories',
      severity: 'error',
      comment:
        'Queries are built with drizzle-orm only in repository files (*repository.ts) and in ' +
        'src/platform/db (connection, schema, migrations, change feed, instance settings). Services ' +
        'call repositories; route handlers call services.',
      from: { path: '^src/', pathNot: ['(^|/)[^/]*repository[.]ts$', '^src/platform/db/'] },
      to: { path: '^node_modules/drizzle-orm/' },
    },
    {
      name: 'database-drivers-only-in-platform-db',
      severity: 'error',
      comment: 'pg and PGlite are opened and configured in src/platform/db only; everything else gets a Database.',
      from: { path: '^src/', pathNot: '^src/platform/db/' },
      to: { path: '^node_modules/(pg|@electric-sql/pglite)/' },
    },
    {
      name: 'fastify-only-at-the-edge',
      severity: 'error',
      comment:
        'Fastify is imported only where requests are handled (route files, the app, src/platform/http and ' +
        'the HTTP helpers listed in HTTP_EDGE in this file). Services and repositories take plain values, ' +
        'so they can be called from the CLI and tests without a server.',
      from: { path: '^src/', pathNot: HTTP_EDGE },
      to: { path: '^node_modules/(fastify|@fastify/[^/]+|fastify-type-provider-zod)/' },
    },
    {
      name: 'src-does-not-import-tests-or-tools',
      severity: 'error',
      comment: 'The server does not import test helpers, benchmarks or build scripts.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts|web)/' },
    },
    {
      name: 'src-runtime-deps-only',
      severity: 'error',
      comment:
        'The Docker image installs production dependencies only (npm ci --omit=dev), so src/ must not ' +
        'load a devDependency at run time (type-only imports are erased and fine).',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-undeclared-packages',
      severity: 'error',
      comment: 'Every package src/ imports is declared in package.json (not just present as a transitive dependency).',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves to a file or package.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Count `import type` too: a type-only import still couples the two folders.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

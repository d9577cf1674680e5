#!/usr/bin/env node
// Compiles the server and the admin CLI with esbuild: src/server.ts → dist/server.js and src/cli.ts →
// dist/cli.js, each one ES module with its source map; npm packages stay imports
// (docs/architecture.md, "Build"). dist/console (the web console) is left alone.
//
//   node scripts/build-server.mjs              build (`npm install` runs this as part of `prepare`)
//   node scripts/build-server.mjs --if-stale   build only when the sources differ from those the
//                                              bundle was built from (`npm start` runs this first)
//   --outdir DIR                               build elsewhere than dist/ (the tests do)
//
// Where src/ is absent (the Docker image's dependency stage) there is nothing to build: it says so
// and succeeds.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ENTRY_POINTS = { server: 'src/server.ts', cli: 'src/cli.ts' };
/** Written next to the bundles: the fingerprint of the sources they were built from. */
const RECORD = 'server-build.json';

/** Every file the bundles depend on: src/, the TypeScript configuration, package.json and this script. */
function inputFiles(root) {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.push(full);
    }
  };
  walk(path.join(root, 'src'));
  files.sort();
  for (const file of ['tsconfig.json', 'package.json', 'scripts/build-server.mjs']) {
    if (fs.existsSync(path.join(root, file))) files.push(path.join(root, file));
  }
  return files;
}

/**
 * SHA-256 over the inputs' paths and contents. Contents rather than modification times: a checkout,
 * a copy or an edit undone all leave the right answer (about 10 ms for the whole tree).
 */
export function sourceFingerprint(root = ROOT) {
  const hash = crypto.createHash('sha256');
  for (const file of inputFiles(root)) {
    hash.update(path.relative(root, file).split(path.sep).join('/'));
    hash.update('\0');
    hash.update(fs.readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Why the bundles in `outdir` do not match the sources, or '' when they do. */
export function staleness(root = ROOT, outdir = path.join(root, 'dist')) {
  for (const name of Object.keys(ENTRY_POINTS)) {
    if (!fs.existsSync(path.join(outdir, `${name}.js`))) return `${path.relative(root, outdir)}/${name}.js is not built yet`;
  }
  let record;
  try {
    record = JSON.parse(fs.readFileSync(path.join(outdir, RECORD), 'utf8'));
  } catch {
    return `${path.relative(root, outdir)}/${RECORD} is missing`;
  }
  return record.fingerprint === sourceFingerprint(root) ? '' : 'the sources changed since the last build';
}

/** Another process may be starting from the same dist/ (two `npm start`s, the CLI): never a half-written file. */
function writeAtomically(file, contents) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, contents);
  fs.renameSync(temp, file);
}

/**
 * Classes whose name esbuild changed: two modules declaring the same top-level name meet in one
 * bundle scope and one of them becomes `Name2`. Error classes' names appear in logs
 * (src/platform/log-redaction.ts), so a renamed class fails the build instead.
 */
function renamedClasses(root, outputs) {
  const declared = new Set();
  for (const file of inputFiles(root)) {
    if (!file.endsWith('.ts')) continue;
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/^(?:export\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)/gm)) declared.add(m[1]);
  }
  const emitted = new Set();
  for (const text of outputs) for (const m of text.matchAll(/\bclass\s+([A-Za-z_$][\w$]*)|([A-Za-z_$][\w$]*)\s*=\s*class\b/g)) emitted.add(m[1] ?? m[2]);
  const renamed = [...emitted].filter((name) => !declared.has(name) && /\d$/.test(name) && declared.has(name.replace(/\d+$/, '')));
  return renamed.map((name) => `${name.replace(/\d+$/, '')} (as ${name})`);
}

/**
 * The posthog-js bundles flaghost serves under /static/ (SERVED_EXTENSIONS of
 * src/sdk/assets-routes.ts), copied into <outdir>/posthog-js: the Docker image has no dev
 * dependencies, posthog-js among them.
 */
export const POSTHOG_JS_ASSETS = [
  'array',
  'array.full',
  'surveys',
  'dead-clicks-autocapture',
  'exception-autocapture',
  'tracing-headers',
  'web-vitals',
  'web-vitals-with-attribution',
];

function copyPosthogJsAssets(root, outdir) {
  const from = path.join(root, 'node_modules', 'posthog-js', 'dist');
  if (!fs.existsSync(from)) return;
  for (const name of POSTHOG_JS_ASSETS) writeAtomically(path.join(outdir, 'posthog-js', `${name}.js`), fs.readFileSync(path.join(from, `${name}.js`)));
}

export async function build({ root = ROOT, outdir = path.join(root, 'dist') } = {}) {
  const esbuild = await import('esbuild');
  // Taken before esbuild reads the sources: an edit during the build shows as stale next time.
  const fingerprint = sourceFingerprint(root);
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ENTRY_POINTS,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    packages: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    // No keepNames: it wraps every named function and class in a __name() call that sets `.name`,
    // which tsx pays on the hot path (bench/README.md).
    keepNames: false,
    write: false,
    logLevel: 'warning',
  });
  const renamed = renamedClasses(
    root,
    result.outputFiles.filter((f) => f.path.endsWith('.js')).map((f) => f.text),
  );
  if (renamed.length) {
    throw new Error(`esbuild renamed class ${renamed.join(', ')} (another module declares the same name); give each class a distinct name`);
  }
  for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
  copyPosthogJsAssets(root, outdir);
  writeAtomically(path.join(outdir, RECORD), JSON.stringify({ fingerprint, esbuild: esbuild.version, builtAt: new Date().toISOString() }, null, 2) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const ifStale = args.includes('--if-stale');
  const outIndex = args.indexOf('--outdir');
  const outdir = outIndex >= 0 ? path.resolve(args[outIndex + 1]) : path.join(ROOT, 'dist');
  const rel = path.relative(ROOT, outdir) || '.';
  if (!fs.existsSync(path.join(ROOT, ENTRY_POINTS.server))) {
    console.log('build-server: src/ is not here, the server is not built.');
    process.exit(0);
  }
  const reason = staleness(ROOT, outdir);
  if (ifStale && !reason) process.exit(0);
  const started = Date.now();
  try {
    await build({ outdir });
  } catch (err) {
    console.error(`build-server: ${err.code === 'ERR_MODULE_NOT_FOUND' ? 'esbuild is not installed; run `npm install`' : err.message}`);
    process.exit(1);
  }
  console.log(`build-server: built ${rel}/server.js and ${rel}/cli.js in ${Date.now() - started} ms${ifStale ? ` (${reason})` : ''}`);
}

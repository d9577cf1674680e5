// Packaging stays in step with the code: docker-compose.yml, Dockerfile, .dockerignore, package.json
// and the README's configuration table against src/platform/config.ts.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES, loadConfig } from '../../src/platform/config.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

type Yaml = string | null | Yaml[] | { [key: string]: Yaml };

/** Drops a trailing ` # comment` that is outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || line[i - 1] === ' ')) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

/**
 * A strict reader for the YAML subset docker-compose.yml uses: block mappings and sequences indented
 * with spaces, plain, quoted and JSON-style flow-sequence scalars, comments. Anything else (anchors,
 * tags, block scalars, flow mappings, tabs, duplicate keys) is an error rather than a guess.
 * Scalars stay strings, as Compose hands them to the container.
 */
function parseYamlSubset(text: string): Yaml {
  const lines: Array<{ n: number; indent: number; content: string }> = [];
  text.split('\n').forEach((raw, i) => {
    if (/^\s*\t/.test(raw)) throw new Error(`line ${i + 1}: tab indentation`);
    const content = stripComment(raw.trim());
    if (content) lines.push({ n: i + 1, indent: raw.length - raw.trimStart().length, content });
  });
  let pos = 0;
  const fail = (message: string): never => {
    throw new Error(`line ${lines[Math.min(pos, lines.length - 1)]?.n}: ${message}`);
  };

  const scalar = (s: string): Yaml => {
    if (s.startsWith('"')) return JSON.parse(s) as string;
    if (s.startsWith("'")) {
      if (!/^'(?:[^']|'')*'$/.test(s)) fail(`bad single-quoted scalar ${s}`);
      return s.slice(1, -1).replace(/''/g, "'");
    }
    if (s.startsWith('[')) {
      const items = JSON.parse(s) as unknown;
      if (!Array.isArray(items) || !items.every((x) => typeof x === 'string')) fail(`flow sequences must hold strings: ${s}`);
      return items as string[];
    }
    if (/^[&*!|>{%@`]/.test(s) || s.includes(': ') || s.endsWith(':')) fail(`unsupported scalar ${s}`);
    return s;
  };

  const block = (indent: number): Yaml => (/^-( |$)/.test(lines[pos].content) ? sequence(indent) : mapping(indent));

  const sequence = (indent: number): Yaml[] => {
    const items: Yaml[] = [];
    while (pos < lines.length && lines[pos].indent === indent) {
      const { content } = lines[pos];
      if (!content.startsWith('- ')) fail('expected a sequence item');
      const item = content.slice(2).trim();
      if (/^[A-Za-z0-9_.-]+:( |$)/.test(item)) fail('mappings inside sequences are not supported');
      items.push(scalar(item));
      pos++;
    }
    return items;
  };

  const mapping = (indent: number): { [key: string]: Yaml } => {
    const out: { [key: string]: Yaml } = {};
    while (pos < lines.length && lines[pos].indent === indent) {
      const m = /^([A-Za-z0-9_.-]+):(?: +(.*))?$/.exec(lines[pos].content);
      if (!m) fail(`expected "key: value", got ${lines[pos].content}`);
      const [, key, value] = m!;
      if (Object.hasOwn(out, key)) fail(`duplicate key ${key}`);
      pos++;
      if (value !== undefined) out[key] = scalar(value);
      else if (pos < lines.length && lines[pos].indent > indent) out[key] = block(lines[pos].indent);
      else out[key] = null;
    }
    if (pos < lines.length && lines[pos].indent > indent) fail('unexpected indentation');
    return out;
  };

  if (!lines.length) return null;
  if (lines[0].indent !== 0) fail('the document must start at column 0');
  const doc = block(0);
  if (pos < lines.length) fail('unexpected content');
  return doc;
}

describe('the YAML subset reader', () => {
  it('reads mappings, sequences, quoted and flow scalars, and comments', () => {
    const doc = parseYamlSubset(
      ['a:', '  b: "x: y" # note', "  c: 'it''s'", '  d:', '    - one', '    - "two"', '  e: ["CMD", "x"]', 'f:', 'g: plain#text'].join('\n'),
    );
    expect(doc).toEqual({ a: { b: 'x: y', c: "it's", d: ['one', 'two'], e: ['CMD', 'x'] }, f: null, g: 'plain#text' });
  });

  it('refuses what it does not understand', () => {
    for (const text of ['a: &anchor x', 'a: |', 'a:\n\tb: 1', 'a: 1\na: 2', 'a:\n  - b: 1', 'a: {b: 1}', 'a: b: c', 'a: 1\n  b: 2']) {
      expect(() => parseYamlSubset(text), text).toThrow();
    }
  });
});

describe('docker-compose.yml and .env.example', () => {
  const compose = parseYamlSubset(read('docker-compose.yml')) as any;
  const postgres = compose.services.postgres;
  const flaghost = compose.services.flaghost;
  const example = Object.fromEntries(
    read('.env.example')
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  ) as Record<string, string>;
  // What the flaghost container sees: the .env file, then compose's own environment, with ${…}
  // substituted from the same .env (as docker compose does).
  const substitute = (value: string, vars: Record<string, string>) => value.replace(/\$\{(\w+)(?::[-?][^}]*)?\}/g, (_m, name: string) => vars[name] ?? '');
  const containerEnv = (vars: Record<string, string>) => ({
    ...vars,
    ...Object.fromEntries(Object.entries(flaghost.environment as Record<string, string>).map(([k, v]) => [k, substitute(v, vars)])),
  });

  it('runs the official postgres image with a named volume, a pg_isready healthcheck and its password from .env', () => {
    expect(postgres.image).toMatch(/^postgres:\d+/);
    const [volume] = postgres.volumes as string[];
    const [name, mount] = volume.split(':');
    expect(mount).toBe('/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes)).toContain(name);
    expect(postgres.healthcheck.test.join(' ')).toContain('pg_isready');
    expect(postgres.environment.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
  });

  it('starts flaghost once postgres is healthy, under an init process, with a readiness healthcheck', () => {
    expect(flaghost.build).toBe('.');
    expect(flaghost.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(flaghost.init).toBe('true'); // the YAML subset reader keeps scalars as strings
    expect(flaghost.healthcheck.test).toEqual(['CMD', 'node', '/app/bin/healthcheck.mjs']);
    expect(read('bin/healthcheck.mjs')).toContain('/_readyz');
  });

  it('publishes the port on 127.0.0.1 unless FLAGHOST_BIND says otherwise', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own ${…} syntax, not a template
    expect(flaghost.ports).toEqual(['${FLAGHOST_BIND:-127.0.0.1}:8000:8000']);
    expect(example.FLAGHOST_BIND).toBe('127.0.0.1');
  });

  it('reads every secret from .env, none from the YAML', () => {
    expect(flaghost.env_file).toBe('.env');
    expect(Object.keys(flaghost.environment)).toEqual(['DATABASE_URL']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own ${…} syntax, not a template
    expect(flaghost.environment.DATABASE_URL).toContain('${POSTGRES_PASSWORD}');
    expect(read('.gitignore').split('\n')).toContain('.env');
    expect(read('.dockerignore').split('\n')).toContain('.env');
    for (const name of Object.keys(example)) {
      if (name !== 'POSTGRES_PASSWORD' && name !== 'FLAGHOST_BIND') expect(ENV_VARIABLES, name).toContain(name);
    }
  });

  it('refuses to start while any secret still has its example value, and starts once each is replaced', () => {
    expect(() => loadConfig(containerEnv(example))).toThrow(/still the example value/);
    const secrets = Object.keys(example).filter((name) => example[name].includes('ChangeMe'));
    expect(secrets.sort()).toEqual(
      [
        'FLAGHOST_INIT_ADMIN_PASSWORD',
        'FLAGHOST_INIT_PERSONAL_API_KEY',
        'FLAGHOST_INIT_PROJECT_TOKEN',
        'FLAGHOST_INIT_SECRET_TOKEN',
        'FLAGHOST_SECRET_KEY',
        'POSTGRES_PASSWORD',
      ].sort(),
    );
    const real: Record<string, string> = {
      ...example,
      POSTGRES_PASSWORD: 'k3Lr9sQ2vX8wTz4m',
      FLAGHOST_SECRET_KEY: 'b0c2a9e1f7d84c6a9e3f1b2d',
      FLAGHOST_INIT_ADMIN_PASSWORD: 'correct horse battery',
      FLAGHOST_INIT_PERSONAL_API_KEY: 'phx_Q2w3E4r5T6y7U8i9O0p1',
      FLAGHOST_INIT_PROJECT_TOKEN: 'phc_A1s2D3f4G5h6J7k8L9z0',
      FLAGHOST_INIT_SECRET_TOKEN: 'phs_Z1x2C3v4B5n6M7q8W9e0',
    };
    // Each example value left alone is refused on its own, and named.
    for (const name of secrets) {
      const env = containerEnv({ ...real, [name]: example[name] });
      const reported = name === 'POSTGRES_PASSWORD' ? 'DATABASE_URL' : name;
      expect(() => loadConfig(env), name).toThrow(new RegExp(`${reported}: still the example value`));
    }
    const config = loadConfig(containerEnv(real));
    expect(new URL(config.database.url!).hostname).toBe('postgres');
    expect(config.init.personalApiKey).toBe(real.FLAGHOST_INIT_PERSONAL_API_KEY);
  });
});

describe('Dockerfile', () => {
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [, op, args] = /^(\S+)\s+(.*)$/.exec(l)!;
      return { op: op.toUpperCase(), args: args.replace(/\s+/g, ' ') };
    });
  const lastFrom = instructions.map((i) => i.op).lastIndexOf('FROM');
  const runtime = instructions.slice(lastFrom);
  const args = (op: string) => runtime.filter((i) => i.op === op).map((i) => i.args);
  const runtimeEnv = Object.fromEntries(args('ENV').flatMap((a) => a.split(' ').map((kv) => kv.split('=') as [string, string])));

  it('is a multi-stage build: npm ci in a dependency stage, copied into the runtime stage', () => {
    const froms = instructions.filter((i) => i.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const depsStage = /\sAS\s+(\S+)$/i.exec(froms[0].args)?.[1];
    expect(depsStage).toBeTruthy();
    const depsRun = instructions
      .slice(0, lastFrom)
      .filter((i) => i.op === 'RUN')
      .map((i) => i.args)
      .join(' ');
    expect(depsRun).toMatch(/npm ci\b.*--omit=dev/);
    expect(args('COPY')).toContain(`--from=${depsStage} /app/node_modules ./node_modules`);
    expect(args('RUN').join(' ')).not.toMatch(/npm (ci|install)/);
  });

  it('copies what the server and the CLI need at run time, and no sources', () => {
    const copied = args('COPY')
      .filter((a) => !a.startsWith('--from'))
      .flatMap((a) => a.split(' ').slice(0, -1));
    for (const item of ['package.json', 'package-lock.json', 'migrations', 'bin']) expect(copied).toContain(item);
    for (const item of ['src', 'tsconfig.json', 'web', 'scripts'])
      expect(
        copied.some((c) => c === item || c.startsWith(`${item}/`)),
        item,
      ).toBe(false);
  });

  it('builds the console and the server in a build stage and copies dist/ from it', () => {
    const stages = instructions.filter((i) => i.op === 'FROM').map((i) => /\sAS\s+(\S+)$/i.exec(i.args)?.[1]);
    const fromDist = args('COPY').find((a) => /^--from=\S+ \/app\/dist \.\/dist$/.test(a));
    expect(fromDist).toBeDefined();
    const buildStage = /^--from=(\S+)/.exec(fromDist!)![1];
    const start = instructions.findIndex((i) => i.op === 'FROM' && i.args.endsWith(` AS ${buildStage}`));
    expect(start, `stage ${buildStage}`).toBeGreaterThanOrEqual(0);
    const end = instructions.findIndex((i, n) => n > start && i.op === 'FROM');
    const stage = instructions.slice(start, end);
    const runs = stage.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.join(' ')).toMatch(/npm ci\b/);
    expect(runs).toContain('npm run build:console');
    expect(runs).toContain('npm run build:server');
    const stageCopies = stage.filter((i) => i.op === 'COPY').map((i) => i.args);
    for (const item of ['src ./src', 'tsconfig.json ./', 'web ./web']) expect(stageCopies, item).toContain(item);
    expect(stages).toContain(buildStage);
  });

  it('copies the build scripts into the dependency stage (its npm ci runs `prepare`)', () => {
    const pkg = JSON.parse(read('package.json'));
    const scripts = [...pkg.scripts.prepare.matchAll(/node (scripts\/\S+)/g)].map((m) => m[1]);
    expect(scripts).toEqual(['scripts/build-console.mjs', 'scripts/build-server.mjs']);
    const depsCopies = instructions
      .slice(
        0,
        instructions.findIndex((i, n) => n > 0 && i.op === 'FROM'),
      )
      .filter((i) => i.op === 'COPY');
    const copied = depsCopies.flatMap((i) => i.args.split(' ').slice(0, -1));
    for (const script of scripts) expect(copied).toContain(script);
  });

  it('listens on 0.0.0.0:8000 as a non-root user, with /data as a volume', () => {
    expect(runtimeEnv.HOST).toBe('0.0.0.0');
    expect(args('EXPOSE')).toEqual(['8000']);
    expect(runtimeEnv.PORT ?? '8000').toBe('8000');
    const users = args('USER');
    expect(users.length).toBe(1);
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime.findIndex((i) => i.op === 'USER')).toBeLessThan(runtime.findIndex((i) => i.op === 'CMD'));
    expect(JSON.parse(args('VOLUME')[0])).toEqual(['/data']);
    expect(runtimeEnv.FLAGHOST_DATA_DIR).toBe('/data');
  });

  it('sets only variables flaghost reads (besides NODE_ENV), with valid values', () => {
    const own = Object.fromEntries(Object.entries(runtimeEnv).filter(([k]) => k !== 'NODE_ENV'));
    for (const name of Object.keys(own)) expect(ENV_VARIABLES, name).toContain(name);
    const config = loadConfig(own);
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(8000);
  });

  it('starts the compiled server with node, without tsx', () => {
    const cmd = JSON.parse(args('CMD')[0]) as string[];
    expect(cmd).toEqual(['node', '--enable-source-maps', 'dist/server.js']);
    expect(runtime.map((i) => i.args).join('\n')).not.toMatch(/\btsx\b/);
  });

  it('runs node under tini as PID 1 (signals forwarded, zombies reaped) and checks readiness', () => {
    expect(args('RUN').join('\n')).toMatch(/apt-get install -y --no-install-recommends tini/);
    expect(JSON.parse(args('ENTRYPOINT')[0])).toEqual(['/usr/bin/tini', '--']);
    const [healthcheck] = args('HEALTHCHECK');
    expect(healthcheck).toMatch(/CMD \["node", "\/app\/bin\/healthcheck\.mjs"\]$/);
    expect(args('COPY')).toContain('bin ./bin');
  });
});

describe('.dockerignore and package.json', () => {
  it('.dockerignore keeps local state out and what the image and its build need in', () => {
    const entries = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const item of ['node_modules', 'data', '.git', 'dist', 'scripts']) expect(entries).toContain(item);
    for (const item of ['src', 'migrations', 'bin', 'web', 'package.json', 'package-lock.json', 'tsconfig.json']) expect(entries).not.toContain(item);
    for (const item of ['!scripts/build-console.mjs', '!scripts/build-server.mjs']) expect(entries).toContain(item);
  });

  it('npm start runs the compiled server, rebuilt first when the sources changed; npm run dev runs tsx', () => {
    const { scripts } = JSON.parse(read('package.json'));
    expect(scripts.start).toBe('node --enable-source-maps dist/server.js');
    expect(scripts.prestart).toBe('node scripts/build-server.mjs --if-stale');
    expect(scripts.prepare).toMatch(/node scripts\/build-server\.mjs$/);
    expect(scripts.dev).toBe('tsx watch src/server.ts');
  });

  it('ships the flaghost bin, runnable with production dependencies only', () => {
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.bin).toEqual({ flaghost: 'bin/flaghost.mjs' });
    // esbuild builds dist/ at a production install; tsx is for development and the tests.
    expect(pkg.dependencies.esbuild).toBeTruthy();
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.devDependencies.tsx).toBeTruthy();
    const bin = path.join(ROOT, pkg.bin.flaghost);
    expect(fs.statSync(bin).mode & 0o111).not.toBe(0);
    const text = fs.readFileSync(bin, 'utf8');
    expect(text).toMatch(/^#!\/usr\/bin\/env node\n/);
    // Only dynamic imports of tsx: the bin must load without it.
    expect(text).not.toMatch(/^import[^\n]*['"]tsx/m);
  });
});

describe('README.md', () => {
  it('keeps the two first commands and documents every configuration variable', () => {
    const readme = read('README.md');
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1];
    expect(firstBlock).toMatch(/^npm install && npm start\s/);
    expect(firstBlock.split('\n')[1]).toMatch(/^npm test\s/);
    const section = readme.slice(readme.indexOf('## Configuration'));
    const table = section.slice(0, section.indexOf('\n## ', 1) === -1 ? undefined : section.indexOf('\n## ', 1));
    const documented = [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...ENV_VARIABLES].sort());
  });
});

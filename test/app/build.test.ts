// The compiled server and CLI (scripts/build-server.mjs, docs/architecture.md "Build"): what the
// bundles import, that they carry no name-keeping, that `--if-stale` rebuilds exactly when the
// sources changed, and that the `flaghost` bin never runs a stale bundle (tsx where installed,
// otherwise a rebuild). Builds go to temporary directories: the checkout's dist/ is left alone.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const temps: string[] = [];

afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/**
 * A package root of its own: copies of src/, the build script, the bin, package.json, tsconfig.json and
 * migrations/, with node_modules linked entry by entry from the checkout (all of them, or all but some).
 */
function packageCopy(withoutModules: string[] = []): string {
  const dir = tempDir('flaghost-build-');
  for (const item of ['src', 'bin', 'migrations', 'package.json', 'tsconfig.json', 'scripts/build-server.mjs']) {
    fs.cpSync(path.join(ROOT, item), path.join(dir, item), { recursive: true });
  }
  fs.mkdirSync(path.join(dir, 'node_modules'));
  for (const entry of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    if (entry === '.bin' || withoutModules.includes(entry)) continue;
    fs.symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(dir, 'node_modules', entry));
  }
  return dir;
}

const buildScript = (root: string, ...args: string[]) =>
  run(process.execPath, [path.join(root, 'scripts/build-server.mjs'), ...args], { cwd: root, timeout: 60_000 });

const bin = (root: string, ...args: string[]) => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  return run(process.execPath, [path.join(root, 'bin/flaghost.mjs'), ...args], { cwd: root, env, timeout: 60_000 });
};

describe.skipIf(Boolean(process.env.DATABASE_URL))('scripts/build-server.mjs', () => {
  it('bundles the server and the CLI as ES modules importing only Node built-ins and production dependencies', async () => {
    const out = tempDir('flaghost-dist-');
    const { stdout } = await buildScript(ROOT, '--outdir', out);
    expect(stdout).toMatch(/built .*server\.js and .*cli\.js/);
    for (const name of ['server', 'cli']) {
      const code = fs.readFileSync(path.join(out, `${name}.js`), 'utf8');
      const specifiers = [
        ...code.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)|(?:^|\n)import\s+"([^"]+)"/g),
      ].map((m) => m[1] ?? m[2] ?? m[3]);
      expect(specifiers.length, name).toBeGreaterThan(5);
      for (const spec of specifiers) {
        if (spec.startsWith('node:')) continue;
        const packageName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        // A devDependency here would break a production install (`npm ci --omit=dev`, the Docker image).
        expect(pkg.dependencies, `${name}.js imports ${spec}`).toHaveProperty([packageName]);
      }
      expect(code).not.toMatch(/\bfrom\s+"\.{1,2}\//); // everything of ours is inside the bundle
      expect(code).not.toMatch(/\b__name\(/); // no keepNames wrapper
      expect(code).not.toContain('tsx');
      expect(code.trimEnd().endsWith(`//# sourceMappingURL=${name}.js.map`)).toBe(true);
      const map = JSON.parse(fs.readFileSync(path.join(out, `${name}.js.map`), 'utf8')) as { sources: string[] };
      const sources = map.sources.map((s) => path.resolve(out, s));
      expect(sources).toContain(path.join(ROOT, `src/${name}.ts`));
      for (const s of sources) expect(fs.existsSync(s), s).toBe(true);
    }
    // The console build output is not the server build's business; posthog-js's bundles, which the
    // server serves under /static/ (docs/compatibility.md#sdk-2.6), are.
    expect(fs.readdirSync(out).sort()).toEqual(['cli.js', 'cli.js.map', 'posthog-js', 'server-build.json', 'server.js', 'server.js.map']);
  });

  it('--if-stale builds when the bundle is missing or the sources changed, and only then', async () => {
    const root = packageCopy();
    const first = await buildScript(root, '--if-stale');
    expect(first.stdout).toMatch(/built dist\/server\.js and dist\/cli\.js in \d+ ms \(dist\/server\.js is not built yet\)/);
    const builtAt = fs.statSync(path.join(root, 'dist/server.js')).mtimeMs;

    const again = await buildScript(root, '--if-stale');
    expect(again.stdout).toBe('');
    expect(fs.statSync(path.join(root, 'dist/server.js')).mtimeMs).toBe(builtAt);

    fs.appendFileSync(path.join(root, 'src/platform/errors.ts'), '\n// edited\n');
    const changed = await buildScript(root, '--if-stale');
    expect(changed.stdout).toMatch(/\(the sources changed since the last build\)/);
    expect(await buildScript(root, '--if-stale')).toMatchObject({ stdout: '' });

    // A file added to src/ counts as a change too, as does one removed.
    fs.writeFileSync(path.join(root, 'src/new-module.ts'), 'export const x = 1;\n');
    expect((await buildScript(root, '--if-stale')).stdout).toMatch(/sources changed/);
    fs.rmSync(path.join(root, 'src/new-module.ts'));
    expect((await buildScript(root, '--if-stale')).stdout).toMatch(/sources changed/);
  });

  it('fails the build when esbuild would rename a class (two modules declaring the same name)', async () => {
    const root = packageCopy();
    // Two top-level classes named Twin meet in one bundle: esbuild calls one of them Twin2.
    fs.writeFileSync(path.join(root, 'src/twin-a.ts'), 'export class Twin extends Error {}\n');
    fs.writeFileSync(path.join(root, 'src/twin-b.ts'), 'export class Twin extends Error {}\n');
    fs.appendFileSync(
      path.join(root, 'src/cli.ts'),
      "\nimport { Twin as A } from './twin-a.ts';\nimport { Twin as B } from './twin-b.ts';\nexport const twins = [A, B];\n",
    );
    const failed = await buildScript(root).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/esbuild renamed class Twin \(as Twin2\)/);
    expect(fs.existsSync(path.join(root, 'dist/cli.js'))).toBe(false);
  });
});

describe('bin/flaghost.mjs', () => {
  const HELP = 'flaghost: administer a flaghost database.';
  const EDITED = 'flaghost: administer a flaghost database (edited).';
  // The top-level help text lives in src/cli/parse.ts (the CLI's entry, src/cli.ts, imports it).
  const editHelp = (root: string) => {
    const file = path.join(root, 'src/cli/parse.ts');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(HELP, EDITED));
  };

  it('runs the compiled CLI, and the sources through tsx once they differ from the build', async () => {
    const root = packageCopy();
    await buildScript(root);
    expect((await bin(root, '--help')).stdout.split('\n')[0]).toBe(HELP);
    editHelp(root);
    expect((await bin(root, '--help')).stdout.split('\n')[0]).toBe(EDITED);
    // tsx ran the sources; the bundle was not rewritten behind the developer's back.
    expect(fs.readFileSync(path.join(root, 'dist/cli.js'), 'utf8')).toContain(HELP);
  });

  it('rebuilds a stale bundle where tsx is not installed (a production-only install)', async () => {
    const root = packageCopy(['tsx']);
    await buildScript(root);
    editHelp(root);
    expect((await bin(root, '--help')).stdout.split('\n')[0]).toBe(EDITED);
    expect(fs.readFileSync(path.join(root, 'dist/cli.js'), 'utf8')).toContain(EDITED);
    expect((await buildScript(root, '--if-stale')).stdout).toBe('');
  });

  it('runs the compiled CLI where there is no src/ (the Docker image)', async () => {
    const root = packageCopy(['tsx']);
    await buildScript(root);
    fs.rmSync(path.join(root, 'src'), { recursive: true });
    fs.rmSync(path.join(root, 'scripts'), { recursive: true });
    expect((await bin(root, '--help')).stdout.split('\n')[0]).toBe(HELP);
  });
});

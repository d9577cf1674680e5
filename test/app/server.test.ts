// The server as `npm start` and the Docker image run it, compiled (scripts/build-server.mjs; built
// here into a directory of its own under dist/, from the sources under test): first start on an empty
// data directory prints the generated credentials once, a second process on the same directory
// refuses to start, SIGTERM shuts down cleanly (lock released, nothing re-initialised on the next
// start), bad configuration is refused with a readable message, and the OpenAPI document and
// Swagger UI are served.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ENV_VARIABLES } from '../../src/platform/config.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-server-'));
// Inside the package root: the bundle finds migrations/ by walking up from where it is.
fs.mkdirSync(path.join(ROOT, 'dist'), { recursive: true });
const outDir = fs.mkdtempSync(path.join(ROOT, 'dist', '.server-test-'));
execFileSync(process.execPath, ['scripts/build-server.mjs', '--outdir', outDir], { cwd: ROOT, stdio: 'pipe' });
const children: ChildProcess[] = [];

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ENV_VARIABLES) delete env[name];
  delete env.NODE_OPTIONS;
  return { ...env, FLAGHOST_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', ...extra };
}

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `openFiles`: the process's open-files limit (`ulimit -n`), as a small server or container has. */
function start(extra: Record<string, string> = {}, openFiles?: number): Started {
  const node = [process.execPath, '--enable-source-maps', path.join(outDir, 'server.js')];
  const [cmd, ...args] = openFiles ? ['/bin/sh', '-c', `ulimit -n ${openFiles} && exec "$@"`, 'sh', ...node] : node;
  const child = spawn(cmd, args, { cwd: ROOT, env: baseEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function listening(s: Started): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(s.output());
    if (match) return match[1];
    if (s.child.exitCode !== null) throw new Error(`server exited: ${s.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not start: ${s.output()}`);
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(outDir, { recursive: true, force: true });
});

describe('flaghost server process', () => {
  it('first start initialises and prints the credentials; a second process is refused; SIGTERM closes cleanly', async () => {
    const first = start();
    const url = await listening(first);
    const key = /personal API key\s+(phx_\w+)/.exec(first.output())?.[1];
    expect(key).toBeDefined();
    expect(first.output()).toMatch(/project token\s+phc_\w+/);
    expect(first.output()).toMatch(/secret token\s+phs_\w+/);
    const me = await fetch(`${url}/api/users/@me/`, { headers: { authorization: `Bearer ${key}` } });
    expect(me.status).toBe(200);
    expect(JSON.stringify(await me.json())).not.toContain(key!);
    // Secrets never reach the logs.
    await fetch(`${url}/api/users/@me/?personal_api_key=${key}`);
    expect(first.output().split(key!).length - 1).toBe(1);

    const schema = await fetch(`${url}/api/schema/`);
    expect(schema.status).toBe(200);
    const doc = (await schema.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/api/projects/{project_id}/feature_flags/{id}');
    const ui = await fetch(`${url}/api/schema/swagger-ui/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);

    const second = start();
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/is in use by another flaghost process \(pid \d+\)/);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'flaghost.lock'))).toBe(false);

    // A restart keeps everything: no new credentials, the same key works.
    const again = start();
    const url2 = await listening(again);
    expect(again.output()).not.toMatch(/initialised an empty database/);
    expect((await fetch(`${url2}/api/users/@me/`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
  });

  it('1,100 idle connections under a 1,024 open-files limit: /flags and the database keep working', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-files-'));
    const key = 'phx_openfileslimit0000000000000000000000';
    const token = 'phc_openfileslimit0000000000000000000000';
    const s = start({ FLAGHOST_DATA_DIR: dir, FLAGHOST_INIT_PERSONAL_API_KEY: key, FLAGHOST_INIT_PROJECT_TOKEN: token }, 1024);
    const sockets: net.Socket[] = [];
    try {
      const url = await listening(s);
      const port = Number(new URL(url).port);
      for (let i = 0; i < 1100; i++) {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => {
          // Refused connections are expected here: the test counts them through 'close'.
        });
        sockets.push(socket);
        await new Promise((resolve) => socket.once('connect', resolve).once('close', resolve));
      }
      const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${url}${p}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
      const flags = await post('/flags?v=2', { api_key: token, distinct_id: 'someone' });
      expect(flags.status).toBe(200);
      // Writes and reads across many tables: the database still opens the files it needs.
      const auth = { authorization: `Bearer ${key}` };
      expect((await post('/api/projects/1/feature_flags/', { key: 'under-pressure' }, auth)).status).toBe(201);
      for (const p of [
        '/api/projects/1/feature_flags/',
        '/api/projects/1/cohorts/',
        '/api/projects/1/persons/',
        '/api/projects/1/feature_flags/activity/',
        '/api/organizations/@current/roles/',
      ]) {
        expect((await fetch(`${url}${p}`, { headers: auth, signal: AbortSignal.timeout(15_000) })).status, p).toBe(200);
      }
      expect(s.output()).not.toMatch(/EMFILE|too many open files|"level":50/i);
      expect(s.output()).toMatch(/"openFilesLimit":1024.*the open-files limit \(ulimit -n\) lowers the connection limit/);
    } finally {
      for (const socket of sockets) socket.destroy();
      s.child.kill('SIGTERM');
      await s.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses invalid configuration with a readable message', async () => {
    const bad = start({ PORT: 'eighty', FLAGHOST_INIT_PERSONAL_API_KEY: 'not-a-key' });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/Invalid configuration/);
    expect(bad.output()).toMatch(/PORT/);
    expect(bad.output()).toMatch(/FLAGHOST_INIT_PERSONAL_API_KEY/);
  });
});

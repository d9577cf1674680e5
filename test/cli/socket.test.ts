// The CLI beside a running server on the embedded database: commands go through the server's
// socket in the data directory (owner-only, never the TCP port) and answer in well under a second;
// their effects are immediate on the server. The socket goes on shutdown and a crash's stale one is
// replaced. Without a server and without a database, the CLI refuses and creates nothing.
// Real server and CLI processes (the embedded database whatever DATABASE_URL says: that is the point).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.ts';
import { cli, killAll, processEnv, startServer, type ServerProcess } from '../helpers/processes.ts';

const KEY = 'phx_socketadminkey000000000000000000000';
const EMAIL = 'owner@example.com';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-socket-'));
const env = { FLAGHOST_DATA_DIR: path.join(dir, 'data'), FLAGHOST_INIT_ADMIN_EMAIL: EMAIL, FLAGHOST_INIT_PERSONAL_API_KEY: KEY };
const sock = path.join(env.FLAGHOST_DATA_DIR, 'flaghost.sock');
let server: ServerProcess;
let url: string;

const me = (key: string) => fetch(`${url}/api/users/@me/`, { headers: { authorization: `Bearer ${key}` } });

/** The CLI's main() in this process (its imports already loaded): the time a command itself takes. */
async function inProcess(args: string[]) {
  let stdout = '';
  let stderr = '';
  const started = performance.now();
  const code = await main(args, { out: (s) => (stdout += s), err: (s) => (stderr += s) }, processEnv(env));
  return { code, stdout, stderr, ms: performance.now() - started };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

beforeAll(async () => {
  server = startServer(env);
  url = await server.url();
}, 120_000);

afterAll(() => {
  killAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

// One server's life: later tests read what earlier commands did (a reset key) and the last ones stop
// and crash it, so the tests keep their order when CI shuffles.
describe('the CLI beside a server on the embedded database', { timeout: 180_000, shuffle: false }, () => {
  it('the server listens on an owner-only socket in the data directory, and not for these commands on its TCP port', async () => {
    const stat = fs.statSync(sock);
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
    const tcp = await fetch(`${url}/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ argv: ['projects', 'list'] }),
    });
    expect(tcp.status).toBe(404);
    expect(await tcp.text()).not.toContain('api_token');
  });

  it('runs commands through the server in well under a second; a key it creates or revokes counts there at once', async () => {
    const created = await cli(env, ['keys', 'create', '--email', EMAIL, '--label', 'through the socket']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toBe(
      `flaghost: embedded database in ${env.FLAGHOST_DATA_DIR} (FLAGHOST_DATA_DIR), through the server running on it (pid ${server.child.pid})\n`,
    );
    expect((await me(created.out.value)).status).toBe(200);
    const revoked = await cli(env, ['keys', 'revoke', created.out.id]);
    expect(revoked.out).toEqual({ id: created.out.id, revoked: true });
    // No notification to wait for: the server's own caches learn it in the same process.
    expect((await me(created.out.value)).status).toBe(401);

    const own: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await inProcess(['projects', 'list']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)[0]).toMatchObject({ id: 1, name: 'Default Project' });
      own.push(r.ms);
    }
    const processes = [created.ms, revoked.ms];
    for (let i = 0; i < 3; i++) processes.push((await cli(env, ['projects', 'list'])).ms);
    console.log(
      `through the socket: a command takes ${median(own).toFixed(0)} ms in the CLI (median of 5), ${median(processes).toFixed(0)} ms as a new process (median of 5, Node and tsx start-up included)`,
    );
    expect(median(own)).toBeLessThan(250);
    expect(median(processes)).toBeLessThan(2000);
  });

  it('errors, usage errors and passwords go through as they do without a server', async () => {
    const user = await cli(env, ['users', 'create', '--email', 'dev@example.com', '--password-stdin'], { stdin: 'socket-password-1\n' });
    expect(user.code, user.stderr).toBe(0);
    expect(user.out).toMatchObject({ email: 'dev@example.com', has_password: true });
    const login = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'dev@example.com', password: 'socket-password-1' }),
    });
    expect(login.status).toBe(200);
    expect(user.stdout + user.stderr + server.output()).not.toContain('socket-password-1');

    const dup = await cli(env, ['users', 'create', '--email', 'DEV@example.com']);
    expect(dup.code).toBe(1);
    expect(dup.err).toEqual({ error: 'A user with email DEV@example.com already exists.' });
    const scope = await inProcess(['keys', 'create', '--email', EMAIL, '--projects', '7']);
    expect(scope.code).toBe(1);
    expect(JSON.parse(scope.stderr.trim().split('\n').at(-1)!)).toEqual({ error: 'Project 7 does not exist.' });
    const usage = await inProcess(['keys', 'create', '--email', EMAIL, '--bogus']);
    expect(usage.code).toBe(2);
  });

  it("reset-admin-key: the new key works and the first start's key stops working; other keys stay", async () => {
    expect((await me(KEY)).status).toBe(200);
    const other = await cli(env, ['keys', 'create', '--email', EMAIL, '--label', 'ci']);
    const reset = await cli(env, ['reset-admin-key']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.out).toMatchObject({ user_email: EMAIL, scopes: ['*'], revoked_key_ids: [expect.any(String)] });
    expect(reset.out.value).toMatch(/^phx_[A-Za-z0-9]{40,}$/);
    expect((await me(KEY)).status).toBe(401);
    expect((await me(reset.out.value)).status).toBe(200);
    expect((await me(other.out.value)).status).toBe(200);

    // A second reset revokes the first one's key, still not the others.
    const again = await cli(env, ['reset-admin-key']);
    expect(again.out.revoked_key_ids).toEqual([reset.out.id]);
    expect((await me(reset.out.value)).status).toBe(401);
    expect((await me(again.out.value)).status).toBe(200);
    expect((await me(other.out.value)).status).toBe(200);
  });

  it('init beside the server changes nothing and names each init value the database does not hold', async () => {
    const r = await cli({ ...env, FLAGHOST_INIT_PROJECT_TOKEN: 'phc_notthedatabasestoken0000' }, ['init']);
    expect(r.code).toBe(0);
    expect(r.out.initialised).toBe(false);
    // The first start's key was revoked by reset-admin-key above: it is not in effect any more.
    expect(r.out.ignored_variables.map((i: { variable: string }) => i.variable)).toEqual(['FLAGHOST_INIT_PERSONAL_API_KEY', 'FLAGHOST_INIT_PROJECT_TOKEN']);
    expect(r.stderr).toContain('flaghost: FLAGHOST_INIT_PROJECT_TOKEN is ignored: no project has this token');
  });

  it('SIGTERM removes the socket and the lock; after a crash the CLI opens the database itself and a restart replaces the stale socket', async () => {
    expect(await server.stop()).toBe(0);
    expect(fs.existsSync(sock)).toBe(false);
    expect(fs.existsSync(path.join(env.FLAGHOST_DATA_DIR, 'flaghost.lock'))).toBe(false);

    const crashed = startServer(env);
    await crashed.url();
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    expect(fs.existsSync(sock)).toBe(true);

    const direct = await cli(env, ['projects', 'list']);
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stderr).toBe(`flaghost: embedded database in ${env.FLAGHOST_DATA_DIR} (FLAGHOST_DATA_DIR)\n`);
    console.log(`without a server: the same command takes ${direct.ms.toFixed(0)} ms as a new process (it opens the database)`);

    server = startServer(env);
    url = await server.url();
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
    const through = await cli(env, ['projects', 'list']);
    expect(through.stderr).toContain(`through the server running on it (pid ${server.child.pid})`);
  });

  it('run from a directory without a database, with FLAGHOST_DATA_DIR unset: refuses and names the directory; nothing is created', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-elsewhere-'));
    try {
      const r = await cli({}, ['keys', 'list', '--email', EMAIL], { cwd: elsewhere });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.err.error).toBe(
        `No flaghost database in ${path.join(fs.realpathSync(elsewhere), 'data')} (FLAGHOST_DATA_DIR is unset: ./data of the current directory). Point FLAGHOST_DATA_DIR at the server's data directory (or set DATABASE_URL), or run \`flaghost init\` to create a new database there.`,
      );
      expect(fs.readdirSync(elsewhere)).toEqual([]);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

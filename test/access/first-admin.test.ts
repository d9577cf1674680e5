// How people get passwords: the first start (FLAGHOST_INIT_ADMIN_PASSWORD, or a one-time link valid
// 24 hours), the CLI (`users create --password-stdin`, `users set-password`), and no password, hash
// or session token in any log line or API answer. Real server and CLI processes.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { ENV_VARIABLES } from '../../src/platform/config.ts';
import { main } from '../../src/cli.ts';
import { createTestApp, freshPostgres } from '../helpers/app.ts';
import { cookiesOf } from '../helpers/session.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'flaghost.mjs');
const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

/** A fresh database for one process family: a PGlite directory, or a PostgreSQL database. */
async function freshDatabaseEnv(): Promise<Record<string, string>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-signin-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  if (!process.env.DATABASE_URL) return { FLAGHOST_DATA_DIR: dir };
  const db = await freshPostgres(process.env.DATABASE_URL);
  cleanups.push(db.drop);
  return { DATABASE_URL: db.url, FLAGHOST_SECRET_KEY: 'test-secret-key-0123456789abcdef', FLAGHOST_DATA_DIR: dir };
}

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ENV_VARIABLES) delete base[name];
  delete base.NODE_OPTIONS;
  return { ...base, PORT: '0', ...extra };
}

function startServer(extra: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return {
    output: () => output,
    async url(): Promise<string> {
      for (let i = 0; i < 600; i++) {
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) return match[1];
        if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`server did not start: ${output}`);
    },
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.on('exit', r));
    },
  };
}

function cliProcess(extra: Record<string, string>, stdin: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: env(extra), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const clean of cleanups.reverse()) await clean();
});

const login = (url: string, email: string, password: string) => supertest(url).post('/api/login').send({ email, password });

describe('the first admin', () => {
  it('FLAGHOST_INIT_ADMIN_PASSWORD: the admin signs in with it, and no log line or answer holds a password, hash or token', async () => {
    const password = 'init-admin-password-1';
    const server = startServer({
      ...(await freshDatabaseEnv()),
      LOG_LEVEL: 'trace',
      FLAGHOST_INIT_ADMIN_EMAIL: 'boss@example.com',
      FLAGHOST_INIT_ADMIN_PASSWORD: password,
    });
    const url = await server.url();
    expect(server.output()).not.toMatch(/\/reset\//);
    expect((await login(url, 'boss@example.com', 'wrong-password-1')).status).toBe(400);
    const ok = await login(url, 'boss@example.com', password);
    expect(ok.status).toBe(200);
    const jar = cookiesOf(ok.headers['set-cookie'] as unknown as string[]);
    const cookie = `sessionid=${jar.sessionid}; csrftoken=${jar.csrftoken}`;
    const answers: string[] = [JSON.stringify(ok.body)];
    const me = await supertest(url).get('/api/users/@me/').set('Cookie', cookie);
    answers.push(JSON.stringify(me.body));
    answers.push(JSON.stringify((await supertest(url).get('/api/organizations/@current/members/').set('Cookie', cookie)).body));
    const changed = await supertest(url)
      .patch('/api/users/@me/')
      .set('Cookie', cookie)
      .set('X-CSRFToken', jar.csrftoken)
      .set('Origin', url)
      .send({ current_password: password, password: 'second-admin-password' });
    expect(changed.status).toBe(200);
    answers.push(JSON.stringify(changed.body));
    await new Promise((r) => setTimeout(r, 200));
    const everything = server.output() + answers.join('\n');
    for (const secret of [password, 'wrong-password-1', 'second-admin-password', jar.sessionid, jar.csrftoken, 'scrypt$']) {
      expect(everything, secret).not.toContain(secret);
    }
    // The logs did record these requests (so the check above looked at something).
    expect(server.output()).toMatch(/\/api\/login/);
    await server.stop();
  }, 180_000);

  it('without it, first start prints a one-time link: the page checks it, sets the password and is signed in; the link works once', async () => {
    const server = startServer({ ...(await freshDatabaseEnv()), LOG_LEVEL: 'info' });
    const url = await server.url();
    const link = /(http:\/\/\S+\/reset\/([0-9a-f-]{36})\/(\S+))/.exec(server.output());
    expect(link, server.output()).not.toBeNull();
    const [, , uuid, token] = link!;
    expect((await supertest(url).get(`/api/reset/${uuid}/?token=${token}`)).status).toBe(200);
    const bad = await supertest(url).get(`/api/reset/${uuid}/?token=nope`);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ type: 'validation_error', code: 'invalid_token', detail: 'This reset token is invalid or has expired.', attr: 'token' });
    const short = await supertest(url).post(`/api/reset/${uuid}/`).send({ token, password: 'short' });
    expect(short.body).toMatchObject({ code: 'invalid', attr: 'password' });
    const set = await supertest(url).post(`/api/reset/${uuid}/`).send({ token, password: 'first-admin-password' });
    expect(set.status).toBe(200);
    const jar = cookiesOf(set.headers['set-cookie'] as unknown as string[]);
    expect((await supertest(url).get('/api/users/@me/').set('Cookie', `sessionid=${jar.sessionid}`)).body.email).toBe('admin@flaghost.local');
    expect((await supertest(url).post(`/api/reset/${uuid}/`).send({ token, password: 'another-password-1' })).status).toBe(400);
    expect((await login(url, 'admin@flaghost.local', 'first-admin-password')).status).toBe(200);
    expect((await login(url, 'admin@flaghost.local', 'another-password-1')).status).toBe(400);
    await server.stop();
  }, 180_000);

  it('the link expires after 24 hours', async () => {
    let clock = Date.parse('2031-05-01T00:00:00Z');
    const t = await createTestApp({ now: () => new Date(clock) });
    try {
      const uuid = t.boot.user.uuid;
      const token = t.boot.passwordSetupToken!;
      clock += 23 * 3_600_000;
      expect((await t.http.get(`/api/reset/${uuid}/?token=${token}`)).status).toBe(200);
      clock += 2 * 3_600_000;
      expect((await t.http.get(`/api/reset/${uuid}/?token=${token}`)).status).toBe(400);
      expect((await t.http.post(`/api/reset/${uuid}/`).send({ token, password: 'too-late-password' })).status).toBe(400);
    } finally {
      await t.close();
    }
  });
});

describe('the CLI', () => {
  it('users create --password-stdin and users set-password (stdin) give people passwords, never echoed', async () => {
    const db = await freshDatabaseEnv();
    // --init: the CLI initialises an empty database only when asked to.
    const created = await cliProcess(db, 'created-password-1\n', 'users', 'create', '--email', 'dev@example.com', '--password-stdin', '--init');
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ email: 'dev@example.com', has_password: true });
    const changed = await cliProcess(db, 'changed-password-1\n', 'users', 'set-password', '--email', 'dev@example.com');
    expect(changed.code, changed.stderr).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ email: 'dev@example.com', has_password: true });
    const weak = await cliProcess(db, 'short\n', 'users', 'set-password', '--email', 'dev@example.com', '--password-stdin');
    expect(weak.code).toBe(1);
    expect(JSON.parse(weak.stderr.trim().split('\n').at(-1)!)).toEqual({ error: 'This password is too short. It must contain at least 8 characters.' });
    const unknown = await cliProcess(db, 'changed-password-1\n', 'users', 'set-password', '--email', 'nobody@example.com');
    expect(unknown.code).toBe(1);
    for (const out of [created, changed, weak, unknown]) expect(out.stdout + out.stderr).not.toMatch(/created-password-1|changed-password-1|scrypt\$/);

    const server = startServer(db);
    const url = await server.url();
    expect((await login(url, 'dev@example.com', 'created-password-1')).status).toBe(400);
    expect((await login(url, 'dev@example.com', 'changed-password-1')).status).toBe(200);
    await server.stop();
  }, 300_000);

  it('users set-password prompts (twice) when it is not told to read stdin and runs on a terminal', async () => {
    const db = await freshDatabaseEnv();
    let out = '';
    let err = '';
    const io = { out: (s: string) => (out += s), err: (s: string) => (err += s) };
    const asked: boolean[] = [];
    const code = await main(['users', 'set-password', '--email', 'admin@flaghost.local', '--init'], io, env(db), async (fromStdin) => {
      asked.push(fromStdin);
      return 'prompted-password-1';
    });
    expect(code, err).toBe(0);
    expect(asked).toEqual([false]);
    expect(JSON.parse(out)).toMatchObject({ email: 'admin@flaghost.local', has_password: true });
    expect(out + err).not.toContain('prompted-password-1');
    // First use of an empty database: the notice carries the set-up link too.
    expect(JSON.parse(err.split('\n').find((line) => line.startsWith('{'))!).password_setup_link).toMatch(/\/reset\/[0-9a-f-]{36}\//);
  }, 180_000);
});

// A first start that cannot mislead: HOST and PORT are checked before anything is written (no
// database initialised, no one-time key printed, no stack trace), PostgreSQL without
// FLAGHOST_SECRET_KEY is refused, and FLAGHOST_INIT_* values an initialised database does not hold
// are named in a warning. Real server processes.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freshPostgres } from '../helpers/app.ts';
import { killAll, startServer } from '../helpers/processes.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-first-start-'));
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  killAll();
  for (const clean of cleanups) await clean();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Exit code and output of a server that is expected to refuse to start. */
async function refused(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const server = startServer(env);
  const code = await server.exited;
  return { code, output: server.output() };
}

function expectNothingWritten(output: string, dataDir: string): void {
  expect(output).not.toMatch(/initialised an empty database|personal API key|phx_/);
  // One line, no stack trace.
  expect(output.trim().split('\n')).toHaveLength(1);
  expect(output).not.toMatch(/\n\s+at /);
  expect(fs.existsSync(dataDir)).toBe(false);
}

describe('a first start', { timeout: 180_000 }, () => {
  it('with the port in use: a one-line error before the database is created', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const dataDir = path.join(dir, 'port-in-use');
      const r = await refused({ FLAGHOST_DATA_DIR: dataDir, PORT: String(port) });
      expect(r.code).toBe(1);
      expect(r.output.trim()).toBe(`Cannot listen on 127.0.0.1:${port}: another process already uses port ${port}. Stop it, or set PORT to a free port.`);
      expectNothingWritten(r.output, dataDir);
    } finally {
      blocker.close();
    }
  });

  it("with a HOST that is not this machine's, or does not resolve: a one-line error before the database is created", async () => {
    const notHere = path.join(dir, 'not-here');
    const a = await refused({ FLAGHOST_DATA_DIR: notHere, HOST: '192.0.2.1', PORT: '8000' });
    expect(a.code).toBe(1);
    expect(a.output.trim()).toBe(
      "Cannot listen on 192.0.2.1:8000: 192.0.2.1 is not an address of this machine (HOST). Use 127.0.0.1, 0.0.0.0 (every interface) or one of this machine's addresses.",
    );
    expectNothingWritten(a.output, notHere);

    const unresolved = path.join(dir, 'unresolved');
    const b = await refused({ FLAGHOST_DATA_DIR: unresolved, HOST: 'flaghost-no-such-host.invalid', PORT: '8000' });
    expect(b.code).toBe(1);
    expect(b.output.trim()).toBe(
      'Cannot listen on flaghost-no-such-host.invalid:8000: the host name flaghost-no-such-host.invalid does not resolve (HOST). Use an IP address such as 127.0.0.1 or 0.0.0.0.',
    );
    expectNothingWritten(b.output, unresolved);
  });

  it('on PostgreSQL without FLAGHOST_SECRET_KEY: refused, and nothing is written to the database or the data directory', async () => {
    const dataDir = path.join(dir, 'pg-no-secret');
    let url = 'postgres://postgres@127.0.0.1:1/flaghost';
    if (process.env.DATABASE_URL) {
      const db = await freshPostgres(process.env.DATABASE_URL);
      cleanups.push(db.drop);
      url = db.url;
    }
    const r = await refused({ DATABASE_URL: url, FLAGHOST_DATA_DIR: dataDir });
    expect(r.code).toBe(2);
    expect(r.output).toMatch(
      /^Invalid configuration:\n {2}FLAGHOST_SECRET_KEY: required with DATABASE_URL \(PostgreSQL\): every instance on the database must encrypt flag payloads with the same key/,
    );
    expect(r.output).toContain('use the content of secret.key in the data directory');
    expect(fs.existsSync(dataDir)).toBe(false);
    if (process.env.DATABASE_URL) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query("select count(*)::int as n from information_schema.tables where table_schema in ('public', 'drizzle')");
      await client.end();
      expect(rows[0].n).toBe(0);
    }
  });

  it('FLAGHOST_INIT_* set after the first start: a warning names each one the database does not hold', async () => {
    const dataDir = path.join(dir, 'init-later');
    const first = startServer({ FLAGHOST_DATA_DIR: dataDir });
    await first.url();
    const printedKey = /personal API key\s+(phx_\w+)/.exec(first.output())![1];
    expect(await first.stop()).toBe(0);

    // What the README's curl examples assume, set one start too late.
    const late = {
      FLAGHOST_INIT_PERSONAL_API_KEY: 'phx_readmeexamplekey00000000000',
      FLAGHOST_INIT_PROJECT_TOKEN: 'phc_readmeexampletoken000000000',
      FLAGHOST_INIT_SECRET_TOKEN: 'phs_readmeexamplesecret00000000',
      FLAGHOST_INIT_ADMIN_PASSWORD: 'a-password-set-too-late',
      // In effect (the first start's default admin): not named.
      FLAGHOST_INIT_ADMIN_EMAIL: 'admin@flaghost.local',
    };
    const second = startServer({ FLAGHOST_DATA_DIR: dataDir, ...late });
    await second.url();
    const warnings = second
      .output()
      .split('\n')
      .filter((l) => l.includes('"level":40'))
      .map((l) => JSON.parse(l) as { variable?: string; msg: string });
    const named = warnings.filter((w) => w.variable).map((w) => w.variable);
    expect(named).toEqual(['FLAGHOST_INIT_ADMIN_PASSWORD', 'FLAGHOST_INIT_PERSONAL_API_KEY', 'FLAGHOST_INIT_PROJECT_TOKEN', 'FLAGHOST_INIT_SECRET_TOKEN']);
    expect(warnings.find((w) => w.variable === 'FLAGHOST_INIT_PERSONAL_API_KEY')!.msg).toBe(
      'FLAGHOST_INIT_PERSONAL_API_KEY is ignored: no personal API key has this value, so requests with it get 401; FLAGHOST_INIT_* only apply to an empty database (README "First start"). Get a key with `flaghost reset-admin-key` or `flaghost keys create`.',
    );
    // Values never reach the log.
    for (const value of Object.values(late)) if (value !== 'admin@flaghost.local') expect(second.output()).not.toContain(value);
    expect(second.output()).not.toMatch(/initialised an empty database/);
    expect(await second.stop()).toBe(0);

    // The key that was printed is in effect: no warning for it.
    const third = startServer({ FLAGHOST_DATA_DIR: dataDir, FLAGHOST_INIT_PERSONAL_API_KEY: printedKey });
    const url3 = await third.url();
    expect(third.output()).not.toContain('"level":40');
    expect((await fetch(`${url3}/api/users/@me/`, { headers: { authorization: `Bearer ${printedKey}` } })).status).toBe(200);
    expect(await third.stop()).toBe(0);
  });
});

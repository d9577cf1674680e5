// Backups. The embedded database: `flaghost backup` while the server runs and is being written to,
// `flaghost restore` into a fresh directory, a server started on it with every flag, cohort, key and
// activity entry intact; what restore refuses. PostgreSQL: the README's pg_dump/pg_restore commands
// on a database flaghost used, and flaghost started on the restored copy. Real processes.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freshPostgres } from '../helpers/app.ts';
import { cli, killAll, processEnv, startServer } from '../helpers/processes.ts';
import { readmeBlock } from '../helpers/readme.ts';
import { main } from '../../src/cli.ts';
import { observe, seed } from '../helpers/restore-check.ts';

const KEY = 'phx_backupadminkey000000000000000000000';
const TOKEN = 'phc_backupprojecttoken0000000000000000';
const init = { FLAGHOST_INIT_PERSONAL_API_KEY: KEY, FLAGHOST_INIT_PROJECT_TOKEN: TOKEN };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-backup-'));
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  killAll();
  for (const clean of cleanups) await clean();
  fs.rmSync(dir, { recursive: true, force: true });
});

const createFlag = (url: string, key: string) =>
  fetch(`${url}/api/projects/1/feature_flags/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key, filters: { groups: [{ rollout_percentage: 20 }] } }),
  });

/**
 * The slowest /flags answer while `during` runs, probing every 20 ms. The request carries the person
 * property the cohort flag reads, so it is answered from memory (a flag needing stored person data
 * waits for the database, which a backup holds for its copy).
 */
async function slowestFlagsAnswer(url: string, during: Promise<unknown>): Promise<number> {
  let done = false;
  void during
    .finally(() => (done = true))
    .catch(() => {
      // The backup's own outcome is checked by the caller; here it only ends the sampling.
    });
  let slowest = 0;
  do {
    const started = performance.now();
    const res = await fetch(`${url}/flags?v=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: TOKEN, distinct_id: 'probe', person_properties: { plan: 'free' } }),
    });
    await res.arrayBuffer();
    slowest = Math.max(slowest, performance.now() - started);
    await new Promise((r) => setTimeout(r, 20));
  } while (!done);
  await during;
  return slowest;
}

// The restore tests use the backup and the restored directory the first test made: the tests keep
// their order when CI shuffles.
describe.skipIf(Boolean(process.env.DATABASE_URL))('flaghost backup and restore, embedded database', { timeout: 300_000, shuffle: false }, () => {
  const source = { FLAGHOST_DATA_DIR: path.join(dir, 'source'), ...init };
  const target = { FLAGHOST_DATA_DIR: path.join(dir, 'target') };
  const file = path.join(dir, 'flaghost.tar.gz');

  it('a backup made while the server runs and writes restores into a fresh directory with everything intact', async () => {
    const server = startServer(source);
    const url = await server.url();
    const seeded = await seed(url, KEY);
    const before = await observe(url, KEY, seeded, TOKEN);

    // Flags keep being created, one after another (about ten a second), while the backup runs.
    const created: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const res = await createFlag(url, `written-${i}`);
        if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
        created.push(`written-${i}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    while (created.length < 3) await new Promise((r) => setTimeout(r, 50));
    const acknowledgedBefore = created.length;
    const backup = await cli(source, ['backup', '--out', file]);
    writing = false;
    await writer;
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stderr).toContain(`backed up by the server running on it (pid ${server.child.pid})`);
    expect(backup.out).toMatchObject({ file, payload_key: 'secret.key', data_dir: source.FLAGHOST_DATA_DIR });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(backup.out.bytes).toBe(fs.statSync(file).size);
    const blocked = /"databaseBlockedMs":(\d+)/.exec(server.output())?.[1];
    expect(blocked).toBeDefined();

    // While a backup runs, /flags keeps answering from memory. (The CLI runs in this process here, so
    // that starting a Node process does not compete for the CPU; snapshots rebuilt first.)
    await new Promise((r) => setTimeout(r, 1000));
    await slowestFlagsAnswer(url, Promise.resolve());
    const quiet = { out: () => undefined, err: () => undefined };
    const slowest = await slowestFlagsAnswer(url, main(['backup', '--out', path.join(dir, 'second.tar.gz')], quiet, processEnv(source)));
    console.log(
      `backup: ${(backup.out.bytes / 1e6).toFixed(1)} MB in ${(backup.ms / 1000).toFixed(1)} s (CLI process included); the database was held ${blocked} ms for the copy; slowest /flags answer during a second backup: ${slowest.toFixed(0)} ms`,
    );
    expect(slowest).toBeLessThan(1000);

    // No server may run on the directory a restore writes into.
    const busy = await cli(source, ['restore', file]);
    expect(busy.code).toBe(1);
    expect(busy.err.error).toBe(
      `A flaghost server (pid ${server.child.pid}) is running on ${source.FLAGHOST_DATA_DIR}: stop it before restoring (a restore replaces the database under it).`,
    );
    expect(await server.stop()).toBe(0);

    const restored = await cli(target, ['restore', file]);
    expect(restored.code, restored.stderr).toBe(0);
    console.log(`restore: ${(restored.ms / 1000).toFixed(1)} s (CLI process included)`);
    expect(restored.out).toMatchObject({
      restored: true,
      data_dir: target.FLAGHOST_DATA_DIR,
      replaced_existing_database: false,
      payload_key: 'secret.key restored',
    });
    expect(restored.out.counts).toEqual(backup.out.counts);
    expect(fs.readFileSync(path.join(target.FLAGHOST_DATA_DIR, 'secret.key'), 'utf8')).toBe(
      fs.readFileSync(path.join(source.FLAGHOST_DATA_DIR, 'secret.key'), 'utf8'),
    );

    const again = startServer(target);
    const url2 = await again.url();
    expect(again.output()).not.toMatch(/initialised an empty database|"level":[45]0/);
    const after = await observe(url2, KEY, seeded, TOKEN);
    // Every flag the writer had created by then, and a consistent cut of the others: flags are
    // created one after another, so what is restored is a prefix of them, each with its activity.
    const written = (flags: Array<{ key: string }>) => flags.map((f) => f.key).filter((k) => k.startsWith('written-'));
    const restoredWritten = written(after.flags);
    expect(restoredWritten.length).toBeGreaterThanOrEqual(acknowledgedBefore);
    expect([...restoredWritten].sort()).toEqual(created.slice(0, restoredWritten.length).sort());
    const createdActivity = after.flagActivity.filter(
      (a: { activity: string; detail: { name: string } }) => a.activity === 'created' && a.detail.name.startsWith('written-'),
    );
    expect(createdActivity).toHaveLength(restoredWritten.length);
    const without = <T extends { key?: string; detail?: { name: string } }>(items: T[]) =>
      items.filter((i) => !(i.key ?? i.detail?.name ?? '').startsWith('written-'));
    expect({ ...after, flags: without(after.flags), flagActivity: without(after.flagActivity), decisions: undefined }).toEqual({
      ...before,
      flags: without(before.flags),
      flagActivity: without(before.flagActivity),
      decisions: undefined,
    });
    for (const [flag, decision] of Object.entries(before.decisions)) expect(after.decisions[flag], flag).toEqual(decision);
    expect(after.payload).toBe('{"password": "hunter2"}');
    expect(await again.stop()).toBe(0);
  });

  it('restore refuses a directory that holds a database without --force, and a damaged file; --force replaces only once the restore succeeded', async () => {
    const refused = await cli(target, ['restore', file]);
    expect(refused.code).toBe(1);
    expect(refused.err.error).toBe(
      `${target.FLAGHOST_DATA_DIR} already holds a flaghost database (${path.join(target.FLAGHOST_DATA_DIR, 'pglite')}). Restore into an empty directory, or pass --force to replace it.`,
    );

    // A backup made without a server (the CLI opens the database), with one more flag.
    const server = startServer(target);
    const url = await server.url();
    expect((await createFlag(url, 'after-restore')).status).toBe(201);
    expect(await server.stop()).toBe(0);
    const offline = path.join(dir, 'offline.tar.gz');
    const made = await cli(target, ['backup', '--out', offline]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toBe(`flaghost: embedded database in ${target.FLAGHOST_DATA_DIR} (FLAGHOST_DATA_DIR)\n`);

    const bytes = fs.readFileSync(offline);
    const truncated = path.join(dir, 'truncated.tar.gz');
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const notBackup = path.join(dir, 'not-a-backup.tar.gz');
    fs.writeFileSync(notBackup, 'hello\n');
    for (const bad of [truncated, notBackup]) {
      const r = await cli(target, ['restore', bad, '--force']);
      expect(r.code, bad).toBe(1);
      expect(r.err.error).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a readable flaghost backup`));
    }
    // The damaged files changed nothing: the database is the one with 'after-restore'.
    const replaced = await cli(target, ['restore', file, '--force']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.out.replaced_existing_database).toBe(true);
    expect(fs.readdirSync(target.FLAGHOST_DATA_DIR).sort()).toEqual(['pglite', 'pglite.synced', 'secret.key']);
    const check = startServer(target);
    const url2 = await check.url();
    const keys = (await (await fetch(`${url2}/api/projects/1/feature_flags/?limit=1000`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
      results: Array<{ key: string }>;
    };
    expect(keys.results.map((f) => f.key)).not.toContain('after-restore');
    expect(await check.stop()).toBe(0);

    const back = await cli(target, ['restore', offline, '--force']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.out.counts.feature_flags).toBe(made.out.counts.feature_flags);
  });

  it('on PostgreSQL, backup and restore point at pg_dump', async () => {
    const r = await cli({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/flaghost' }, ['backup', '--out', path.join(dir, 'pg.tar.gz')]);
    expect(r.code).toBe(1);
    expect(r.err.error).toMatch(/^flaghost backup and restore are for the embedded database\. On PostgreSQL use pg_dump and pg_restore/);
  });
});

const POSTGRES = Boolean(process.env.DATABASE_URL);
const run = promisify(execFile);

describe.skipIf(!POSTGRES)("backups on PostgreSQL: the README's pg_dump and pg_restore", { timeout: 300_000 }, () => {
  it('a dump taken while flaghost runs restores into a fresh database that flaghost starts on with everything intact', async () => {
    const secret = { FLAGHOST_SECRET_KEY: 'pg-backup-secret-0123456789abcdef' };
    const original = await freshPostgres(process.env.DATABASE_URL!);
    const copy = await freshPostgres(process.env.DATABASE_URL!);
    cleanups.push(original.drop, copy.drop);
    const env = { DATABASE_URL: original.url, FLAGHOST_DATA_DIR: path.join(dir, 'pg-original'), ...secret, ...init };
    const server = startServer(env);
    const url = await server.url();
    const seeded = await seed(url, KEY);
    for (let i = 0; i < 5; i++) expect((await createFlag(url, `written-${i}`)).status).toBe(201);
    const before = await observe(url, KEY, seeded, TOKEN);

    const work = fs.mkdtempSync(path.join(dir, 'pg-dump-'));
    const script = readmeBlock('pg-backup');
    await run('bash', ['-euo', 'pipefail', '-c', script], { cwd: work, env: processEnv({ DATABASE_URL: original.url, NEW_DATABASE_URL: copy.url }) });
    expect(await server.stop()).toBe(0);

    const restored = startServer({ DATABASE_URL: copy.url, FLAGHOST_DATA_DIR: path.join(dir, 'pg-copy'), ...secret });
    const url2 = await restored.url();
    expect(restored.output()).not.toMatch(/initialised an empty database|"level":[45]0/);
    const after = await observe(url2, KEY, seeded, TOKEN);
    expect(after).toEqual(before);
    expect(after.flags.map((f: { key: string }) => f.key)).toEqual(expect.arrayContaining(['secret-config', 'checkout', 'written-4']));
    expect(after.payload).toBe('{"password": "hunter2"}');
    expect(await restored.stop()).toBe(0);
  });
});

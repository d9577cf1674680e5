// The client-side deadlines of database calls, on a PostgreSQL cluster of the test's own (one of
// its backends is frozen with SIGSTOP): a statement past its timeout, a connection whose server
// process stops answering while the server itself is fine, and a transaction held too long.
// PostgreSQL only (DATABASE_URL set).
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config.ts';
import { openDatabase, type Database } from '../../../src/platform/db/index.ts';
import { databaseFailure } from '../../../src/platform/db/errors.ts';
import { rowsOf } from '../../../src/platform/db/sql.ts';
import { PgCluster } from '../../helpers/pg-cluster.ts';

const POSTGRES = Boolean(process.env.DATABASE_URL);

let cluster: PgCluster;
let database: Database;

beforeAll(async () => {
  if (!POSTGRES) return;
  cluster = await PgCluster.create();
  // Statement timeout 500 ms: the query deadline is 1.5 s, the transaction deadline 2 s. One
  // connection, so that the test knows which server process serves the next query.
  const config = loadConfig({ DATABASE_URL: cluster.url, FLAGHOST_DB_STATEMENT_TIMEOUT_MS: '500', FLAGHOST_DB_POOL_SIZE: '1' });
  database = await openDatabase(config.database);
  await database.db.execute(sql`create table marks (id int primary key)`);
});

afterAll(async () => {
  if (!cluster) return;
  cluster.thaw();
  await Promise.race([database?.close(), new Promise((r) => setTimeout(r, 10_000))]);
  await cluster.remove();
});

async function failureOf(work: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

const stillWorks = async () => rowsOf<{ ok: number }>(await database.db.execute(sql`select 1 as ok`))[0].ok;

describe.skipIf(!POSTGRES)('database deadlines', () => {
  it('a statement past the statement timeout fails as a timeout (a 503, not a 500)', async () => {
    const { error, ms } = await failureOf(database.db.execute(sql`select pg_sleep(5)`));
    expect(databaseFailure(error)).toEqual({ kind: 'timeout', what: 'query_canceled' });
    expect(ms).toBeLessThan(3000);
    expect(await stillWorks()).toBe(1);
  });

  it('a connection whose server process stops answering fails at the query deadline; the pool carries on', async () => {
    const backend = rowsOf<{ pid: number }>(await database.db.execute(sql`select pg_backend_pid() as pid`))[0].pid;
    process.kill(backend, 'SIGSTOP');
    const { error, ms } = await failureOf(database.db.execute(sql`select 1`));
    process.kill(backend, 'SIGCONT');
    expect(databaseFailure(error)).toEqual({ kind: 'timeout', what: 'client_timeout' });
    expect(ms).toBeGreaterThanOrEqual(1400);
    expect(ms).toBeLessThan(5000);
    // The rest of the server answered all along: it is not taken for down.
    expect(database.health.available).toBe(true);
    expect(await stillWorks()).toBe(1);
  });

  it('a transaction held past its deadline is cut: it fails, and its work is rolled back on the server', async () => {
    const { error } = await failureOf(
      database.db.transaction(async (tx) => {
        await tx.execute(sql`insert into marks values (1)`);
        await new Promise((r) => setTimeout(r, 2500));
        await tx.execute(sql`insert into marks values (2)`);
      }),
    );
    expect(databaseFailure(error)).toBeDefined();
    expect(rowsOf(await database.db.execute(sql`select id from marks`))).toEqual([]);
    // Its row lock is gone too: the same key can be written at once.
    await database.db.execute(sql`insert into marks values (1)`);
    expect(await stillWorks()).toBe(1);
  });
});

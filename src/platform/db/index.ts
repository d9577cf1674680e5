// openDatabase(config): one Drizzle API over node-postgres (DATABASE_URL set) or embedded PGlite.
import fs from 'node:fs';
import path from 'node:path';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';
import pg from 'pg';
import type { DatabaseConfig } from '../config.ts';
import * as schema from './schema.ts';
import { PACKAGE_ROOT } from '../paths.ts';
import { acquireDataDirLock, type DataDirLock } from './lock.ts';
import { alwaysAvailable, DatabaseMonitor, monitoredPool, type DatabaseHealth } from './health.ts';
import { ChangeListener, CHANGES_CHANNEL } from './listener.ts';
import { DurableNodeFS, forgetDataDirSynced, pgliteStartParams, syncDataDirOnce } from './pglite-fs.ts';
import { countPgliteErrors, newQueryErrorCounts, type DatabaseStats } from './stats.ts';

export type Schema = typeof schema;
/** The Drizzle handle both drivers share; a transaction handle has the same type. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export const MIGRATIONS_DIR = path.join(PACKAGE_ROOT, 'migrations');

export interface Database {
  kind: 'postgres' | 'pglite';
  db: Db;
  /** Whether the server answers; PostgreSQL only (PGlite is always there). */
  health: DatabaseHealth;
  /** Applies pending migrations (under an advisory lock on PostgreSQL, so instances can start together). */
  migrate(): Promise<void>;
  /**
   * Subscribes to change notifications from other instances (no-op on PGlite: one process). The
   * subscription outlives outages: `onReconnect` runs each time it is re-established, because
   * notifications sent meanwhile are lost.
   */
  listen(onNotify: (payload: string) => void, onReconnect?: () => void): Promise<void>;
  /** Pool use and failed statements so far, for /metrics. */
  stats(): DatabaseStats;
  close(): Promise<void>;
  /** The embedded database's files, for backups (PGlite in a data directory only). */
  embedded?: EmbeddedFiles;
}

export type Rows = Array<Record<string, unknown>>;

export interface EmbeddedFiles {
  /** PGlite's data directory, `<FLAGHOST_DATA_DIR>/pglite`. */
  dir: string;
  /**
   * Runs `fn` inside a transaction that keeps every other statement waiting: meanwhile the files
   * under `dir` do not change, so a copy of them is a consistent database (see
   * src/platform/db/embedded-backup.ts). `query` runs SQL in that transaction.
   */
  quiesce<T>(fn: (query: (text: string) => Promise<Rows>) => Promise<T>): Promise<T>;
}

export const changesChannel = CHANGES_CHANNEL;

export interface OpenOptions {
  /** A PGlite data-directory dump to start from (tests clone a migrated template). */
  pgliteLoadDataDir?: Blob;
}

export async function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Promise<Database> {
  return config.url ? openPostgres(config) : openPglite(config, options);
}

/** The client-side deadlines, derived from the configured timeouts (the README lists them). */
export function databaseDeadlines(config: DatabaseConfig) {
  return {
    /** The server cancels a statement at statement_timeout; past this, its answer is not coming. */
    queryMs: config.statementTimeoutMs + 1000,
    /** A connection checked out of the pool (a transaction: a few statements and the time between them). */
    transactionMs: config.statementTimeoutMs * 2 + 1000,
    /** Connect and `select 1` on a fresh connection when a query has been outstanding for a second. */
    probeMs: Math.min(config.connectionTimeoutMs, 2000),
  };
}

async function openPostgres(config: DatabaseConfig): Promise<Database> {
  const url = config.url!;
  const deadlines = databaseDeadlines(config);
  const clientOptions: pg.ClientConfig = {
    connectionString: url,
    connectionTimeoutMillis: config.connectionTimeoutMs,
    statement_timeout: config.statementTimeoutMs,
    query_timeout: deadlines.queryMs,
    // A transaction left open by a crashed request must not hold row locks forever.
    idle_in_transaction_session_timeout: Math.max(config.statementTimeoutMs * 2, 60_000),
    application_name: 'flaghost',
    // Every statement flaghost sends is short. PostgreSQL's JIT compiles a plan whose estimated cost
    // passes jit_above_cost at each execution (prepared ones too): with a million persons the
    // stored-context statement's estimate did, and each /flags lookup spent ~3 s compiling
    // (docs/architecture.md#stored-persons-on-flags).
    options: '-c jit=off',
  };
  const monitor = new DatabaseMonitor({ clientOptions, probeTimeoutMs: deadlines.probeMs, transactionDeadlineMs: deadlines.transactionMs });
  const pool = monitoredPool(monitor, { ...clientOptions, max: config.poolSize, idleTimeoutMillis: 30_000 });
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  try {
    await pool.query('select 1');
  } catch (error) {
    monitor.close();
    await pool.end().catch(() => {
      // The connection error below is the one to report; a pool that never connected may fail to close too.
    });
    throw error;
  }

  let listener: ChangeListener | undefined;

  return {
    kind: 'postgres',
    db,
    health: monitor,
    async migrate() {
      const client = new pg.Client(clientOptions);
      await client.connect();
      try {
        await client.query('select pg_advisory_lock(hashtext($1))', ['flaghost_migrations']);
        await migratePg(drizzlePg(client, { schema }), { migrationsFolder: MIGRATIONS_DIR });
      } finally {
        await client.query('select pg_advisory_unlock(hashtext($1))', ['flaghost_migrations']).catch(() => {
          // The lock belongs to this session: ending the connection below releases it anyway, and a
          // migration error must not be replaced by this one.
        });
        await client.end();
      }
    },
    async listen(onNotify, onReconnect) {
      listener = new ChangeListener(clientOptions, monitor, onNotify, onReconnect);
      await listener.start();
    },
    stats: () => ({
      pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: config.poolSize },
      queryErrors: monitor.errors,
    }),
    async close() {
      monitor.close();
      await listener?.close();
      // A hung server never acknowledges the goodbye: don't let it hold the shutdown.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([pool.end(), new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
      clearTimeout(timer);
    },
  };
}

async function openPglite(config: DatabaseConfig, options: OpenOptions): Promise<Database> {
  let lock: DataDirLock | undefined;
  let client: PGlite;
  const load = options.pgliteLoadDataDir ? { loadDataDir: options.pgliteLoadDataDir } : {};
  let dir: string | undefined;
  if (config.dataDir === ':memory:') {
    client = new PGlite(load);
  } else {
    fs.mkdirSync(config.dataDir, { recursive: true });
    lock = acquireDataDirLock(config.dataDir);
    dir = path.join(config.dataDir, 'pglite');
    try {
      // See src/platform/db/pglite-fs.ts: without these, nothing PGlite writes is ever flushed to disk.
      client = new PGlite({
        fs: config.embeddedFsync ? new DurableNodeFS(dir) : new NodeFS(dir),
        startParams: pgliteStartParams(config.embeddedFsync),
        ...load,
      });
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  try {
    await client.waitReady;
    if (dir) {
      // Whatever was written with fsync off (PGlite's initdb, an older flaghost) reaches the disk now.
      const marker = path.join(config.dataDir, 'pglite.synced');
      if (config.embeddedFsync) syncDataDirOnce(dir, marker);
      else forgetDataDirSynced(marker);
    }
  } catch (err) {
    await client.close().catch(() => {
      // The start-up error below is the one to report; a database that never started may fail to close too.
    });
    lock?.release();
    throw err;
  }
  const queryErrors = newQueryErrorCounts();
  countPgliteErrors(client, queryErrors);
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    health: alwaysAvailable,
    stats: () => ({ queryErrors }),
    async migrate() {
      await migratePglite(drizzlePglite(client, { schema }), { migrationsFolder: MIGRATIONS_DIR });
    },
    async listen() {
      // One process owns an embedded database: no other instance's changes to listen for.
    },
    embedded: dir
      ? {
          dir,
          // PGlite's transaction() holds the lock that every query(), exec() and transaction() takes.
          quiesce: (fn) => client.transaction((tx) => fn(async (text) => (await tx.query<Record<string, unknown>>(text)).rows)),
        }
      : undefined,
    async close() {
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

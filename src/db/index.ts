// openDatabase(config): one Drizzle API over node-postgres (DATABASE_URL set) or embedded PGlite.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { acquireDataDirLock, type DataDirLock } from './lock.ts';
import { DurableNodeFS, forgetDataDirSynced, pgliteStartParams, syncDataDirOnce } from './pglite-fs.ts';

export type Schema = typeof schema;
/** The Drizzle handle both drivers share; a transaction handle has the same type. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');
const CHANGES_CHANNEL = 'flaghost_changes';

export interface Database {
  kind: 'postgres' | 'pglite';
  db: Db;
  /** Applies pending migrations (under an advisory lock on PostgreSQL, so instances can start together). */
  migrate(): Promise<void>;
  /** Subscribes to change notifications from other instances (no-op on PGlite: one process). */
  listen(onNotify: (payload: string) => void, onReconnect?: () => void): Promise<void>;
  close(): Promise<void>;
}

export const changesChannel = CHANGES_CHANNEL;

export interface OpenOptions {
  /** A PGlite data-directory dump to start from (tests clone a migrated template). */
  pgliteLoadDataDir?: Blob;
}

export async function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Promise<Database> {
  return config.url ? openPostgres(config) : openPglite(config, options);
}

async function openPostgres(config: DatabaseConfig): Promise<Database> {
  const url = config.url!;
  const clientOptions: pg.ClientConfig = {
    connectionString: url,
    connectionTimeoutMillis: config.connectionTimeoutMs,
    statement_timeout: config.statementTimeoutMs,
    // A transaction left open by a crashed request must not hold row locks forever.
    idle_in_transaction_session_timeout: Math.max(config.statementTimeoutMs * 2, 60_000),
    application_name: 'flaghost',
  };
  const pool = new pg.Pool({ ...clientOptions, max: config.poolSize, idleTimeoutMillis: 30_000 });
  // An idle client dying (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  await pool.query('select 1');

  let listener: pg.Client | undefined;
  let closed = false;

  return {
    kind: 'postgres',
    db,
    async migrate() {
      const client = new pg.Client(clientOptions);
      await client.connect();
      try {
        await client.query('select pg_advisory_lock(hashtext($1))', ['flaghost_migrations']);
        await migratePg(drizzlePg(client, { schema }), { migrationsFolder: MIGRATIONS_DIR });
      } finally {
        await client.query('select pg_advisory_unlock(hashtext($1))', ['flaghost_migrations']).catch(() => {});
        await client.end();
      }
    },
    async listen(onNotify, onReconnect) {
      const connect = async (): Promise<void> => {
        if (closed) return;
        const client = new pg.Client(clientOptions);
        client.on('notification', (msg) => {
          if (msg.channel === CHANGES_CHANNEL) onNotify(msg.payload ?? '');
        });
        client.on('error', () => {
          client.end().catch(() => {});
          if (listener === client) listener = undefined;
          if (!closed) setTimeout(() => { connect().then(() => onReconnect?.()).catch(() => {}); }, 1000).unref();
        });
        await client.connect();
        await client.query(`listen ${CHANGES_CHANNEL}`);
        listener = client;
      };
      await connect();
    },
    async close() {
      closed = true;
      await listener?.end().catch(() => {});
      await pool.end();
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
      // See src/db/pglite-fs.ts: without these, nothing PGlite writes is ever flushed to disk.
      client = new PGlite({ fs: config.embeddedFsync ? new DurableNodeFS(dir) : new NodeFS(dir), startParams: pgliteStartParams(config.embeddedFsync), ...load });
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
    await client.close().catch(() => {});
    lock?.release();
    throw err;
  }
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    async migrate() {
      await migratePglite(drizzlePglite(client, { schema }), { migrationsFolder: MIGRATIONS_DIR });
    },
    async listen() {},
    async close() {
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

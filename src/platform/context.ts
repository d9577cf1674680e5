// The application context every service receives, and `transact`: a transaction that, on
// commit, tells this instance (directly) and every other instance (NOTIFY) what changed.
import type { Config } from './config.ts';
import type { Database, Db } from './db/index.ts';
import { bumpProjectRevision, notifyAuthChanged } from './db/changes.ts';
import type { PayloadCipher } from './payload-crypto.ts';
import { payloadCipherProvider } from './secrets.ts';

type Listener<T> = (value: T) => void;

/** Fan-out of committed changes to in-memory caches (snapshots, auth cache). */
export class ChangeHub {
  private readonly projectListeners: Array<Listener<number>> = [];
  private readonly authListeners: Array<Listener<void>> = [];

  onProjectChanged(fn: Listener<number>): void {
    this.projectListeners.push(fn);
  }

  onAuthChanged(fn: Listener<void>): void {
    this.authListeners.push(fn);
  }

  projectChanged(projectId: number): void {
    for (const fn of this.projectListeners) fn(projectId);
  }

  authChanged(): void {
    for (const fn of this.authListeners) fn();
  }

  /** A NOTIFY payload from another instance: `project:<id>` or `auth`. */
  handleNotification(payload: string): void {
    if (payload === 'auth') this.authChanged();
    else if (payload.startsWith('project:')) {
      const id = Number(payload.slice('project:'.length));
      if (Number.isInteger(id)) this.projectChanged(id);
    }
  }
}

/**
 * Where services report failures they recover from or that happen outside any request (a
 * background write, a cache rebuild): the server's pino logger, or the CLI's stderr.
 */
export interface Log {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface AppContext {
  config: Config;
  database: Database;
  db: Db;
  changes: ChangeHub;
  now(): Date;
  log: Log;
  /** Seals and opens encrypted flag payloads (created on first use). */
  payloadCipher(): PayloadCipher;
}

export function createAppContext(config: Config, database: Database, log: Log, now: () => Date = () => new Date()): AppContext {
  return { config, database, db: database.db, changes: new ChangeHub(), now, log, payloadCipher: payloadCipherProvider(config) };
}

/** What a transaction changed, recorded as it runs and published once it commits. */
export class TxChanges {
  readonly projects = new Set<number>();
  auth = false;

  project(projectId: number): void {
    this.projects.add(projectId);
  }

  authChanged(): void {
    this.auth = true;
  }
}

/**
 * Runs `fn` in one transaction. Never use `ctx.db` inside `fn` (PGlite has one connection and
 * would deadlock): pass `tx` down.
 */
export async function transact<T>(ctx: AppContext, fn: (tx: Db, changes: TxChanges) => Promise<T>): Promise<T> {
  const changes = new TxChanges();
  const result = await ctx.db.transaction(async (tx) => {
    const value = await fn(tx as unknown as Db, changes);
    // Revision bumps go last so that the project row lock is held for the shortest time.
    for (const projectId of [...changes.projects].sort((a, b) => a - b)) await bumpProjectRevision(tx as unknown as Db, projectId);
    if (changes.auth) await notifyAuthChanged(tx as unknown as Db);
    return value;
  });
  for (const projectId of changes.projects) ctx.changes.projectChanged(projectId);
  if (changes.auth) ctx.changes.authChanged();
  return result;
}

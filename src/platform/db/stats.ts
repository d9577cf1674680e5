// What the database layer counts for /metrics (src/ops/metrics.ts): connections in the pool and
// statements that failed, by why. Plain counters: a failed statement costs an increment.
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { databaseFailure } from './errors.ts';

/**
 * unavailable: the server refused, dropped or stopped answering the connection; timeout: a
 * client-side or server-side deadline expired; refused: the server answered with an error (a
 * constraint, a serialization failure, bad SQL).
 */
export type QueryErrorKind = 'unavailable' | 'timeout' | 'refused';
export type QueryErrorCounts = Record<QueryErrorKind, number>;

export interface PoolStats {
  /** Connections open, idle ones included. */
  total: number;
  idle: number;
  /** Callers waiting for a connection. */
  waiting: number;
  /** FLAGHOST_DB_POOL_SIZE. */
  max: number;
}

export interface DatabaseStats {
  /** PostgreSQL only: PGlite has one connection inside the process and no pool. */
  pool?: PoolStats;
  queryErrors: QueryErrorCounts;
}

export const newQueryErrorCounts = (): QueryErrorCounts => ({ unavailable: 0, timeout: 0, refused: 0 });

export function countQueryError(counts: QueryErrorCounts, error: unknown): void {
  counts[databaseFailure(error)?.kind ?? 'refused']++;
}

type Query = PGlite['query'];

function counted(query: Query, counts: QueryErrorCounts): Query {
  return ((...args: Parameters<Query>) =>
    query(...args).catch((error: unknown) => {
      countQueryError(counts, error);
      throw error;
    })) as Query;
}

/**
 * PGlite has no hook for failed statements: wrap the two ways Drizzle runs them, query() on the
 * database and on a transaction handle.
 */
export function countPgliteErrors(client: PGlite, counts: QueryErrorCounts): void {
  client.query = counted(client.query.bind(client), counts);
  const transaction = client.transaction.bind(client);
  client.transaction = <T>(callback: (tx: Transaction) => Promise<T>): Promise<T> =>
    transaction((tx) => {
      tx.query = counted(tx.query.bind(tx), counts);
      return callback(tx);
    });
}

// Small helpers for raw SQL through Drizzle: the rows of an execute() result (both drivers return
// `{rows}`), a JSON value as a jsonb parameter, and a query run as a named prepared statement.
import { sql, type SQL } from 'drizzle-orm';
import { PGlite } from '@electric-sql/pglite';
import type { Db } from './index.ts';

export function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export const jsonParam = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

interface Query {
  sql: string;
  params: unknown[];
}

interface DrizzleInternals {
  session: {
    client: unknown;
    prepareQuery(query: Query, fields: undefined, name: string | undefined, arrayMode: boolean): { execute(): Promise<unknown> };
  };
  dialect: { sqlToQuery(query: SQL): Query };
}

/** A parameter as an SQL literal (text in quotes, standard_conforming_strings being on). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return `'${String(value).replaceAll("'", "''")}'`;
}

const preparedOnPglite = new WeakMap<PGlite, Map<string, Promise<void>>>();

/**
 * `db.execute(query)` as a named prepared statement, parsed and planned once per connection and
 * then only bound to its parameters. node-postgres names it in the extended protocol. PGlite has
 * no named statements in its protocol API, so it gets an SQL `PREPARE` once and `EXECUTE` with
 * the parameters as literals (in a transaction, the query runs as usual). The query's text must
 * be the same on every call with this name; only its parameters may change.
 */
export async function executeNamed(db: Db, name: string, query: SQL): Promise<unknown> {
  const internals = db as unknown as DrizzleInternals;
  const built = internals.dialect.sqlToQuery(query);
  const client = internals.session.client;
  if (!(client instanceof PGlite)) return internals.session.prepareQuery(built, undefined, name, false).execute();
  let prepared = preparedOnPglite.get(client);
  if (!prepared) preparedOnPglite.set(client, (prepared = new Map()));
  // One PREPARE per name, however many calls arrive before it is done: concurrent callers wait
  // for the same one (a second PREPARE of the name fails). A failed one is tried again next call.
  let ready = prepared.get(name);
  if (!ready) {
    const made = client.exec(`prepare ${name} as ${built.sql}`).then(() => undefined);
    prepared.set(name, (ready = made));
    made.catch(() => {
      if (prepared.get(name) === made) prepared.delete(name);
    });
  }
  await ready;
  return client.query(`execute ${name}(${built.params.map(literal).join(', ')})`);
}

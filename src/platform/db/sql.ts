// Small helpers for raw SQL through Drizzle: the rows of an execute() result (both drivers return
// `{rows}`), and a JSON value as a jsonb parameter.
import { sql } from 'drizzle-orm';

export function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export const jsonParam = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

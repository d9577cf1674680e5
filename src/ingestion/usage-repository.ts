// What ingestion writes besides persons: event-uuid deduplication, flag usage per day and value,
// unique persons per day, flags' last_called_at and enriched-analytics mark, group properties;
// and the usage series dashboards read. Bulk rows travel as one JSON parameter, the same on
// node-postgres and PGlite, and are written in sorted order so concurrent writers lock alike.
import { sql } from 'drizzle-orm';
import type { Db } from '../platform/db/index.ts';
import { rowsOf } from '../platform/db/sql.ts';

type Json = Record<string, unknown>;

const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

/**
 * Records event uuids and returns those not seen since `cutoff`: a uuid recorded earlier than the
 * cutoff counts as new again (and is recorded anew).
 */
// Advisory-lock class of event ingestion; the project id is the lock's second key.
const INGESTION_LOCK_CLASS = 7_347_101;

/** Serializes ingestion of one project across instances until the transaction ends. */
export async function lockProjectIngestion(db: Db, projectId: number): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(${INGESTION_LOCK_CLASS}, ${projectId})`);
}

export async function claimEventUuids(db: Db, projectId: number, uuids: string[], at: Date, cutoff: Date): Promise<Set<string>> {
  if (!uuids.length) return new Set();
  const sorted = [...new Set(uuids)].sort();
  const result = await db.execute(sql`
    insert into ingested_events (project_id, uuid, received_at)
    select ${projectId}, u, ${at.toISOString()}::timestamptz from jsonb_array_elements_text(${json(sorted)}) u
    on conflict (project_id, uuid) do update set received_at = excluded.received_at
      where ingested_events.received_at < ${cutoff.toISOString()}::timestamptz
    returning uuid`);
  return new Set(rowsOf<{ uuid: string }>(result).map((r) => r.uuid));
}

/** Forgets event uuids received before `cutoff` (they can no longer be duplicates). */
export async function purgeEventUuids(db: Db, cutoff: Date): Promise<number> {
  const result = await db.execute(sql`delete from ingested_events where received_at < ${cutoff.toISOString()}::timestamptz`);
  return Number((result as { rowCount?: number; affectedRows?: number }).rowCount ?? (result as { affectedRows?: number }).affectedRows ?? 0);
}

export interface UsageCount {
  flagKey: string;
  /** YYYY-MM-DD (UTC) */
  day: string;
  value: string;
  count: number;
}

export async function addFlagUsage(db: Db, projectId: number, rows: UsageCount[]): Promise<void> {
  if (!rows.length) return;
  const sorted = [...rows].sort((a, b) => (a.flagKey + '\0' + a.day + '\0' + a.value < b.flagKey + '\0' + b.day + '\0' + b.value ? -1 : 1));
  await db.execute(sql`
    insert into flag_usage_daily (project_id, flag_key, day, value, count)
    select ${projectId}, r.flag_key, r.day::date, r.value, r.count
    from jsonb_to_recordset(${json(sorted.map((r) => ({ flag_key: r.flagKey, day: r.day, value: r.value, count: r.count })))})
      as r(flag_key text, day text, value text, count bigint)
    on conflict (project_id, flag_key, day, value) do update set count = flag_usage_daily.count + excluded.count`);
}

export interface UsagePerson {
  flagKey: string;
  day: string;
  personKey: string;
}

export async function addFlagUsagePersons(db: Db, projectId: number, rows: UsagePerson[]): Promise<void> {
  if (!rows.length) return;
  // The sort key is built once per row: building it in the comparator took more CPU than the
  // rest of the batch's bookkeeping (it runs inside the batch's transaction).
  const keyed = rows.map((r) => ({ key: `${r.flagKey}\0${r.day}\0${r.personKey}`, row: { flag_key: r.flagKey, day: r.day, person_key: r.personKey } }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  await db.execute(sql`
    insert into flag_usage_persons (project_id, flag_key, day, person_key)
    select ${projectId}, r.flag_key, r.day::date, r.person_key
    from jsonb_to_recordset(${json(keyed.map((k) => k.row))})
      as r(flag_key text, day text, person_key text)
    on conflict do nothing`);
}

/** Moves each flag's last_called_at forward to `at`, never back. */
export async function advanceLastCalledAt(db: Db, projectId: number, rows: Array<{ key: string; at: Date }>): Promise<void> {
  if (!rows.length) return;
  const sorted = [...rows].sort((a, b) => (a.key < b.key ? -1 : 1));
  await db.execute(sql`
    update feature_flags f set last_called_at = r.at
    from jsonb_to_recordset(${json(sorted.map((r) => ({ key: r.key, at: r.at.toISOString() })))}) as r(key text, at timestamptz)
    where f.project_id = ${projectId} and f.key = r.key and (f.last_called_at is null or f.last_called_at < r.at)`);
}

/** Flags that received $feature_view / $feature_interaction events have enriched analytics. */
export async function markFlagsEnriched(db: Db, projectId: number, keys: string[]): Promise<void> {
  if (!keys.length) return;
  await db.execute(sql`
    update feature_flags set has_enriched_analytics = true
    where project_id = ${projectId} and key in (select jsonb_array_elements_text(${json([...new Set(keys)].sort())}))
      and has_enriched_analytics is not true`);
}

/** `$group_set`: creates the group or overwrites the given keys of its properties. */
export async function upsertGroupProperties(db: Db, projectId: number, rows: Array<{ index: number; key: string; set: Json; at: Date }>): Promise<void> {
  if (!rows.length) return;
  const sorted = [...rows].sort((a, b) => a.index - b.index || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  await db.execute(sql`
    insert into groups (project_id, group_type_index, group_key, group_properties, created_at)
    select ${projectId}, r.i, r.k, r.p, r.at
    from jsonb_to_recordset(${json(sorted.map((r) => ({ i: r.index, k: r.key, p: r.set, at: r.at.toISOString() })))})
      as r(i int, k text, p jsonb, at timestamptz)
    on conflict (project_id, group_type_index, group_key)
      do update set group_properties = groups.group_properties || excluded.group_properties`);
}

// ---- reads for dashboards ---------------------------------------------------------------------

/** Calls per day and value of one flag between two days (inclusive). */
export async function flagUsageByDay(db: Db, projectId: number, flagKey: string, from: string, to: string): Promise<UsageCount[]> {
  const result = await db.execute(sql`
    select to_char(day, 'YYYY-MM-DD') as day, value, count::text as count from flag_usage_daily
    where project_id = ${projectId} and flag_key = ${flagKey} and day between ${from}::date and ${to}::date
    order by day, value`);
  return rowsOf<{ day: string; value: string; count: string }>(result).map((r) => ({ flagKey, day: r.day, value: r.value, count: Number(r.count) }));
}

/** Distinct persons per day who called one flag between two days (inclusive). */
export async function flagUniquePersonsByDay(
  db: Db,
  projectId: number,
  flagKey: string,
  from: string,
  to: string,
): Promise<Array<{ day: string; count: number }>> {
  const result = await db.execute(sql`
    select to_char(day, 'YYYY-MM-DD') as day, count(*)::int as count from flag_usage_persons
    where project_id = ${projectId} and flag_key = ${flagKey} and day between ${from}::date and ${to}::date
    group by day order by day`);
  return rowsOf<{ day: string; count: number | string }>(result).map((r) => ({ day: r.day, count: Number(r.count) }));
}

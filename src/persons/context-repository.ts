// What flag evaluation reads about a distinct id, in one statement (stored properties, static cohorts,
// groups, continuity overrides), and the continuity overrides it writes (docs/compatibility.md#sdk-3.12).
import { sql } from 'drizzle-orm';
import type { Db } from '../platform/db/index.ts';
import { jsonParam, rowsOf } from '../platform/db/sql.ts';

type Json = Record<string, unknown>;

export interface StoredPersonContext {
  person: { properties: Json; createdAt: Date } | null;
  staticCohortIds: number[];
  /** [flag key, hash key, belongs to the person of distinct_id] */
  overrides: Array<[string, string, boolean]>;
  groups: Array<[number, Json]>;
}

/**
 * Everything evaluation reads about a distinct id in one statement: its person's properties and
 * created_at, the static cohorts it is in, the hash-key overrides of the given flags held by the
 * persons of `distinctId` and `anonDistinctId`, and the properties of the given groups.
 */
export async function readPersonContext(
  db: Db,
  projectId: number,
  distinctId: string,
  anonDistinctId: string | null,
  flagKeys: readonly string[],
  groups: ReadonlyArray<{ index: number; key: string }>,
): Promise<StoredPersonContext> {
  const ids = anonDistinctId !== null && anonDistinctId !== distinctId ? [distinctId, anonDistinctId] : [distinctId];
  const overrides = flagKeys.length
    ? sql`(select coalesce(jsonb_agg(jsonb_build_array(o.feature_flag_key, o.hash_key, d.distinct_id = ${distinctId})), '[]'::jsonb)
        from flag_hash_key_overrides o join d on d.person_id = o.person_id
        where o.feature_flag_key in (select jsonb_array_elements_text(${jsonParam(flagKeys)})))`
    : sql`'[]'::jsonb`;
  const groupRows = groups.length
    ? sql`(select coalesce(jsonb_agg(jsonb_build_array(g.group_type_index, g.group_properties)), '[]'::jsonb)
        from groups g join jsonb_to_recordset(${jsonParam(groups.map((g) => ({ i: g.index, k: g.key })))}) as r(i int, k text)
          on g.group_type_index = r.i and g.group_key = r.k
        where g.project_id = ${projectId})`
    : sql`'[]'::jsonb`;
  const result = await db.execute(sql`
    with d as (
      select distinct_id, person_id from person_distinct_ids
      where project_id = ${projectId} and distinct_id in (select jsonb_array_elements_text(${jsonParam(ids)}))
    ),
    me as (select p.id, p.properties, p.created_at from persons p join d on d.person_id = p.id where d.distinct_id = ${distinctId})
    select
      (select jsonb_build_object('properties', properties, 'created_at', created_at) from me) as person,
      (select coalesce(jsonb_agg(cm.cohort_id order by cm.cohort_id), '[]'::jsonb)
        from cohort_members cm join cohorts c on c.id = cm.cohort_id
        where cm.person_id = (select id from me) and c.project_id = ${projectId} and c.is_static and not c.deleted) as cohorts,
      ${overrides} as overrides,
      ${groupRows} as groups`);
  const [row] = rowsOf<{
    person: { properties: Json; created_at: string } | null;
    cohorts: number[];
    overrides: Array<[string, string, boolean]>;
    groups: Array<[number, Json]>;
  }>(result);
  return {
    person: row?.person ? { properties: row.person.properties ?? {}, createdAt: new Date(row.person.created_at) } : null,
    staticCohortIds: row?.cohorts ?? [],
    overrides: row?.overrides ?? [],
    groups: row?.groups ?? [],
  };
}

/**
 * docs/compatibility.md#sdk-3.12: for every flag in `flagKeys` without an override yet, stores
 * `hashKey` as the override of the person of each distinct id (first anon id wins: existing rows
 * are kept). Returns the distinct ids that have no person (nothing was written for them).
 */
export async function writeHashKeyOverrides(db: Db, projectId: number, distinctIds: string[], flagKeys: readonly string[], hashKey: string): Promise<string[]> {
  const result = await db.execute(sql`
    with d as (
      select distinct_id, person_id from person_distinct_ids
      where project_id = ${projectId} and distinct_id in (select jsonb_array_elements_text(${jsonParam(distinctIds)}))
    ),
    written as (
      insert into flag_hash_key_overrides (project_id, person_id, feature_flag_key, hash_key)
      select distinct ${projectId}::int, d.person_id, k.key, ${hashKey}::text
      from d cross join jsonb_array_elements_text(${jsonParam(flagKeys)}) as k(key)
      order by 2, 3
      on conflict do nothing
      returning 1
    )
    select distinct_id from d`);
  const found = new Set(rowsOf<{ distinct_id: string }>(result).map((r) => r.distinct_id));
  return distinctIds.filter((id) => !found.has(id));
}

// What flag evaluation reads about distinct ids, many lookups in one statement (stored properties,
// static cohorts, groups, continuity overrides), and the continuity overrides it writes
// (docs/compatibility.md#sdk-3.12).
import { sql } from 'drizzle-orm';
import type { Db } from '../platform/db/index.ts';
import { executeNamed, jsonParam, rowsOf } from '../platform/db/sql.ts';

type Json = Record<string, unknown>;

export interface StoredPersonContext {
  person: { properties: Json; createdAt: Date } | null;
  staticCohortIds: number[];
  /** [flag key, hash key, belongs to the person of distinct_id] */
  overrides: Array<[string, string, boolean]>;
  groups: Array<[number, Json]>;
}

export interface PersonContextKey {
  projectId: number;
  distinctId: string;
  /** `$anon_distinct_id`: its person's overrides are read too. */
  anonDistinctId: string | null;
  /** The continuity flags whose hash-key overrides to read (none: no override is read). */
  flagKeys: readonly string[];
  groups: ReadonlyArray<{ index: number; key: string }>;
}

// One statement for many lookups (docs/architecture.md#flags-the-hot-path): each lookup is a row
// of the jsonb parameter, answered by a row with its number. Its text never changes, so it is a
// named prepared statement: PostgreSQL parses and plans it once per connection.
const CONTEXTS_STATEMENT = 'flaghost_person_contexts';
const contextsQuery = (lookups: string) => sql`
  select r.n, me.properties, me.created_at,
    case when me.id is null then '[]'::jsonb else
      (select coalesce(jsonb_agg(cm.cohort_id order by cm.cohort_id), '[]'::jsonb)
        from cohort_members cm join cohorts c on c.id = cm.cohort_id
        where cm.person_id = me.id and c.project_id = r.p and c.is_static and not c.deleted) end as cohorts,
    case when r.k is null then '[]'::jsonb else
      (select coalesce(jsonb_agg(jsonb_build_array(o.feature_flag_key, o.hash_key, d.distinct_id = r.d)), '[]'::jsonb)
        from person_distinct_ids d join flag_hash_key_overrides o on o.person_id = d.person_id
        where d.project_id = r.p and d.distinct_id in (r.d, r.a)
          and o.feature_flag_key in (select jsonb_array_elements_text(r.k))) end as overrides,
    case when r.g is null then '[]'::jsonb else
      (select coalesce(jsonb_agg(jsonb_build_array(g.group_type_index, g.group_properties)), '[]'::jsonb)
        from jsonb_to_recordset(r.g) as x(i int, k text)
        join groups g on g.project_id = r.p and g.group_type_index = x.i and g.group_key = x.k) end as groups
  from jsonb_to_recordset(${lookups}::jsonb) as r(n int, p int, d text, a text, k jsonb, g jsonb)
  left join lateral (
    select p.id, p.properties, p.created_at from person_distinct_ids d join persons p on p.id = d.person_id
    where d.project_id = r.p and d.distinct_id = r.d
  ) me on true`;

/**
 * Everything evaluation reads about each of `keys`, in one statement: the person of the distinct
 * id (properties, created_at) and the static cohorts it is in, the hash-key overrides of the given
 * flags held by the persons of the distinct id and the anon id, and the properties of the given
 * groups. The answers are in the order of `keys`.
 */
export async function readPersonContexts(db: Db, keys: readonly PersonContextKey[]): Promise<StoredPersonContext[]> {
  if (!keys.length) return [];
  const lookups = keys.map((k, n) => ({
    n,
    p: k.projectId,
    d: k.distinctId,
    a: k.anonDistinctId !== null && k.anonDistinctId !== k.distinctId ? k.anonDistinctId : null,
    k: k.flagKeys.length ? k.flagKeys : null,
    g: k.groups.length ? k.groups.map((g) => ({ i: g.index, k: g.key })) : null,
  }));
  const rows = rowsOf<{
    n: number;
    properties: Json | null;
    created_at: Date | string | null;
    cohorts: number[];
    overrides: Array<[string, string, boolean]>;
    groups: Array<[number, Json]>;
  }>(await executeNamed(db, CONTEXTS_STATEMENT, contextsQuery(JSON.stringify(lookups))));
  const out = new Array<StoredPersonContext>(keys.length);
  for (const row of rows) {
    out[Number(row.n)] = {
      person: row.created_at !== null ? { properties: row.properties ?? {}, createdAt: new Date(row.created_at) } : null,
      staticCohortIds: row.cohorts ?? [],
      overrides: row.overrides ?? [],
      groups: row.groups ?? [],
    };
  }
  for (let i = 0; i < out.length; i++) if (!out[i]) throw new Error(`person context lookup ${i} got no row`);
  return out;
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

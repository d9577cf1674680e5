// Reads for user_blast_radius: how many persons or groups a project has, and groups of one type a
// page at a time in key order (the (project, type, key) index serves both).
import { and, count, eq } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import type { Db } from '../platform/db/index.ts';
import { groups, persons } from '../platform/db/schema.ts';
import { jsonParam, rowsOf } from '../platform/db/sql.ts';

export async function countProjectPersons(db: Db, projectId: number): Promise<number> {
  const [row] = await db.select({ n: count() }).from(persons).where(eq(persons.projectId, projectId));
  return Number(row?.n ?? 0);
}

export async function countProjectGroups(db: Db, projectId: number, groupTypeIndex: number): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(groups)
    .where(and(eq(groups.projectId, projectId), eq(groups.groupTypeIndex, groupTypeIndex)));
  return Number(row?.n ?? 0);
}

export interface GroupForEvaluation {
  key: string;
  properties: Record<string, unknown>;
}

/** Groups of one type with keys after `afterKey`, in key order. */
export async function pageGroupsForEvaluation(
  db: Db,
  projectId: number,
  groupTypeIndex: number,
  afterKey: string | null,
  limit: number,
): Promise<GroupForEvaluation[]> {
  const result = await db.execute(sql`
    select group_key, group_properties from groups
    where project_id = ${projectId} and group_type_index = ${groupTypeIndex} ${afterKey === null ? sql`` : sql`and group_key > ${afterKey}`}
    order by group_key limit ${limit}`);
  return rowsOf<{ group_key: string; group_properties: Record<string, unknown> | null }>(result).map((r) => ({
    key: r.group_key,
    properties: r.group_properties ?? {},
  }));
}

export interface PersonForRadius {
  id: number;
  distinctId: string | null;
  properties: Record<string, unknown>;
}

/**
 * Persons with ids after `afterId`, in id order, each with its first distinct id. The distinct ids
 * are a second query over the page's ids: a subquery per person ordered by the distinct ids' own
 * key walks that key's index, and a page then takes hundreds of milliseconds on PGlite.
 */
export async function pagePersonsForRadius(db: Db, projectId: number, afterId: number, limit: number): Promise<PersonForRadius[]> {
  const page = rowsOf<{ id: string; properties: Record<string, unknown> | null }>(
    await db.execute(sql`
      select p.id::text as id, p.properties from persons p
      where p.project_id = ${projectId} and p.id > ${afterId}
      order by p.id limit ${limit}`),
  );
  if (!page.length) return [];
  const ids = page.map((r) => Number(r.id));
  const distinct = rowsOf<{ person_id: string; distinct_id: string }>(
    await db.execute(sql`
      select distinct on (person_id) person_id::text as person_id, distinct_id from person_distinct_ids
      where person_id in (select (jsonb_array_elements_text(${jsonParam(ids)}))::bigint)
      order by person_id, id`),
  );
  const firstDistinctId = new Map(distinct.map((r) => [Number(r.person_id), r.distinct_id]));
  return page.map((r) => ({ id: Number(r.id), distinctId: firstDistinctId.get(Number(r.id)) ?? null, properties: r.properties ?? {} }));
}

/** person id → the static cohorts among `cohortIds` it belongs to, for the persons `personIds`. */
export async function staticCohortsOf(db: Db, personIds: number[], cohortIds: number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  if (!personIds.length || !cohortIds.length) return out;
  const result = await db.execute(sql`
    select person_id::text as person_id, cohort_id from cohort_members
    where person_id in (select (jsonb_array_elements_text(${jsonParam(personIds)}))::bigint)
      and cohort_id in (select (jsonb_array_elements_text(${jsonParam(cohortIds)}))::int)`);
  for (const r of rowsOf<{ person_id: string; cohort_id: number }>(result)) {
    const id = Number(r.person_id);
    out.set(id, [...(out.get(id) ?? []), r.cohort_id]);
  }
  return out;
}

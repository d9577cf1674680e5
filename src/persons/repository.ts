// Persons and their distinct ids: find-or-create by distinct id (static cohort uploads), lookups by
// uuid or email, bulk writes for ingestion, the persons API, and paging for cohort snapshots. What
// flag evaluation reads about a person is in person-context.ts.
import crypto from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../platform/db/index.ts';
import { jsonParam, rowsOf } from '../platform/db/sql.ts';
import { personDistinctIds, persons } from '../platform/db/schema.ts';

export type PersonRow = typeof persons.$inferSelect;

/** Rows per multi-row statement: far below PostgreSQL's 65,535 bind parameters. */
const CHUNK = 1000;

async function personIdsOfDistinctIds(db: Db, projectId: number, distinctIds: string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (!distinctIds.length) return found;
  const rows = await db
    .select({ distinctId: personDistinctIds.distinctId, personId: personDistinctIds.personId })
    .from(personDistinctIds)
    .where(and(eq(personDistinctIds.projectId, projectId), inArray(personDistinctIds.distinctId, distinctIds)));
  for (const row of rows) found.set(row.distinctId, row.personId);
  return found;
}

/**
 * The person id of every distinct id, creating a person (empty properties) and its distinct-id row
 * for ids never seen. Safe against concurrent callers: the (project, distinct_id) unique index
 * decides who wins, the loser's spare person is removed and the winner's is read back. Ids are
 * processed in sorted order so concurrent transactions take index locks in the same order.
 */
export async function findOrCreatePersonsByDistinctIds(db: Db, projectId: number, distinctIds: string[]): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  const unique = [...new Set(distinctIds)].sort();
  for (let i = 0; i < unique.length; i += CHUNK) {
    const chunk = unique.slice(i, i + CHUNK);
    const existing = await personIdsOfDistinctIds(db, projectId, chunk);
    for (const [d, p] of existing) result.set(d, p);
    const missing = chunk.filter((d) => !existing.has(d));
    if (!missing.length) continue;

    const uuidOf = new Map(missing.map((d) => [d, crypto.randomUUID()]));
    const created = await db
      .insert(persons)
      .values(missing.map((d) => ({ projectId, uuid: uuidOf.get(d)!, properties: {} })))
      .returning({ id: persons.id, uuid: persons.uuid });
    const idOfUuid = new Map(created.map((p) => [p.uuid, p.id]));
    const linked = await db
      .insert(personDistinctIds)
      .values(missing.map((d) => ({ projectId, distinctId: d, personId: idOfUuid.get(uuidOf.get(d)!)! })))
      .onConflictDoNothing()
      .returning({ distinctId: personDistinctIds.distinctId, personId: personDistinctIds.personId });
    for (const row of linked) result.set(row.distinctId, row.personId);

    if (linked.length < missing.length) {
      const lost = missing.filter((d) => !result.has(d));
      const spare = lost.map((d) => idOfUuid.get(uuidOf.get(d)!)!);
      await db.delete(persons).where(inArray(persons.id, spare));
      for (const [d, p] of await personIdsOfDistinctIds(db, projectId, lost)) result.set(d, p);
    }
  }
  return result;
}

/** Ids of the project's persons with these uuids; unknown or malformed uuids are skipped. */
export async function findPersonIdsByUuids(db: Db, projectId: number, uuids: string[]): Promise<number[]> {
  const valid = [...new Set(uuids.map((u) => u.toLowerCase()).filter((u) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/.test(u)))];
  const ids: number[] = [];
  for (let i = 0; i < valid.length; i += CHUNK) {
    const rows = await db
      .select({ id: persons.id })
      .from(persons)
      .where(and(eq(persons.projectId, projectId), inArray(persons.uuid, valid.slice(i, i + CHUNK))));
    for (const row of rows) ids.push(row.id);
  }
  return ids;
}

/** Ids of the project's persons whose `email` property is one of these addresses. */
export async function findPersonIdsByEmails(db: Db, projectId: number, emails: string[]): Promise<number[]> {
  const unique = [...new Set(emails)];
  const ids: number[] = [];
  for (let i = 0; i < unique.length; i += CHUNK) {
    const chunk = unique.slice(i, i + CHUNK);
    const rows = await db
      .select({ id: persons.id })
      .from(persons)
      .where(and(eq(persons.projectId, projectId), inArray(sql<string>`${persons.properties}->>'email'`, chunk)));
    for (const row of rows) ids.push(row.id);
  }
  return ids;
}

/** Ids of the non-deleted static cohorts of the project whose members include this distinct id's person. */
// ---- ingestion: the persons of a batch, written in bulk ------------------------------------------

type Json = Record<string, unknown>;

export interface LoadedPerson {
  distinctId: string;
  person: { id: number; uuid: string; properties: Json; createdAt: Date; isIdentified: boolean };
}

/** The persons of these distinct ids (ids without a person are absent). */
export async function loadPersonsByDistinctIds(db: Db, projectId: number, distinctIds: string[]): Promise<LoadedPerson[]> {
  if (!distinctIds.length) return [];
  const result = await db.execute(sql`
    select d.distinct_id, p.id::text as id, p.uuid::text as uuid, p.properties, p.created_at, p.is_identified
    from person_distinct_ids d join persons p on p.id = d.person_id
    where d.project_id = ${projectId} and d.distinct_id in (select jsonb_array_elements_text(${jsonParam(distinctIds)}))`);
  return rowsOf<{ distinct_id: string; id: string; uuid: string; properties: Json; created_at: Date | string; is_identified: boolean }>(result).map((r) => ({
    distinctId: r.distinct_id,
    person: { id: Number(r.id), uuid: r.uuid, properties: r.properties ?? {}, createdAt: new Date(r.created_at), isIdentified: r.is_identified },
  }));
}

export interface NewPerson {
  uuid: string;
  properties: Json;
  createdAt: Date;
  isIdentified: boolean;
}

/**
 * Inserts persons; returns their ids by uuid. The rows travel as one jsonb parameter per chunk:
 * a multi-row VALUES with six parameters a row cost more to build, send and plan than the rows
 * cost to insert.
 */
export async function insertPersons(db: Db, projectId: number, rows: NewPerson[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows
      .slice(i, i + CHUNK)
      .map((r) => ({ uuid: r.uuid, properties: r.properties, created_at: r.createdAt.toISOString(), is_identified: r.isIdentified }));
    const created = await db.execute(sql`
      insert into persons (project_id, uuid, properties, created_at, is_identified)
      select ${projectId}, r.uuid, r.properties, r.created_at, r.is_identified
      from jsonb_to_recordset(${jsonParam(chunk)}) as r(uuid uuid, properties jsonb, created_at timestamptz, is_identified boolean)
      returning id::text as id, uuid::text as uuid`);
    for (const row of rowsOf<{ id: string; uuid: string }>(created)) ids.set(row.uuid, Number(row.id));
  }
  return ids;
}

/** Links distinct ids to persons; returns how many were new (an id already taken is skipped). */
export async function linkDistinctIds(db: Db, projectId: number, rows: Array<{ distinctId: string; personId: number }>): Promise<number> {
  let linked = 0;
  const sorted = rows.map((r) => ({ d: r.distinctId, p: r.personId })).sort((a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : 0));
  for (let i = 0; i < sorted.length; i += CHUNK) {
    const result = await db.execute(sql`
      with inserted as (
        insert into person_distinct_ids (project_id, distinct_id, person_id)
        select ${projectId}, r.d, r.p
        from rows from (jsonb_to_recordset(${jsonParam(sorted.slice(i, i + CHUNK))}) as (d text, p bigint)) with ordinality as r(d, p, o)
        order by r.o
        on conflict do nothing
        returning 1
      )
      select count(*)::int as n from inserted`);
    linked += Number(rowsOf<{ n: number | string }>(result)[0]?.n ?? 0);
  }
  return linked;
}

/** Writes the final properties, created_at and is_identified of existing persons. */
export async function updatePersonRows(db: Db, rows: Array<{ id: number; properties: Json; createdAt: Date; isIdentified: boolean }>): Promise<void> {
  if (!rows.length) return;
  const sorted = [...rows].sort((a, b) => a.id - b.id);
  for (let i = 0; i < sorted.length; i += CHUNK) {
    const chunk = sorted
      .slice(i, i + CHUNK)
      .map((r) => ({ id: r.id, properties: r.properties, created_at: r.createdAt.toISOString(), is_identified: r.isIdentified }));
    await db.execute(sql`
      update persons p set properties = r.properties, created_at = r.created_at, is_identified = r.is_identified
      from jsonb_to_recordset(${jsonParam(chunk)}) as r(id bigint, properties jsonb, created_at timestamptz, is_identified boolean)
      where p.id = r.id`);
  }
}

/**
 * Merges person `fromId` into `intoId` (PostHog's mergePeople, after properties are settled):
 * static-cohort memberships and hash-key overrides move over (the target's own overrides win),
 * then every distinct id, then the source person is deleted.
 */
export async function mergePersonInto(db: Db, projectId: number, fromId: number, intoId: number): Promise<void> {
  await db.execute(sql`
    insert into cohort_members (cohort_id, person_id)
    select cohort_id, ${intoId} from cohort_members where person_id = ${fromId}
    on conflict do nothing`);
  await db.execute(sql`
    insert into flag_hash_key_overrides (project_id, person_id, feature_flag_key, hash_key)
    select project_id, ${intoId}, feature_flag_key, hash_key from flag_hash_key_overrides where person_id = ${fromId}
    on conflict do nothing`);
  await db.execute(sql`update person_distinct_ids set person_id = ${intoId} where project_id = ${projectId} and person_id = ${fromId}`);
  await db.execute(sql`delete from persons where id = ${fromId} and project_id = ${projectId}`);
}

// ---- persons API --------------------------------------------------------------------------------

export interface PersonListFilters {
  distinctId?: string;
  email?: string;
  search?: string;
}

export interface PersonRecord {
  id: number;
  uuid: string;
  properties: Json;
  createdAt: Date;
  distinctIds: string[];
}

export type PersonRecordRow = { id: string; uuid: string; properties: Json; created_at: Date | string; distinct_ids: string[] | null };

export const toRecord = (r: PersonRecordRow): PersonRecord => ({
  id: Number(r.id),
  uuid: r.uuid,
  properties: r.properties ?? {},
  createdAt: new Date(r.created_at),
  distinctIds: r.distinct_ids ?? [],
});

export const recordColumns = sql`p.id::text as id, p.uuid::text as uuid, p.properties, p.created_at,
  (select coalesce(jsonb_agg(d.distinct_id order by d.id), '[]'::jsonb) from person_distinct_ids d where d.person_id = p.id) as distinct_ids`;

/** The project's persons, newest first (PostHog's created_at DESC, id DESC), with their distinct ids. */
export async function listPersonRecords(
  db: Db,
  projectId: number,
  f: PersonListFilters,
  page: { limit: number; offset: number },
  withTotal: boolean,
): Promise<{ rows: PersonRecord[]; total?: number }> {
  const conditions = [sql`p.project_id = ${projectId}`];
  const hasDistinctId = (value: string) =>
    sql`exists (select 1 from person_distinct_ids x where x.project_id = ${projectId} and x.distinct_id = ${value} and x.person_id = p.id)`;
  if (f.distinctId !== undefined) conditions.push(hasDistinctId(f.distinctId));
  if (f.email !== undefined) conditions.push(sql`p.properties ->> 'email' = ${f.email}`);
  if (f.search) {
    const pattern = `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(f.search) ? sql` or p.uuid = ${f.search.toLowerCase()}::uuid` : sql``;
    conditions.push(sql`(p.properties ->> 'email' ilike ${pattern} or p.properties ->> 'name' ilike ${pattern} or ${hasDistinctId(f.search)}${uuid})`);
  }
  const where = sql.join(conditions, sql` and `);
  const result = await db.execute(sql`
    select ${recordColumns} from persons p where ${where}
    order by p.created_at desc, p.id desc limit ${page.limit} offset ${page.offset}`);
  let total: number | undefined;
  if (withTotal) {
    const [row] = rowsOf<{ n: number | string }>(await db.execute(sql`select count(*)::int as n from persons p where ${where}`));
    total = Number(row.n);
  }
  return { rows: rowsOf<PersonRecordRow>(result).map(toRecord), total };
}

/** One person by numeric id or uuid. */
export async function findPersonRecord(db: Db, projectId: number, idOrUuid: { id: number } | { uuid: string }): Promise<PersonRecord | undefined> {
  const match = 'id' in idOrUuid ? sql`p.id = ${idOrUuid.id}` : sql`p.uuid = ${idOrUuid.uuid}::uuid`;
  const [row] = rowsOf<PersonRecordRow>(await db.execute(sql`select ${recordColumns} from persons p where p.project_id = ${projectId} and ${match}`));
  return row ? toRecord(row) : undefined;
}

/**
 * Deletes a person with its distinct ids, hash-key overrides and static-cohort memberships (the
 * foreign keys cascade), forgets which days it called which flags, and recounts the static
 * cohorts it was in. Returns false when there was no such person.
 */
export async function deletePersonRecord(db: Db, projectId: number, personId: number, uuid: string): Promise<boolean> {
  const cohortRows = rowsOf<{ cohort_id: number }>(await db.execute(sql`select cohort_id from cohort_members where person_id = ${personId}`));
  const deleted = await db
    .delete(persons)
    .where(and(eq(persons.projectId, projectId), eq(persons.id, personId)))
    .returning({ id: persons.id });
  if (!deleted.length) return false;
  await db.execute(sql`delete from flag_usage_persons where project_id = ${projectId} and person_key = ${uuid}`);
  const cohortIds = [...new Set(cohortRows.map((r) => Number(r.cohort_id)))];
  if (cohortIds.length) {
    await db.execute(sql`
      update cohorts c set count = (select count(*)::int from cohort_members m where m.cohort_id = c.id)
      where c.id in (select (jsonb_array_elements_text(${jsonParam(cohortIds)}))::int) and c.is_static`);
  }
  return true;
}

// ---- static cohort from a flag: every person, page by page ---------------------------------------

export interface PersonForEvaluation {
  id: number;
  /** The person's first distinct id (PostHog evaluates with distinct_ids[0]). */
  distinctId: string;
  properties: Json;
  staticCohortIds: number[];
  /** The hash-key override of the flag being evaluated, if any. */
  hashKeyOverride: string | null;
}

/** Persons with id > `afterId`, in id order, with what flag evaluation needs. */
export async function pagePersonsForEvaluation(db: Db, projectId: number, afterId: number, limit: number, flagKey: string): Promise<PersonForEvaluation[]> {
  const result = await db.execute(sql`
    select p.id::text as id, p.properties,
      (select d.distinct_id from person_distinct_ids d where d.person_id = p.id order by d.id limit 1) as distinct_id,
      (select coalesce(jsonb_agg(m.cohort_id), '[]'::jsonb) from cohort_members m join cohorts c on c.id = m.cohort_id
        where m.person_id = p.id and c.is_static and not c.deleted) as cohorts,
      (select o.hash_key from flag_hash_key_overrides o where o.person_id = p.id and o.feature_flag_key = ${flagKey}) as hash_key
    from persons p where p.project_id = ${projectId} and p.id > ${afterId}
    order by p.id limit ${limit}`);
  return rowsOf<{ id: string; properties: Json; distinct_id: string | null; cohorts: number[]; hash_key: string | null }>(result).map((r) => ({
    id: Number(r.id),
    distinctId: r.distinct_id ?? '',
    properties: r.properties ?? {},
    staticCohortIds: r.cohorts ?? [],
    hashKeyOverride: r.hash_key,
  }));
}

/** Adds persons to a static cohort, skipping ids that no longer exist (deleted meanwhile). */
export async function addExistingPersonsToCohort(db: Db, cohortId: number, personIds: number[]): Promise<void> {
  const unique = [...new Set(personIds)].sort((a, b) => a - b);
  for (let i = 0; i < unique.length; i += CHUNK) {
    await db.execute(sql`
      insert into cohort_members (cohort_id, person_id)
      select ${cohortId}, p.id from persons p
      where p.id in (select (jsonb_array_elements_text(${jsonParam(unique.slice(i, i + CHUNK))}))::bigint)
      order by p.id
      on conflict do nothing`);
  }
}

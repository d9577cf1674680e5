// Reads behind GET …/cohorts/:id/persons/: the stored members of a static cohort a page at a time,
// the project's persons newest first for testing dynamic-cohort membership, and persons by id.
import { sql } from 'drizzle-orm';
import type { Db } from '../platform/db/index.ts';
import { jsonParam, rowsOf } from '../platform/db/sql.ts';
import { recordColumns, toRecord, type PersonRecord, type PersonRecordRow } from '../persons/repository.ts';

export interface MemberRecord extends PersonRecord {
  isIdentified: boolean;
}

const memberColumns = sql`${recordColumns}, p.is_identified`;
const toMember = (r: PersonRecordRow & { is_identified: boolean }): MemberRecord => ({ ...toRecord(r), isIdentified: r.is_identified === true });

/** Members of a static cohort in PostHog's order (created_at DESC, id DESC). */
export async function pageStaticCohortMembers(db: Db, projectId: number, cohortId: number, page: { limit: number; offset: number }): Promise<MemberRecord[]> {
  const result = await db.execute(sql`
    select ${memberColumns} from cohort_members m join persons p on p.id = m.person_id
    where m.cohort_id = ${cohortId} and p.project_id = ${projectId}
    order by p.created_at desc, p.id desc limit ${page.limit} offset ${page.offset}`);
  return rowsOf<PersonRecordRow & { is_identified: boolean }>(result).map(toMember);
}

export interface PersonForCohortTest {
  id: number;
  properties: Record<string, unknown>;
  /** Non-deleted static cohorts the person is a member of (nested `type: "cohort"` conditions). */
  staticCohortIds: number[];
}

/** The project's persons with id < `beforeId`, highest id first: what a membership test reads. */
export async function pagePersonsNewestFirst(db: Db, projectId: number, beforeId: number | null, limit: number): Promise<PersonForCohortTest[]> {
  const before = beforeId === null ? sql`` : sql` and p.id < ${beforeId}`;
  const result = await db.execute(sql`
    select p.id::text as id, p.properties,
      (select coalesce(jsonb_agg(m.cohort_id), '[]'::jsonb) from cohort_members m join cohorts c on c.id = m.cohort_id
        where m.person_id = p.id and c.is_static and not c.deleted) as cohorts
    from persons p where p.project_id = ${projectId}${before}
    order by p.id desc limit ${limit}`);
  return rowsOf<{ id: string; properties: Record<string, unknown> | null; cohorts: number[] | null }>(result).map((r) => ({
    id: Number(r.id),
    properties: r.properties ?? {},
    staticCohortIds: (r.cohorts ?? []).map(Number),
  }));
}

/** Persons by id, in the order of `ids` (ids deleted meanwhile are absent). */
export async function findMemberRecordsByIds(db: Db, projectId: number, ids: number[]): Promise<MemberRecord[]> {
  if (!ids.length) return [];
  const result = await db.execute(sql`
    select ${memberColumns} from persons p
    where p.project_id = ${projectId} and p.id in (select (jsonb_array_elements_text(${jsonParam(ids)}))::bigint)`);
  const byId = new Map(rowsOf<PersonRecordRow & { is_identified: boolean }>(result).map((r) => [Number(r.id), toMember(r)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

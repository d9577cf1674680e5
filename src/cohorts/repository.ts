// Cohort rows, the cohort list query, static-cohort membership, and the flag rows cohort rules read.
import { and, asc, desc, eq, ilike, inArray, notInArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../platform/db/index.ts';
import { cohortMembers, cohorts, featureFlags } from '../platform/db/schema.ts';

export type CohortRow = typeof cohorts.$inferSelect;
export type NewCohortRow = typeof cohorts.$inferInsert;

/** Rows per multi-row INSERT: far below PostgreSQL's 65,535 bind parameters. */
const CHUNK = 1000;

/** Cohorts of the project with these ids, deleted ones included (they still "exist" for flag checks). */
export async function findCohortsByIds(db: Db, projectId: number, ids: number[]): Promise<CohortRow[]> {
  if (!ids.length) return [];
  return db
    .select()
    .from(cohorts)
    .where(and(eq(cohorts.projectId, projectId), inArray(cohorts.id, ids)));
}

export async function findCohort(db: Db, projectId: number, id: number): Promise<CohortRow | undefined> {
  const [row] = await db
    .select()
    .from(cohorts)
    .where(and(eq(cohorts.projectId, projectId), eq(cohorts.id, id)))
    .limit(1);
  return row;
}

/** The cohort row locked until the transaction ends, so concurrent writers to one cohort queue. */
export async function findCohortForUpdate(db: Db, projectId: number, id: number): Promise<CohortRow | undefined> {
  const [row] = await db
    .select()
    .from(cohorts)
    .where(and(eq(cohorts.projectId, projectId), eq(cohorts.id, id)))
    .limit(1)
    .for('update');
  return row;
}

/** Every cohort of the project (deleted and static ones too), oldest first: snapshots and cohort graphs. */
export async function listProjectCohorts(db: Db, projectId: number): Promise<CohortRow[]> {
  return db.select().from(cohorts).where(eq(cohorts.projectId, projectId)).orderBy(asc(cohorts.id));
}

export interface CohortListFilters {
  isStatic?: boolean;
  createdById?: number;
  /** Case-insensitive substring of the name. */
  search?: string;
  excludeIds?: number[];
}

/** Non-deleted cohorts, newest first (PostHog's list order), with the total for pagination. */
export async function listCohorts(
  db: Db,
  projectId: number,
  f: CohortListFilters,
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: CohortRow[] }> {
  const conditions: SQL[] = [eq(cohorts.projectId, projectId), eq(cohorts.deleted, false)];
  if (f.isStatic !== undefined) conditions.push(eq(cohorts.isStatic, f.isStatic));
  if (f.createdById !== undefined) conditions.push(eq(cohorts.createdById, f.createdById));
  if (f.search) conditions.push(ilike(cohorts.name, `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
  if (f.excludeIds?.length) conditions.push(notInArray(cohorts.id, f.excludeIds));
  const where = and(...conditions);
  const [{ n }] = await db.select({ n: sql<number>`count(*)::int` }).from(cohorts).where(where);
  const rows = await db.select().from(cohorts).where(where).orderBy(desc(cohorts.createdAt), desc(cohorts.id)).limit(page.limit).offset(page.offset);
  return { count: n, rows };
}

export async function insertCohort(db: Db, values: NewCohortRow): Promise<CohortRow> {
  const [row] = await db.insert(cohorts).values(values).returning();
  return row;
}

export async function updateCohort(db: Db, id: number, values: Partial<NewCohortRow>): Promise<CohortRow> {
  const [row] = await db.update(cohorts).set(values).where(eq(cohorts.id, id)).returning();
  return row;
}

/** Adds people to a cohort; people already in it are skipped. */
export async function addCohortMembers(db: Db, cohortId: number, personIds: number[]): Promise<void> {
  const unique = [...new Set(personIds)].sort((a, b) => a - b);
  for (let i = 0; i < unique.length; i += CHUNK) {
    const chunk = unique.slice(i, i + CHUNK);
    await db
      .insert(cohortMembers)
      .values(chunk.map((personId) => ({ cohortId, personId })))
      .onConflictDoNothing();
  }
}

export async function countCohortMembers(db: Db, cohortId: number): Promise<number> {
  const [{ n }] = await db.select({ n: sql<number>`count(*)::int` }).from(cohortMembers).where(eq(cohortMembers.cohortId, cohortId));
  return n;
}

export interface FlagCohortUse {
  id: number;
  key: string;
  name: string;
  filters: Record<string, unknown>;
}

/** Active, non-deleted flags of the project, oldest first: the flags whose cohorts are protected. */
export async function listActiveFlagFilters(db: Db, projectId: number): Promise<FlagCohortUse[]> {
  return db
    .select({ id: featureFlags.id, key: featureFlags.key, name: featureFlags.name, filters: featureFlags.filters })
    .from(featureFlags)
    .where(and(eq(featureFlags.projectId, projectId), eq(featureFlags.active, true), eq(featureFlags.deleted, false)))
    .orderBy(asc(featureFlags.id));
}

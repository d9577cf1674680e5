// Cohort rows and static-cohort membership.
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/index.ts';
import { cohorts } from '../db/schema.ts';

export type CohortRow = typeof cohorts.$inferSelect;

/** Cohorts of the project with these ids, deleted ones included (they still "exist" for flag checks). */
export async function findCohortsByIds(db: Db, projectId: number, ids: number[]): Promise<CohortRow[]> {
  if (!ids.length) return [];
  return db.select().from(cohorts).where(and(eq(cohorts.projectId, projectId), inArray(cohorts.id, ids)));
}

export async function findCohort(db: Db, projectId: number, id: number): Promise<CohortRow | undefined> {
  const [row] = await db.select().from(cohorts).where(and(eq(cohorts.projectId, projectId), eq(cohorts.id, id))).limit(1);
  return row;
}

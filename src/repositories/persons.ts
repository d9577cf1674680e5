// Persons and their distinct ids: find-or-create by distinct id (static cohort uploads), lookups by
// uuid or email, and the static cohorts a distinct id belongs to (flag evaluation).
import crypto from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/index.ts';
import { cohortMembers, cohorts, personDistinctIds, persons } from '../db/schema.ts';

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
export async function staticCohortIdsForDistinctId(db: Db, projectId: number, distinctId: string): Promise<number[]> {
  const rows = await db
    .select({ id: cohortMembers.cohortId })
    .from(personDistinctIds)
    .innerJoin(cohortMembers, eq(cohortMembers.personId, personDistinctIds.personId))
    .innerJoin(cohorts, eq(cohorts.id, cohortMembers.cohortId))
    .where(
      and(
        eq(personDistinctIds.projectId, projectId),
        eq(personDistinctIds.distinctId, distinctId),
        eq(cohorts.projectId, projectId),
        eq(cohorts.isStatic, true),
        eq(cohorts.deleted, false),
      ),
    )
    .orderBy(cohortMembers.cohortId);
  return rows.map((r) => r.id);
}

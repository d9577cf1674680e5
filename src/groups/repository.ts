// Group type mappings (PostHog's GroupTypeMapping): a project's group type names and their 0–4 indexes.
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../platform/db/index.ts';
import { groupTypeMappings } from '../platform/db/schema.ts';

export type GroupTypeRow = typeof groupTypeMappings.$inferSelect;

/** PostHog allows five group types per project (indexes 0–4). */
export const MAX_GROUP_TYPES = 5;

export async function listGroupTypes(db: Db, projectId: number): Promise<GroupTypeRow[]> {
  return db.select().from(groupTypeMappings).where(eq(groupTypeMappings.projectId, projectId)).orderBy(asc(groupTypeMappings.groupTypeIndex));
}

/** Inserts the mapping; undefined when either unique index (name or index) already holds a row. */
export async function insertGroupTypeIfFree(db: Db, values: typeof groupTypeMappings.$inferInsert): Promise<GroupTypeRow | undefined> {
  const [row] = await db.insert(groupTypeMappings).values(values).onConflictDoNothing().returning();
  return row;
}

export async function updateGroupTypeNames(
  db: Db,
  projectId: number,
  groupTypeIndex: number,
  names: { nameSingular?: string | null; namePlural?: string | null },
): Promise<GroupTypeRow | undefined> {
  const [row] = await db
    .update(groupTypeMappings)
    .set(names)
    .where(and(eq(groupTypeMappings.projectId, projectId), eq(groupTypeMappings.groupTypeIndex, groupTypeIndex)))
    .returning();
  return row;
}

export async function deleteGroupType(db: Db, projectId: number, groupTypeIndex: number): Promise<boolean> {
  const rows = await db
    .delete(groupTypeMappings)
    .where(and(eq(groupTypeMappings.projectId, projectId), eq(groupTypeMappings.groupTypeIndex, groupTypeIndex)))
    .returning({ id: groupTypeMappings.id });
  return rows.length > 0;
}

// Activity-log rows: written in the caller's transaction, read newest first with page/limit.
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../platform/db/index.ts';
import { activityLog, users } from '../platform/db/schema.ts';

export type ActivityLogRow = typeof activityLog.$inferSelect;
export type NewActivityLogRow = typeof activityLog.$inferInsert;

export async function insertActivity(db: Db, values: NewActivityLogRow): Promise<void> {
  await db.insert(activityLog).values(values);
}

export interface ActivityPage {
  total: number;
  rows: Array<{ entry: ActivityLogRow; user: { firstName: string; email: string } | null }>;
}

export async function listActivity(
  db: Db,
  where: { projectId: number; scope: string; itemId?: string },
  page: { limit: number; offset: number },
): Promise<ActivityPage> {
  const conditions = [eq(activityLog.projectId, where.projectId), eq(activityLog.scope, where.scope)];
  if (where.itemId !== undefined) conditions.push(eq(activityLog.itemId, where.itemId));
  const filter = and(...conditions);
  const [{ n }] = await db.select({ n: sql<number>`count(*)::int` }).from(activityLog).where(filter);
  const rows = await db
    .select({ entry: activityLog, firstName: users.firstName, email: users.email })
    .from(activityLog)
    .leftJoin(users, eq(users.id, activityLog.userId))
    .where(filter)
    .orderBy(desc(activityLog.createdAt), desc(activityLog.seq))
    .limit(page.limit)
    .offset(page.offset);
  return {
    total: n,
    rows: rows.map((r) => ({ entry: r.entry, user: r.email === null ? null : { firstName: r.firstName ?? '', email: r.email } })),
  };
}

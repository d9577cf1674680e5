// Activity-log rows: written in the caller's transaction, read newest first with page/limit.
import { and, desc, eq, gte, inArray, lte, sql, type SQL } from 'drizzle-orm';
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

/** The project-wide log's filters (all optional; lists match any of their values). */
export interface ActivityFilters {
  projectId: number;
  scopes?: string[];
  activities?: string[];
  itemIds?: string[];
  userUuids?: string[];
  from?: Date;
  to?: Date;
}

/** One page of the project's log with the filters, newest first, and how many entries match. */
export async function listProjectActivity(db: Db, f: ActivityFilters, page: { limit: number; offset: number }): Promise<ActivityPage> {
  const conditions: SQL[] = [eq(activityLog.projectId, f.projectId)];
  if (f.scopes?.length) conditions.push(inArray(activityLog.scope, f.scopes));
  if (f.activities?.length) conditions.push(inArray(activityLog.activity, f.activities));
  if (f.itemIds?.length) conditions.push(inArray(activityLog.itemId, f.itemIds));
  if (f.userUuids?.length) conditions.push(sql`${activityLog.userId} in (select ${users.id} from ${users} where ${inArray(users.uuid, f.userUuids)})`);
  if (f.from) conditions.push(gte(activityLog.createdAt, f.from));
  if (f.to) conditions.push(lte(activityLog.createdAt, f.to));
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

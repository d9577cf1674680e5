// Dashboard rows: flaghost keeps the usage dashboards of flags, their tiles stored as JSON.
import { and, eq } from 'drizzle-orm';
import type { Db } from '../../platform/db/index.ts';
import { dashboards } from '../../platform/db/schema.ts';

export type DashboardRow = typeof dashboards.$inferSelect;
export type NewDashboardRow = typeof dashboards.$inferInsert;

export async function insertDashboard(db: Db, values: NewDashboardRow): Promise<DashboardRow> {
  const [row] = await db.insert(dashboards).values(values).returning();
  return row;
}

export async function findDashboard(db: Db, projectId: number, id: number): Promise<DashboardRow | undefined> {
  const [row] = await db
    .select()
    .from(dashboards)
    .where(and(eq(dashboards.projectId, projectId), eq(dashboards.id, id)))
    .limit(1);
  return row;
}

/** A dashboard of any project (the browser page resolves the project from it). */
export async function findDashboardAnyProject(db: Db, id: number): Promise<DashboardRow | undefined> {
  const [row] = await db.select().from(dashboards).where(eq(dashboards.id, id)).limit(1);
  return row;
}

/** The dashboard row locked until the transaction ends (concurrent enrich requests queue). */
export async function findDashboardForUpdate(db: Db, projectId: number, id: number): Promise<DashboardRow | undefined> {
  const [row] = await db
    .select()
    .from(dashboards)
    .where(and(eq(dashboards.projectId, projectId), eq(dashboards.id, id)))
    .limit(1)
    .for('update');
  return row;
}

export async function updateDashboard(db: Db, id: number, values: Partial<NewDashboardRow>): Promise<DashboardRow> {
  const [row] = await db.update(dashboards).set(values).where(eq(dashboards.id, id)).returning();
  return row;
}

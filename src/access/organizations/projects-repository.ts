// Organizations and projects (PostHog's teams: here a project and its team are one row).
import { asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db/index.ts';
import { organizations, projects } from '../../platform/db/schema.ts';

export type Organization = typeof organizations.$inferSelect;
export type Project = typeof projects.$inferSelect;

export async function insertOrganization(db: Db, values: typeof organizations.$inferInsert): Promise<Organization> {
  const [row] = await db.insert(organizations).values(values).returning();
  return row;
}

export async function findOrganization(db: Db, id: string): Promise<Organization | undefined> {
  const [row] = await db.select().from(organizations).where(eq(organizations.id, id)).limit(1);
  return row;
}

/** The given organizations, or every organization when `ids` is omitted, oldest first. */
export async function listOrganizations(db: Db, ids?: string[]): Promise<Organization[]> {
  if (ids && !ids.length) return [];
  const query = db.select().from(organizations);
  return (ids ? query.where(inArray(organizations.id, ids)) : query).orderBy(asc(organizations.createdAt), asc(organizations.id));
}

export async function findFirstOrganization(db: Db): Promise<Organization | undefined> {
  const [row] = await db.select().from(organizations).orderBy(asc(organizations.createdAt), asc(organizations.id)).limit(1);
  return row;
}

/** Serializes first-start bootstrap between instances starting together (transaction-scoped). */
export async function lockForBootstrap(db: Db): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext('flaghost_bootstrap'))`);
}

export async function countOrganizations(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(organizations);
  return row.n;
}

export async function insertProject(db: Db, values: typeof projects.$inferInsert): Promise<Project> {
  const [row] = await db.insert(projects).values(values).returning();
  return row;
}

export async function findProject(db: Db, id: number): Promise<Project | undefined> {
  const [row] = await db.select().from(projects).where(eq(projects.id, id)).limit(1);
  return row;
}

export async function findProjectByToken(db: Db, apiToken: string): Promise<Project | undefined> {
  const [row] = await db.select().from(projects).where(eq(projects.apiToken, apiToken)).limit(1);
  return row;
}

/** The project whose secret token, or the backup kept since its last rotation, this is. */
export async function findProjectBySecretToken(db: Db, secretToken: string): Promise<Project | undefined> {
  const [row] = await db
    .select()
    .from(projects)
    .where(or(eq(projects.secretApiToken, secretToken), eq(projects.secretApiTokenBackup, secretToken)))
    .limit(1);
  return row;
}

/** The project row, locked until the transaction ends (token rotations and renames queue). */
export async function findProjectForUpdate(db: Db, id: number): Promise<Project | undefined> {
  const [row] = await db.select().from(projects).where(eq(projects.id, id)).limit(1).for('update');
  return row;
}

export async function updateProject(db: Db, id: number, values: Partial<typeof projects.$inferInsert>): Promise<Project> {
  const [row] = await db
    .update(projects)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(projects.id, id))
    .returning();
  return row;
}

export async function countProjectsOfOrganization(db: Db, organizationId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(projects).where(eq(projects.organizationId, organizationId));
  return row.n;
}

export async function listProjectsOfOrganizations(db: Db, organizationIds: string[]): Promise<Project[]> {
  if (!organizationIds.length) return [];
  return db.select().from(projects).where(inArray(projects.organizationId, organizationIds)).orderBy(asc(projects.id));
}

export async function listAllProjects(db: Db): Promise<Project[]> {
  return db.select().from(projects).orderBy(asc(projects.id));
}

/** id → revision of every project: the periodic snapshot check reads only this. */
export async function listProjectRevisions(db: Db): Promise<Array<{ id: number; revision: number; apiToken: string }>> {
  return db.select({ id: projects.id, revision: projects.revision, apiToken: projects.apiToken }).from(projects);
}

/** Locks the organization row until the transaction ends. */
export async function lockOrganization(db: Db, id: string): Promise<void> {
  await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, id)).for('update');
}

// Organization invites.
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db/index.ts';
import { organizationInvites, organizations, users } from '../../platform/db/schema.ts';
import type { User } from '../organizations/users-repository.ts';

export type Invite = typeof organizationInvites.$inferSelect;

export async function insertInvite(db: Db, values: typeof organizationInvites.$inferInsert): Promise<Invite> {
  const [row] = await db.insert(organizationInvites).values(values).returning();
  return row;
}

/** An organization's invites, newest first, with their creators. */
export async function listInvitesOfOrganization(db: Db, organizationId: string): Promise<Array<{ invite: Invite; createdBy: User | null }>> {
  return db
    .select({ invite: organizationInvites, createdBy: users })
    .from(organizationInvites)
    .leftJoin(users, eq(users.id, organizationInvites.createdById))
    .where(eq(organizationInvites.organizationId, organizationId))
    .orderBy(desc(organizationInvites.createdAt), desc(organizationInvites.id));
}

export async function findInviteWithOrganization(db: Db, id: string): Promise<{ invite: Invite; organizationName: string } | undefined> {
  const [row] = await db
    .select({ invite: organizationInvites, organizationName: organizations.name })
    .from(organizationInvites)
    .innerJoin(organizations, eq(organizations.id, organizationInvites.organizationId))
    .where(eq(organizationInvites.id, id))
    .limit(1);
  return row;
}

export async function deleteInvite(db: Db, organizationId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(organizationInvites)
    .where(and(eq(organizationInvites.organizationId, organizationId), eq(organizationInvites.id, id)))
    .returning({ id: organizationInvites.id });
  return rows.length > 0;
}

export async function deleteInvitesFor(db: Db, organizationId: string, email: string): Promise<void> {
  await db
    .delete(organizationInvites)
    .where(and(eq(organizationInvites.organizationId, organizationId), eq(sql`lower(${organizationInvites.targetEmail})`, email.toLowerCase())));
}

// Users and organization memberships.
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db/index.ts';
import { organizationMemberships, users } from '../../platform/db/schema.ts';

export type User = typeof users.$inferSelect;
export type Membership = typeof organizationMemberships.$inferSelect;

export const MembershipLevel = { member: 1, admin: 8, owner: 15 } as const;
export type MembershipLevelName = keyof typeof MembershipLevel;

export async function findUserByEmail(db: Db, email: string): Promise<User | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, email.toLowerCase()))
    .limit(1);
  return row;
}

export async function findUsersByIds(db: Db, ids: number[]): Promise<Map<number, User>> {
  if (!ids.length) return new Map();
  const rows = await db
    .select()
    .from(users)
    .where(inArray(users.id, [...new Set(ids)]));
  return new Map(rows.map((u) => [u.id, u]));
}

export async function insertUser(db: Db, values: typeof users.$inferInsert): Promise<User> {
  const [row] = await db.insert(users).values(values).returning();
  return row;
}

export async function updateUser(db: Db, id: number, values: Partial<typeof users.$inferInsert>): Promise<void> {
  await db.update(users).set(values).where(eq(users.id, id));
}

export async function findMembership(db: Db, organizationId: string, userId: number): Promise<Membership | undefined> {
  const [row] = await db
    .select()
    .from(organizationMemberships)
    .where(and(eq(organizationMemberships.organizationId, organizationId), eq(organizationMemberships.userId, userId)))
    .limit(1);
  return row;
}

export async function listMembershipsOfUser(db: Db, userId: number): Promise<Membership[]> {
  return db.select().from(organizationMemberships).where(eq(organizationMemberships.userId, userId)).orderBy(asc(organizationMemberships.joinedAt));
}

export async function listMembersOfOrganization(db: Db, organizationId: string): Promise<Array<{ membership: Membership; user: User }>> {
  return db
    .select({ membership: organizationMemberships, user: users })
    .from(organizationMemberships)
    .innerJoin(users, eq(users.id, organizationMemberships.userId))
    .where(eq(organizationMemberships.organizationId, organizationId))
    .orderBy(asc(organizationMemberships.joinedAt), asc(users.id));
}

export async function upsertMembership(db: Db, organizationId: string, userId: number, level: number): Promise<Membership> {
  const [row] = await db
    .insert(organizationMemberships)
    .values({ organizationId, userId, level })
    .onConflictDoUpdate({
      target: [organizationMemberships.organizationId, organizationMemberships.userId],
      set: { level, updatedAt: new Date() },
    })
    .returning();
  return row;
}

/** The membership of the active user with this uuid in the organization, locked until the transaction ends. */
export async function findMemberByUuidForUpdate(db: Db, organizationId: string, uuid: string): Promise<{ membership: Membership; user: User } | undefined> {
  const [row] = await db
    .select({ membership: organizationMemberships, user: users })
    .from(organizationMemberships)
    .innerJoin(users, eq(users.id, organizationMemberships.userId))
    .where(and(eq(organizationMemberships.organizationId, organizationId), eq(users.uuid, uuid), eq(users.isActive, true)))
    .limit(1)
    .for('update', { of: organizationMemberships });
  return row;
}

export async function setMembershipLevel(db: Db, id: string, level: number): Promise<Membership> {
  const [row] = await db.update(organizationMemberships).set({ level, updatedAt: new Date() }).where(eq(organizationMemberships.id, id)).returning();
  return row;
}

export async function deleteMembership(db: Db, id: string): Promise<void> {
  await db.delete(organizationMemberships).where(eq(organizationMemberships.id, id));
}

/** Owners of the organization, locked: two owners leaving at once cannot leave it without one. */
export async function lockOwners(db: Db, organizationId: string, ownerLevel: number): Promise<Membership[]> {
  return db
    .select()
    .from(organizationMemberships)
    .where(and(eq(organizationMemberships.organizationId, organizationId), eq(organizationMemberships.level, ownerLevel)))
    .for('update');
}

/** Locks the user row until the transaction ends. */
export async function lockUser(db: Db, id: number): Promise<void> {
  await db.select({ id: users.id }).from(users).where(eq(users.id, id)).for('update');
}

// Roles, role memberships, organization resource access and feature-flag role access rows, always
// looked up within one organization (or one flag) so that nothing crosses an organization.
import { and, asc, count, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db/index.ts';
import {
  featureFlagRoleAccess,
  featureFlags,
  organizationMemberships,
  organizationResourceAccess,
  roleMemberships,
  roles,
  users,
} from '../../platform/db/schema.ts';
import type { User } from '../organizations/users-repository.ts';

export type Role = typeof roles.$inferSelect;
export type RoleMembership = typeof roleMemberships.$inferSelect;
export type ResourceAccess = typeof organizationResourceAccess.$inferSelect;
export type FlagRoleAccess = typeof featureFlagRoleAccess.$inferSelect;

export const FEATURE_FLAGS_RESOURCE = 'feature flags';

// ---------------------------------------------------------------------------------------------
// Roles

export async function listRoles(db: Db, organizationId: string, page: { limit: number; offset: number }): Promise<{ count: number; rows: Role[] }> {
  const where = eq(roles.organizationId, organizationId);
  const [total] = await db.select({ n: count() }).from(roles).where(where);
  const rows = await db.select().from(roles).where(where).orderBy(asc(roles.createdAt), asc(roles.id)).limit(page.limit).offset(page.offset);
  return { count: Number(total.n), rows };
}

export async function findRole(db: Db, organizationId: string, id: string): Promise<Role | undefined> {
  const [row] = await db
    .select()
    .from(roles)
    .where(and(eq(roles.organizationId, organizationId), eq(roles.id, id)))
    .limit(1);
  return row;
}

/** A role of the organization with this name, ignoring case (the uniqueness rule). */
export async function findRoleByName(db: Db, organizationId: string, name: string, exceptId?: string): Promise<Role | undefined> {
  const conditions = [eq(roles.organizationId, organizationId), eq(sql`lower(${roles.name})`, name.toLowerCase())];
  if (exceptId) conditions.push(ne(roles.id, exceptId));
  const [row] = await db
    .select()
    .from(roles)
    .where(and(...conditions))
    .limit(1);
  return row;
}

export async function insertRole(db: Db, values: typeof roles.$inferInsert): Promise<Role> {
  const [row] = await db.insert(roles).values(values).returning();
  return row;
}

export async function updateRole(db: Db, id: string, values: Partial<typeof roles.$inferInsert>): Promise<Role> {
  const [row] = await db.update(roles).set(values).where(eq(roles.id, id)).returning();
  return row;
}

export async function deleteRole(db: Db, id: string): Promise<void> {
  await db.delete(roles).where(eq(roles.id, id));
}

// ---------------------------------------------------------------------------------------------
// Role memberships

export interface RoleMemberRow {
  membership: RoleMembership;
  user: User;
}

/** Members of the given roles, oldest first (one query for a page of roles). */
export async function listMembersOfRoles(db: Db, roleIds: string[]): Promise<RoleMemberRow[]> {
  if (!roleIds.length) return [];
  return db
    .select({ membership: roleMemberships, user: users })
    .from(roleMemberships)
    .innerJoin(users, eq(users.id, roleMemberships.userId))
    .where(inArray(roleMemberships.roleId, roleIds))
    .orderBy(asc(roleMemberships.joinedAt), asc(roleMemberships.id));
}

export async function listRoleMembersPage(db: Db, roleId: string, page: { limit: number; offset: number }): Promise<{ count: number; rows: RoleMemberRow[] }> {
  const [total] = await db.select({ n: count() }).from(roleMemberships).where(eq(roleMemberships.roleId, roleId));
  const rows = await db
    .select({ membership: roleMemberships, user: users })
    .from(roleMemberships)
    .innerJoin(users, eq(users.id, roleMemberships.userId))
    .where(eq(roleMemberships.roleId, roleId))
    .orderBy(asc(roleMemberships.joinedAt), asc(roleMemberships.id))
    .limit(page.limit)
    .offset(page.offset);
  return { count: Number(total.n), rows };
}

export async function findRoleMembership(db: Db, roleId: string, id: string): Promise<RoleMembership | undefined> {
  const [row] = await db
    .select()
    .from(roleMemberships)
    .where(and(eq(roleMemberships.roleId, roleId), eq(roleMemberships.id, id)))
    .limit(1);
  return row;
}

/** Inserts the membership; undefined when the user already is in the role. */
export async function insertRoleMembership(db: Db, roleId: string, userId: number): Promise<RoleMembership | undefined> {
  const [row] = await db.insert(roleMemberships).values({ roleId, userId }).onConflictDoNothing().returning();
  return row;
}

export async function deleteRoleMembership(db: Db, id: string): Promise<void> {
  await db.delete(roleMemberships).where(eq(roleMemberships.id, id));
}

/** The active user with this uuid, if they belong to the organization. */
export async function findActiveMemberByUuid(db: Db, organizationId: string, uuid: string): Promise<User | undefined> {
  const [row] = await db
    .select({ user: users })
    .from(users)
    .innerJoin(organizationMemberships, and(eq(organizationMemberships.userId, users.id), eq(organizationMemberships.organizationId, organizationId)))
    .where(and(eq(users.uuid, uuid), eq(users.isActive, true)))
    .limit(1);
  return row?.user;
}

// ---------------------------------------------------------------------------------------------
// Organization resource access

export async function listResourceAccess(
  db: Db,
  organizationId: string,
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: ResourceAccess[] }> {
  const where = eq(organizationResourceAccess.organizationId, organizationId);
  const [total] = await db.select({ n: count() }).from(organizationResourceAccess).where(where);
  const rows = await db
    .select()
    .from(organizationResourceAccess)
    .where(where)
    .orderBy(asc(organizationResourceAccess.id))
    .limit(page.limit)
    .offset(page.offset);
  return { count: Number(total.n), rows };
}

export async function findResourceAccess(db: Db, organizationId: string, id: number): Promise<ResourceAccess | undefined> {
  const [row] = await db
    .select()
    .from(organizationResourceAccess)
    .where(and(eq(organizationResourceAccess.organizationId, organizationId), eq(organizationResourceAccess.id, id)))
    .limit(1);
  return row;
}

export async function findResourceAccessByResource(db: Db, organizationId: string, resource: string, exceptId?: number): Promise<ResourceAccess | undefined> {
  const conditions = [eq(organizationResourceAccess.organizationId, organizationId), eq(organizationResourceAccess.resource, resource)];
  if (exceptId !== undefined) conditions.push(ne(organizationResourceAccess.id, exceptId));
  const [row] = await db
    .select()
    .from(organizationResourceAccess)
    .where(and(...conditions))
    .limit(1);
  return row;
}

export async function insertResourceAccess(db: Db, values: typeof organizationResourceAccess.$inferInsert): Promise<ResourceAccess> {
  const [row] = await db.insert(organizationResourceAccess).values(values).returning();
  return row;
}

export async function updateResourceAccess(db: Db, id: number, values: Partial<typeof organizationResourceAccess.$inferInsert>): Promise<ResourceAccess> {
  const [row] = await db.update(organizationResourceAccess).set(values).where(eq(organizationResourceAccess.id, id)).returning();
  return row;
}

export async function deleteResourceAccess(db: Db, id: number): Promise<void> {
  await db.delete(organizationResourceAccess).where(eq(organizationResourceAccess.id, id));
}

// ---------------------------------------------------------------------------------------------
// Feature-flag role access

export async function listFlagRoleAccess(
  db: Db,
  featureFlagId: number,
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: FlagRoleAccess[] }> {
  const where = eq(featureFlagRoleAccess.featureFlagId, featureFlagId);
  const [total] = await db.select({ n: count() }).from(featureFlagRoleAccess).where(where);
  const rows = await db
    .select()
    .from(featureFlagRoleAccess)
    .where(where)
    .orderBy(asc(featureFlagRoleAccess.addedAt), asc(featureFlagRoleAccess.id))
    .limit(page.limit)
    .offset(page.offset);
  return { count: Number(total.n), rows };
}

export async function findFlagRoleAccess(db: Db, featureFlagId: number, id: number): Promise<FlagRoleAccess | undefined> {
  const [row] = await db
    .select()
    .from(featureFlagRoleAccess)
    .where(and(eq(featureFlagRoleAccess.featureFlagId, featureFlagId), eq(featureFlagRoleAccess.id, id)))
    .limit(1);
  return row;
}

/** Inserts the link; undefined when the role already has access to the flag. */
export async function insertFlagRoleAccess(db: Db, featureFlagId: number, roleId: string): Promise<FlagRoleAccess | undefined> {
  const [row] = await db.insert(featureFlagRoleAccess).values({ featureFlagId, roleId }).onConflictDoNothing().returning();
  return row;
}

export async function deleteFlagRoleAccess(db: Db, id: number): Promise<void> {
  await db.delete(featureFlagRoleAccess).where(eq(featureFlagRoleAccess.id, id));
}

/** Flags (id, key) each role was given access to: a role's `associated_flags`. */
export async function flagsOfRoles(db: Db, roleIds: string[]): Promise<Array<{ roleId: string; id: number; key: string }>> {
  if (!roleIds.length) return [];
  return db
    .select({ roleId: featureFlagRoleAccess.roleId, id: featureFlags.id, key: featureFlags.key })
    .from(featureFlagRoleAccess)
    .innerJoin(featureFlags, eq(featureFlags.id, featureFlagRoleAccess.featureFlagId))
    .where(inArray(featureFlagRoleAccess.roleId, roleIds))
    .orderBy(asc(featureFlagRoleAccess.addedAt), asc(featureFlagRoleAccess.id));
}

export async function findRolesByIds(db: Db, ids: string[]): Promise<Role[]> {
  if (!ids.length) return [];
  return db
    .select()
    .from(roles)
    .where(inArray(roles.id, [...new Set(ids)]));
}

// ---------------------------------------------------------------------------------------------
// The inputs of the feature-flag access rules (docs/compatibility.md#api-8.1)

export interface FlagAccessPolicyRow {
  /** The organization's level for feature flags; null when it has none (which means 37). */
  organizationLevel: number | null;
  /** The caller's roles in this organization. */
  roles: Array<{ id: string; level: number }>;
}

/** One query: the organization's flag access level and the user's roles in that organization. */
export async function flagAccessPolicy(db: Db, organizationId: string, userId: number): Promise<FlagAccessPolicyRow> {
  const rows = await db
    .select({ organizationLevel: organizationResourceAccess.accessLevel, roleId: roles.id, roleLevel: roles.featureFlagsAccessLevel })
    .from(organizationMemberships)
    .leftJoin(
      organizationResourceAccess,
      and(eq(organizationResourceAccess.organizationId, organizationId), eq(organizationResourceAccess.resource, FEATURE_FLAGS_RESOURCE)),
    )
    .leftJoin(
      roles,
      and(
        eq(roles.organizationId, organizationId),
        inArray(roles.id, db.select({ id: roleMemberships.roleId }).from(roleMemberships).where(eq(roleMemberships.userId, userId))),
      ),
    )
    .where(and(eq(organizationMemberships.organizationId, organizationId), eq(organizationMemberships.userId, userId)));
  return {
    organizationLevel: rows[0]?.organizationLevel ?? null,
    roles: rows.filter((r) => r.roleId !== null).map((r) => ({ id: r.roleId!, level: r.roleLevel! })),
  };
}

/** Which of `flagIds` were given to at least one of `roleIds`. */
export async function flagsSharedWithRoles(db: Db, flagIds: number[], roleIds: string[]): Promise<Set<number>> {
  if (!flagIds.length || !roleIds.length) return new Set();
  const rows = await db
    .selectDistinct({ id: featureFlagRoleAccess.featureFlagId })
    .from(featureFlagRoleAccess)
    .where(and(inArray(featureFlagRoleAccess.featureFlagId, flagIds), inArray(featureFlagRoleAccess.roleId, roleIds)));
  return new Set(rows.map((r) => r.id));
}

/** Soft-deleted flags holding `key` (a create or rename over that key removes them for good). */
export async function findSoftDeletedFlagsWithKey(db: Db, projectId: number, key: string, exceptId?: number) {
  const conditions = [eq(featureFlags.projectId, projectId), eq(featureFlags.key, key), eq(featureFlags.deleted, true)];
  if (exceptId !== undefined) conditions.push(ne(featureFlags.id, exceptId));
  return db
    .select()
    .from(featureFlags)
    .where(and(...conditions));
}

/** Removes the user from every role of the organization (they are leaving it). */
export async function deleteRoleMembershipsOfUser(db: Db, organizationId: string, userId: number): Promise<void> {
  const ids = db.select({ id: roles.id }).from(roles).where(eq(roles.organizationId, organizationId));
  await db.delete(roleMemberships).where(and(eq(roleMemberships.userId, userId), inArray(roleMemberships.roleId, ids)));
}

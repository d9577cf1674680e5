// Organization-level access control: members, roles, role memberships and the organization's
// resource access levels. Every change here alters who may do what, so each one tells every
// instance (changes.authChanged()) once it commits.
import type { Db } from '../../platform/db/index.ts';
import { transact, type AppContext } from '../../platform/context.ts';
import type { RequestAuth } from '../auth.ts';
import { CAN_ALWAYS_EDIT } from './flag-access.ts';
import {
  deleteResourceAccess,
  deleteRole,
  deleteRoleMembership,
  FEATURE_FLAGS_RESOURCE,
  findActiveMemberByUuid,
  findResourceAccess,
  findResourceAccessByResource,
  findRole,
  findRoleByName,
  findRoleMembership,
  flagsOfRoles,
  insertResourceAccess,
  insertRole,
  insertRoleMembership,
  listMembersOfRoles,
  listResourceAccess,
  listRoleMembersPage,
  listRoles,
  updateResourceAccess,
  updateRole,
  type Role,
} from './repository.ts';
import { findUsersByIds, listMembersOfOrganization } from '../organizations/users-repository.ts';
import { toOrganizationMember, toResourceAccess, toRole, toRoleMembership, type RoleOut } from './schemas.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { NotFoundError, ValidationError } from '../../platform/errors.ts';
import { limitOffsetLinks, parseLimitOffset, type Paginated } from '../../platform/pagination.ts';
import { requireOrganization, requireUser } from '../require-auth.ts';

type Query = Record<string, unknown>;

function page<T>(url: URL, count: number, results: T[], limit: number, offset: number): Paginated<T> {
  return { count, ...limitOffsetLinks(url, count, limit, offset), results };
}

// ---------------------------------------------------------------------------------------------
// Members

/** Active members, PostHog's order: by level (members first), then newest first. */
export async function listOrganizationMembers(ctx: AppContext, auth: RequestAuth, query: Query, url: URL) {
  const { limit, offset } = parseLimitOffset(query);
  const all = (await listMembersOfOrganization(ctx.db, requireOrganization(auth).id))
    .filter((m) => m.user.isActive)
    .sort((a, b) => a.membership.level - b.membership.level || b.membership.joinedAt.getTime() - a.membership.joinedAt.getTime());
  return page(
    url,
    all.length,
    all.slice(offset, offset + limit).map((m) => toOrganizationMember(m.membership, m.user)),
    limit,
    offset,
  );
}

// ---------------------------------------------------------------------------------------------
// Roles

/** Full representations of roles: creators, members and shared flags in three queries. */
export async function presentRoles(db: Db, rows: Role[]): Promise<RoleOut[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const [members, flags, creators] = await Promise.all([
    listMembersOfRoles(db, ids),
    flagsOfRoles(db, ids),
    findUsersByIds(
      db,
      rows.map((r) => r.createdById).filter((id): id is number => id !== null),
    ),
  ]);
  return rows.map((role) =>
    toRole(role, {
      users: creators,
      members: members.filter((m) => m.membership.roleId === role.id),
      flags: flags.filter((f) => f.roleId === role.id).map((f) => ({ id: f.id, key: f.key })),
    }),
  );
}

async function presentRole(db: Db, role: Role): Promise<RoleOut> {
  return (await presentRoles(db, [role]))[0];
}

/** The role of the request's organization, or 404 (a role of another organization does not exist here). */
export async function roleOf(db: Db, auth: RequestAuth, id: string): Promise<Role> {
  const role = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)
    ? await findRole(db, requireOrganization(auth).id, id.toLowerCase())
    : undefined;
  if (!role) throw new NotFoundError();
  return role;
}

export async function listRolesPage(ctx: AppContext, auth: RequestAuth, query: Query, url: URL): Promise<Paginated<RoleOut>> {
  const { limit, offset } = parseLimitOffset(query);
  const { count, rows } = await listRoles(ctx.db, requireOrganization(auth).id, { limit, offset });
  return page(url, count, await presentRoles(ctx.db, rows), limit, offset);
}

export async function getRole(ctx: AppContext, auth: RequestAuth, id: string): Promise<RoleOut> {
  return presentRole(ctx.db, await roleOf(ctx.db, auth, id));
}

const duplicateRoleName = () => new ValidationError('There is already a role with this name.', 'unique', 'name');

async function assertRoleNameFree(db: Db, organizationId: string, name: string, exceptId?: string): Promise<void> {
  if (await findRoleByName(db, organizationId, name, exceptId)) throw duplicateRoleName();
}

/** Runs a role write, turning a lost race on the (organization, lower(name)) index into the same 400. */
async function roleWrite<T>(ctx: AppContext, fn: (tx: Db, changes: { authChanged(): void }) => Promise<T>): Promise<T> {
  try {
    return await transact(ctx, fn);
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateRoleName();
    throw error;
  }
}

export async function createRole(ctx: AppContext, auth: RequestAuth, body: { name: string; feature_flags_access_level?: number }): Promise<RoleOut> {
  const organizationId = requireOrganization(auth).id;
  const role = await roleWrite(ctx, async (tx, changes) => {
    await assertRoleNameFree(tx, organizationId, body.name);
    // PostHog starts a role at the organization's level for flags; an explicit level wins here.
    const level =
      body.feature_flags_access_level ?? (await findResourceAccessByResource(tx, organizationId, FEATURE_FLAGS_RESOURCE))?.accessLevel ?? CAN_ALWAYS_EDIT;
    const created = await insertRole(tx, {
      organizationId,
      name: body.name,
      featureFlagsAccessLevel: level,
      createdById: requireUser(auth).id,
      createdAt: ctx.now(),
    });
    changes.authChanged();
    return created;
  });
  return presentRole(ctx.db, role);
}

export async function updateRoleById(
  ctx: AppContext,
  auth: RequestAuth,
  id: string,
  body: { name?: string; feature_flags_access_level?: number },
): Promise<RoleOut> {
  const role = await roleWrite(ctx, async (tx, changes) => {
    const existing = await roleOf(tx, auth, id);
    if (body.name !== undefined) await assertRoleNameFree(tx, existing.organizationId, body.name, existing.id);
    const values: Partial<Role> = {};
    if (body.name !== undefined) values.name = body.name;
    if (body.feature_flags_access_level !== undefined) values.featureFlagsAccessLevel = body.feature_flags_access_level;
    if (!Object.keys(values).length) return existing;
    const updated = await updateRole(tx, existing.id, values);
    changes.authChanged();
    return updated;
  });
  return presentRole(ctx.db, role);
}

/** Deletes the role with its memberships and the flag access it was given. */
export async function deleteRoleById(ctx: AppContext, auth: RequestAuth, id: string): Promise<void> {
  await transact(ctx, async (tx, changes) => {
    const role = await roleOf(tx, auth, id);
    await deleteRole(tx, role.id);
    changes.authChanged();
  });
}

// ---------------------------------------------------------------------------------------------
// Role memberships

export async function listRoleMemberships(ctx: AppContext, auth: RequestAuth, roleId: string, query: Query, url: URL) {
  const role = await roleOf(ctx.db, auth, roleId);
  const { limit, offset } = parseLimitOffset(query);
  const { count, rows } = await listRoleMembersPage(ctx.db, role.id, { limit, offset });
  return page(url, count, rows.map(toRoleMembership), limit, offset);
}

/** Adds an active member of the role's organization to the role (PostHog's errors otherwise). */
export async function addRoleMember(ctx: AppContext, auth: RequestAuth, roleId: string, userUuid: string) {
  return transact(ctx, async (tx, changes) => {
    const role = await roleOf(tx, auth, roleId);
    const user = await findActiveMemberByUuid(tx, role.organizationId, userUuid);
    if (!user) throw new ValidationError('User does not exist.');
    const membership = await insertRoleMembership(tx, role.id, user.id);
    if (!membership) throw new ValidationError('User is already part of the role.');
    changes.authChanged();
    return toRoleMembership({ membership, user });
  });
}

export async function removeRoleMember(ctx: AppContext, auth: RequestAuth, roleId: string, membershipId: string): Promise<void> {
  await transact(ctx, async (tx, changes) => {
    const role = await roleOf(tx, auth, roleId);
    const membership = /^[0-9a-f-]{36}$/i.test(membershipId) ? await findRoleMembership(tx, role.id, membershipId.toLowerCase()) : undefined;
    if (!membership) throw new NotFoundError();
    await deleteRoleMembership(tx, membership.id);
    changes.authChanged();
  });
}

// ---------------------------------------------------------------------------------------------
// Organization resource access

const duplicateResource = () => new ValidationError('This resource access already exists.', 'unique', 'resource');

export async function listResourceAccessPage(ctx: AppContext, auth: RequestAuth, query: Query, url: URL) {
  const { limit, offset } = parseLimitOffset(query);
  const { count, rows } = await listResourceAccess(ctx.db, requireOrganization(auth).id, { limit, offset });
  return page(url, count, rows.map(toResourceAccess), limit, offset);
}

async function resourceAccessOf(db: Db, auth: RequestAuth, id: string) {
  const row = /^\d{1,9}$/.test(id) ? await findResourceAccess(db, requireOrganization(auth).id, Number(id)) : undefined;
  if (!row) throw new NotFoundError();
  return row;
}

export async function getResourceAccess(ctx: AppContext, auth: RequestAuth, id: string) {
  return toResourceAccess(await resourceAccessOf(ctx.db, auth, id));
}

async function resourceWrite<T>(ctx: AppContext, fn: (tx: Db, changes: { authChanged(): void }) => Promise<T>): Promise<T> {
  try {
    return await transact(ctx, fn);
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateResource();
    throw error;
  }
}

export async function createResourceAccess(ctx: AppContext, auth: RequestAuth, body: { resource: string; access_level?: number }) {
  const organizationId = requireOrganization(auth).id;
  return resourceWrite(ctx, async (tx, changes) => {
    if (await findResourceAccessByResource(tx, organizationId, body.resource)) throw duplicateResource();
    const now = ctx.now();
    const row = await insertResourceAccess(tx, {
      organizationId,
      resource: body.resource,
      accessLevel: body.access_level ?? CAN_ALWAYS_EDIT,
      createdById: requireUser(auth).id,
      createdAt: now,
      updatedAt: now,
    });
    changes.authChanged();
    return toResourceAccess(row);
  });
}

export async function updateResourceAccessById(ctx: AppContext, auth: RequestAuth, id: string, body: { resource?: string; access_level?: number }) {
  return resourceWrite(ctx, async (tx, changes) => {
    const existing = await resourceAccessOf(tx, auth, id);
    if (body.resource !== undefined && (await findResourceAccessByResource(tx, existing.organizationId, body.resource, existing.id))) throw duplicateResource();
    const row = await updateResourceAccess(tx, existing.id, {
      ...(body.resource !== undefined ? { resource: body.resource } : {}),
      ...(body.access_level !== undefined ? { accessLevel: body.access_level } : {}),
      updatedAt: ctx.now(),
    });
    changes.authChanged();
    return toResourceAccess(row);
  });
}

export async function deleteResourceAccessById(ctx: AppContext, auth: RequestAuth, id: string): Promise<void> {
  await transact(ctx, async (tx, changes) => {
    const existing = await resourceAccessOf(tx, auth, id);
    await deleteResourceAccess(tx, existing.id);
    changes.authChanged();
  });
}

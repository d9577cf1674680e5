// Who may edit which flag (PostHog's role-based access, docs/compatibility.md#api-8.1): `can_edit` and
// `user_access_level` of every flag representation, the 403 on writes, and who may change a flag's
// role access. Organization owners/admins and a flag's creator always edit it; otherwise the
// organization's level for feature flags (no row: "can always edit"), then the caller's roles, and
// for "can only view" the roles the flag was shared with decide.
import { findFlag, type FeatureFlagRow } from '../../flags/repository.ts';
import type { RequestAuth } from '../auth.ts';
import type { Db } from '../../platform/db/index.ts';
import { MembershipLevel } from '../organizations/users-repository.ts';
import { flagAccessPolicy, flagsSharedWithRoles, findSoftDeletedFlagsWithKey } from './repository.ts';
import type { AccessLevel } from '../../flags/schemas.ts';
import { NotFoundError, PermissionDeniedError } from '../../platform/errors.ts';
import { requireProject } from '../require-auth.ts';

/** PostHog's OrganizationResourceAccess levels (also a role's `feature_flags_access_level`). */
export const CAN_ONLY_VIEW = 21;
export const CAN_ALWAYS_EDIT = 37;
export const ACCESS_LEVEL_CHOICES = [CAN_ONLY_VIEW, CAN_ALWAYS_EDIT] as const;

export type FlagAccess = (flag: FeatureFlagRow) => { canEdit: boolean; level: AccessLevel };

const MANAGER = { canEdit: true, level: 'manager' } as const;
const EDITOR = { canEdit: true, level: 'editor' } as const;
const VIEWER = { canEdit: false, level: 'viewer' } as const;

const isAdmin = (auth: RequestAuth) => auth.principal.kind === 'project_secret' || (auth.membership?.level ?? 0) >= MembershipLevel.admin;
const isCreator = (auth: RequestAuth, flag: FeatureFlagRow) => flag.createdById !== null && flag.createdById === auth.user?.id;

/**
 * The caller's access to `flags` (all of the request's project) in at most two queries for the
 * whole page: the organization level with the caller's roles, then (only under "can only view")
 * which of the flags were shared with those roles.
 */
export async function flagAccessResolver(db: Db, auth: RequestAuth, flags: FeatureFlagRow[]): Promise<FlagAccess> {
  if (isAdmin(auth)) return () => MANAGER;
  const others = flags.filter((f) => !isCreator(auth, f));
  if (!others.length || !auth.user || !auth.organization) return (f) => (isCreator(auth, f) ? MANAGER : VIEWER);
  const policy = await flagAccessPolicy(db, auth.organization.id, auth.user.id);
  const organizationLevel = policy.organizationLevel ?? CAN_ALWAYS_EDIT;
  const roleLevel = Math.max(0, ...policy.roles.map((r) => r.level));
  const effective = organizationLevel >= CAN_ALWAYS_EDIT ? CAN_ALWAYS_EDIT : roleLevel || organizationLevel;
  if (effective >= CAN_ALWAYS_EDIT) return (f) => (isCreator(auth, f) ? MANAGER : EDITOR);
  const shared = await flagsSharedWithRoles(
    db,
    others.map((f) => f.id),
    policy.roles.map((r) => r.id),
  );
  return (f) => (isCreator(auth, f) ? MANAGER : shared.has(f.id) ? EDITOR : VIEWER);
}

export async function assertCanEdit(db: Db, auth: RequestAuth, flag: FeatureFlagRow): Promise<void> {
  const access = (await flagAccessResolver(db, auth, [flag]))(flag);
  if (!access.canEdit) throw new PermissionDeniedError("You don't have edit permissions for this feature flag.");
}

/** The project's flag `id` if the caller may edit it: 404 when absent, 403 when not editable. */
export async function editableFlag(db: Db, auth: RequestAuth, id: number): Promise<FeatureFlagRow> {
  const flag = await findFlag(db, requireProject(auth).id, id);
  if (!flag) throw new NotFoundError();
  await assertCanEdit(db, auth, flag);
  return flag;
}

/**
 * Creating a flag (or renaming one) over the key of soft-deleted flags removes those for good:
 * that is a write to each of them, so the caller must be able to edit them.
 */
export async function assertCanReplaceDeleted(db: Db, auth: RequestAuth, projectId: number, key: string, exceptId?: number): Promise<void> {
  const deleted = await findSoftDeletedFlagsWithKey(db, projectId, key, exceptId);
  if (!deleted.length) return;
  const access = await flagAccessResolver(db, auth, deleted);
  if (deleted.some((f) => !access(f).canEdit)) throw new PermissionDeniedError("You don't have edit permissions for this feature flag.");
}

/**
 * May the caller add or remove role access on this flag (PostHog's FeatureFlagRoleAccessPermissions)?
 * Admins; anyone while the organization lets everyone edit flags; the flag's creator; members of a
 * role that can always edit flags.
 */
export async function assertCanEditRoleAccess(db: Db, auth: RequestAuth, flag: FeatureFlagRow): Promise<void> {
  if (isAdmin(auth) || isCreator(auth, flag)) return;
  if (auth.user && auth.organization) {
    const policy = await flagAccessPolicy(db, auth.organization.id, auth.user.id);
    if ((policy.organizationLevel ?? CAN_ALWAYS_EDIT) >= CAN_ALWAYS_EDIT) return;
    if (policy.roles.some((r) => r.level >= CAN_ALWAYS_EDIT)) return;
  }
  throw new PermissionDeniedError("You can't edit roles for this feature flag.");
}

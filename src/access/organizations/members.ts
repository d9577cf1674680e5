// Changing a member's level and removing a member (PostHog's PATCH/DELETE
// /api/organizations/:id/members/:user_uuid/), with PostHog's rules: only admins edit others,
// never above their own level nor anyone above it, nobody changes their own level, and only an
// owner makes another member owner (docs/compatibility.md#api-8.3). An organization never loses
// its last owner. Every change alters who may do what, so it tells every instance once it commits.
import { transact, type AppContext } from '../../platform/context.ts';
import type { RequestAuth } from '../auth.ts';
import {
  deleteMembership,
  findMemberByUuidForUpdate,
  lockOwners,
  MembershipLevel,
  setMembershipLevel,
  updateUser,
  type Membership,
} from './users-repository.ts';
import { deleteRoleMembershipsOfUser } from '../roles/repository.ts';
import { toOrganizationMember } from '../roles/schemas.ts';
import { NotFoundError, PermissionDeniedError, ValidationError } from '../../platform/errors.ts';
import { requireMembership, requireOrganization } from '../require-auth.ts';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** PostHog's messages, checked in PostHog's order. */
export const MEMBER_MESSAGES = {
  ownLevel: "You can't change your own access level.",
  makeOwner: "You can only make another member owner if you're this organization's owner.",
  aboveOwn: 'You can only change access level of others to lower or equal to your current one.',
  notAdmin: 'You can only edit others if you are an admin.',
  higherMember: 'You can only edit others with level lower or equal to you.',
  lastOwner: 'An organization must keep at least one owner: make another member owner first.',
} as const;

/** PostHog's OrganizationMembership.validate_update: may `requester` change `target` (to `newLevel`)? */
function checkUpdate(requester: Membership, target: Membership, newLevel?: number): void {
  if (newLevel !== undefined) {
    if (target.id === requester.id) throw new PermissionDeniedError(MEMBER_MESSAGES.ownLevel);
    if (newLevel === MembershipLevel.owner) {
      if (requester.level !== MembershipLevel.owner) throw new PermissionDeniedError(MEMBER_MESSAGES.makeOwner);
    } else if (newLevel > requester.level) throw new PermissionDeniedError(MEMBER_MESSAGES.aboveOwn);
  }
  if (target.id !== requester.id) {
    if (requester.level < MembershipLevel.admin) throw new PermissionDeniedError(MEMBER_MESSAGES.notAdmin);
    if (target.level > requester.level) throw new PermissionDeniedError(MEMBER_MESSAGES.higherMember);
  }
}

function memberUuid(raw: string): string {
  if (!UUID.test(raw)) throw new NotFoundError();
  const hex = raw.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export async function updateOrganizationMember(ctx: AppContext, auth: RequestAuth, userUuid: string, body: { level?: number }) {
  const organization = requireOrganization(auth);
  const requester = requireMembership(auth);
  return transact(ctx, async (tx, changes) => {
    const found = await findMemberByUuidForUpdate(tx, organization.id, memberUuid(userUuid));
    if (!found) throw new NotFoundError();
    checkUpdate(requester, found.membership, body.level);
    if (body.level === undefined || body.level === found.membership.level) return toOrganizationMember(found.membership, found.user);
    if (found.membership.level === MembershipLevel.owner) {
      const owners = await lockOwners(tx, organization.id, MembershipLevel.owner);
      if (owners.length <= 1) throw new ValidationError(MEMBER_MESSAGES.lastOwner, 'invalid_input', 'level');
    }
    const updated = await setMembershipLevel(tx, found.membership.id, body.level);
    changes.authChanged();
    return toOrganizationMember(updated, found.user);
  });
}

/** Removes a member (an admin removing someone, or anyone leaving): their roles here go with them. */
export async function removeOrganizationMember(ctx: AppContext, auth: RequestAuth, userUuid: string): Promise<void> {
  const organization = requireOrganization(auth);
  const requester = requireMembership(auth);
  await transact(ctx, async (tx, changes) => {
    const found = await findMemberByUuidForUpdate(tx, organization.id, memberUuid(userUuid));
    if (!found) throw new NotFoundError();
    checkUpdate(requester, found.membership);
    if (found.membership.level === MembershipLevel.owner) {
      const owners = await lockOwners(tx, organization.id, MembershipLevel.owner);
      if (owners.length <= 1) throw new ValidationError(MEMBER_MESSAGES.lastOwner);
    }
    await deleteRoleMembershipsOfUser(tx, organization.id, found.user.id);
    await deleteMembership(tx, found.membership.id);
    // PostHog's pre-delete signal: the user's current organization and project leave with them.
    if (found.user.currentOrganizationId === organization.id) await updateUser(tx, found.user.id, { currentOrganizationId: null, currentProjectId: null });
    changes.authChanged();
  });
}

// The organization's rules for feature flags, read from the public API (its resource access level
// and its roles), and the words the console uses to explain what a user can and cannot do.
import { api } from '../api.ts';
import type { Me, Page, UserBasic } from '../types.ts';

export const CAN_ONLY_VIEW = 21;
export const CAN_ALWAYS_EDIT = 37;
export const FLAG_LEVELS: Record<number, string> = { [CAN_ONLY_VIEW]: 'Can only view', [CAN_ALWAYS_EDIT]: 'Can always edit' };

export interface RoleMember {
  id: string;
  role_id: string;
  user: UserBasic;
}

export interface Role {
  id: string;
  name: string;
  feature_flags_access_level: number;
  created_at: string;
  members: RoleMember[];
  associated_flags: Array<{ id: number; key: string }>;
}

export interface ResourceAccess {
  id: number;
  resource: string;
  access_level: number;
}

export interface Policy {
  /** The organization's level for feature flags (no setting: can always edit). */
  flagsLevel: number;
  flagsAccess: ResourceAccess | undefined;
  roles: Role[];
}

export async function loadPolicy(orgId: string, signal?: AbortSignal): Promise<Policy> {
  const [roles, resources] = await Promise.all([
    api.get<Page<Role>>(`/api/organizations/${orgId}/roles/?limit=100`, { signal }),
    api.get<Page<ResourceAccess>>(`/api/organizations/${orgId}/resource_access/?limit=100`, { signal }),
  ]);
  const flagsAccess = resources.results.find((r) => r.resource === 'feature flags');
  return { flagsLevel: flagsAccess?.access_level ?? CAN_ALWAYS_EDIT, flagsAccess, roles: roles.results };
}

export const rolesOf = (policy: Policy, userUuid: string) => policy.roles.filter((r) => r.members.some((m) => m.user.uuid === userUuid));

/** May this user change which roles a flag is shared with (the server's rule for role_access writes)? */
export function canShareFlags(me: Me, policy: Policy, creatorUuid: string | undefined): boolean {
  if ((me.organization?.membership_level ?? 0) >= 8 || creatorUuid === me.uuid) return true;
  if (policy.flagsLevel >= CAN_ALWAYS_EDIT) return true;
  return rolesOf(policy, me.uuid).some((r) => r.feature_flags_access_level >= CAN_ALWAYS_EDIT);
}

/** One sentence on what the user may do with feature flags, and why. */
export function flagRightsSummary(me: Me, policy: Policy): string {
  const level = me.organization?.membership_level ?? 0;
  if (level >= 8) return `As an ${level >= 15 ? 'owner' : 'admin'}, you can edit every feature flag and share flags with roles.`;
  if (policy.flagsLevel >= CAN_ALWAYS_EDIT) return 'Every member can edit every feature flag here, you included.';
  const mine = rolesOf(policy, me.uuid);
  const editing = mine.filter((r) => r.feature_flags_access_level >= CAN_ALWAYS_EDIT);
  if (editing.length) return `Members can only view feature flags here, but your role ${editing.map((r) => r.name).join(', ')} can always edit them.`;
  const roleText = mine.length ? `your roles (${mine.map((r) => r.name).join(', ')})` : 'a role you belong to (you have none)';
  return `Members can only view feature flags here: you can edit the flags you created and the flags shared with ${roleText}.`;
}

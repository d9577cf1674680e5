// Shapes of the access-control endpoints with PostHog's field names: organization members, roles,
// role memberships, organization resource access and feature-flag role access; their write bodies.
import { z } from 'zod';
import { UserBasicSchema, toUserBasic } from '../organizations/user-schemas.ts';
import { FeatureFlagSchema, type FeatureFlagOut } from '../../flags/schemas.ts';
import { drfString, fail } from '../../platform/http/drf.ts';
import type { Membership, User } from '../organizations/users-repository.ts';
import type { FlagRoleAccess, ResourceAccess, Role, RoleMemberRow } from './repository.ts';
import { isoTime } from '../../platform/time.ts';

export const OrganizationParams = z.object({
  organization_id: z.string().meta({ description: 'Organization id (a UUID), or @current' }),
});

/** DRF ChoiceField over PostHog's access levels: 21 "Can only view", 37 "Can always edit". */
const accessLevel = () =>
  z
    .unknown()
    .superRefine((v, ctx) => {
      if (v === null) return fail(ctx, 'This field may not be null.', 'null');
      const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
      if (n !== 21 && n !== 37) fail(ctx, `"${typeof v === 'string' ? v : JSON.stringify(v)}" is not a valid choice.`, 'invalid_choice');
    })
    .transform((v) => Number(v))
    .meta({ type: 'integer', enum: [21, 37], description: '21: can only view, 37: can always edit' });

const LOOSE_UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** DRF UUIDField: any 32-hex-digit UUID, with or without hyphens; normalised to the hyphenated form. */
export const drfUuid = () =>
  z
    .string()
    .superRefine((v, ctx) => {
      if (!LOOSE_UUID.test(v.trim())) fail(ctx, 'Must be a valid UUID.', 'invalid_input');
    })
    .transform((v) => {
      const hex = v.trim().replace(/-/g, '').toLowerCase();
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    })
    .meta({ type: 'string', format: 'uuid' });

// ---------------------------------------------------------------------------------------------
// Organization members

export const OrganizationMemberSchema = z
  .object({
    id: z.string().meta({ description: 'Membership id' }),
    user: UserBasicSchema,
    level: z.number().int().meta({ description: '1 member, 8 admin, 15 owner' }),
    joined_at: z.string(),
    updated_at: z.string(),
    is_2fa_enabled: z.boolean(),
    has_social_auth: z.boolean(),
    last_login: z.string().nullable(),
  })
  .meta({ id: 'OrganizationMember' });

export function toOrganizationMember(membership: Membership, user: User): z.infer<typeof OrganizationMemberSchema> {
  return {
    id: membership.id,
    user: toUserBasic(user),
    level: membership.level,
    joined_at: isoTime(membership.joinedAt),
    updated_at: isoTime(membership.updatedAt),
    is_2fa_enabled: false,
    has_social_auth: false,
    last_login: null,
  };
}

// ---------------------------------------------------------------------------------------------
// Roles and their memberships

export const RoleMembershipSchema = z
  .object({
    id: z.string(),
    role_id: z.string(),
    user: UserBasicSchema,
    joined_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'RoleMembership' });

export const RoleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    feature_flags_access_level: z.number().int().meta({ description: '21: can only view flags not shared with the role, 37: can always edit' }),
    created_at: z.string(),
    created_by: UserBasicSchema.nullable(),
    members: z.array(RoleMembershipSchema),
    associated_flags: z.array(z.object({ id: z.number().int(), key: z.string() })).meta({ description: 'Flags shared with this role' }),
    is_default: z.boolean().meta({ description: 'Whether new members get this role: always false, flaghost has no organization default role' }),
  })
  .meta({ id: 'Role' });

export type RoleOut = z.infer<typeof RoleSchema>;

export function toRoleMembership(row: RoleMemberRow): z.infer<typeof RoleMembershipSchema> {
  return {
    id: row.membership.id,
    role_id: row.membership.roleId,
    user: toUserBasic(row.user),
    joined_at: isoTime(row.membership.joinedAt),
    updated_at: isoTime(row.membership.joinedAt),
  };
}

export function toRole(role: Role, extras: { users: Map<number, User>; members: RoleMemberRow[]; flags: Array<{ id: number; key: string }> }): RoleOut {
  const creator = role.createdById === null ? undefined : extras.users.get(role.createdById);
  return {
    id: role.id,
    name: role.name,
    feature_flags_access_level: role.featureFlagsAccessLevel,
    created_at: isoTime(role.createdAt),
    created_by: creator ? toUserBasic(creator) : null,
    members: extras.members.map(toRoleMembership),
    associated_flags: extras.flags,
    is_default: false,
  };
}

export const RoleCreateBody = z
  .object({
    name: drfString({ max: 200 }),
    feature_flags_access_level: accessLevel().optional().meta({ description: "Default: the organization's level for feature flags" }),
  })
  .meta({ id: 'RoleCreate' });

export const RoleUpdateBody = RoleCreateBody.partial().meta({ id: 'RoleUpdate' });

export const RoleMembershipBody = z.object({ user_uuid: drfUuid() }).meta({ id: 'RoleMembershipCreate' });

// ---------------------------------------------------------------------------------------------
// Organization resource access

export const RESOURCES = ['feature flags', 'experiments', 'cohorts', 'data management', 'session recordings', 'insights', 'dashboards'] as const;

export const ResourceAccessSchema = z
  .object({
    id: z.number().int(),
    resource: z.enum(RESOURCES),
    access_level: z.number().int(),
    organization: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    created_by: z.number().int().nullable(),
  })
  .meta({ id: 'OrganizationResourceAccess' });

export function toResourceAccess(row: ResourceAccess): z.infer<typeof ResourceAccessSchema> {
  return {
    id: row.id,
    resource: row.resource as (typeof RESOURCES)[number],
    access_level: row.accessLevel,
    organization: row.organizationId,
    created_at: isoTime(row.createdAt),
    updated_at: isoTime(row.updatedAt),
    created_by: row.createdById,
  };
}

export const ResourceAccessCreateBody = z
  .object({
    resource: z.enum(RESOURCES).meta({ description: 'Only "feature flags" has an effect in flaghost' }),
    access_level: accessLevel().optional().meta({ description: '21: members can only view, 37 (default): members can always edit' }),
  })
  .meta({ id: 'OrganizationResourceAccessCreate' });

export const ResourceAccessUpdateBody = ResourceAccessCreateBody.partial().meta({ id: 'OrganizationResourceAccessUpdate' });

// ---------------------------------------------------------------------------------------------
// Feature-flag role access

export const FlagRoleAccessSchema = z
  .object({
    id: z.number().int(),
    feature_flag: FeatureFlagSchema,
    role: RoleSchema,
    role_id: z.string().meta({ description: "The role's id (also inside role)" }),
    added_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'FeatureFlagRoleAccess' });

export function toFlagRoleAccess(row: FlagRoleAccess, flag: FeatureFlagOut, role: RoleOut): z.infer<typeof FlagRoleAccessSchema> {
  return { id: row.id, feature_flag: flag, role, role_id: role.id, added_at: isoTime(row.addedAt), updated_at: isoTime(row.updatedAt) };
}

export const FlagRoleAccessBody = z
  .object({ role_id: drfUuid().meta({ description: "A role of the flag's organization" }) })
  .meta({ id: 'FeatureFlagRoleAccessCreate' });

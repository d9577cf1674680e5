// Shapes of the identity endpoints (@me, projects, organizations) with PostHog's field names.
import { z } from 'zod';
import type { Organization, Project } from './projects-repository.ts';
import type { Membership, User } from './users-repository.ts';
import { isoTime } from '../../platform/time.ts';

export const ProjectBasicSchema = z
  .object({
    id: z.number().int(),
    uuid: z.string(),
    organization: z.string(),
    project_id: z.number().int(),
    api_token: z.string(),
    name: z.string(),
    completed_snippet_onboarding: z.boolean(),
    has_completed_onboarding_for: z.record(z.string(), z.boolean()),
    ingested_event: z.boolean(),
    is_demo: z.boolean(),
    timezone: z.string(),
    access_control: z.boolean(),
  })
  .meta({ id: 'ProjectBasic' });

export const ProjectSchema = ProjectBasicSchema.extend({
  created_at: z.string(),
  updated_at: z.string(),
  secret_api_token: z.string().nullable(),
  secret_api_token_backup: z.string().nullable(),
  effective_membership_level: z.number().int().nullable(),
  require_evaluation_contexts: z.boolean(),
}).meta({ id: 'Project' });

export const OrganizationBasicSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    logo_media_id: z.null(),
    membership_level: z.number().int().nullable(),
    members_can_use_personal_api_keys: z.boolean(),
  })
  .meta({ id: 'OrganizationBasic' });

export const OrganizationSchema = OrganizationBasicSchema.extend({
  created_at: z.string(),
  updated_at: z.string(),
  plugins_access_level: z.number().int(),
  teams: z.array(ProjectBasicSchema),
  projects: z.array(z.object({ id: z.number().int(), name: z.string(), organization_id: z.string() })),
  available_product_features: z.array(z.unknown()),
  is_member_join_email_enabled: z.boolean(),
  metadata: z.record(z.string(), z.unknown()),
  customer_id: z.null(),
  enforce_2fa: z.null(),
  member_count: z.number().int(),
}).meta({ id: 'Organization' });

export const MeSchema = z
  .object({
    date_joined: z.string(),
    uuid: z.string(),
    distinct_id: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    email: z.string(),
    pending_email: z.null(),
    is_email_verified: z.boolean().nullable(),
    notification_settings: z.record(z.string(), z.unknown()),
    anonymize_data: z.boolean(),
    toolbar_mode: z.string(),
    has_password: z.boolean(),
    is_staff: z.boolean(),
    is_impersonated: z.boolean(),
    is_2fa_enabled: z.boolean(),
    has_social_auth: z.boolean(),
    role_at_organization: z.string().nullable(),
    hedgehog_config: z.null(),
    team: ProjectBasicSchema.nullable(),
    organization: OrganizationSchema.nullable(),
    organizations: z.array(OrganizationBasicSchema),
  })
  .meta({ id: 'User' });

const slugify = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'organization';

export function toProjectBasic(project: Project): z.infer<typeof ProjectBasicSchema> {
  return {
    id: project.id,
    uuid: project.uuid,
    organization: project.organizationId,
    project_id: project.id,
    api_token: project.apiToken,
    name: project.name,
    completed_snippet_onboarding: true,
    has_completed_onboarding_for: {},
    ingested_event: true,
    is_demo: false,
    timezone: project.timezone,
    access_control: false,
  };
}

export function toProject(project: Project, membership: Membership | undefined): z.infer<typeof ProjectSchema> {
  return {
    ...toProjectBasic(project),
    created_at: isoTime(project.createdAt),
    updated_at: isoTime(project.updatedAt),
    secret_api_token: project.secretApiToken,
    secret_api_token_backup: project.secretApiTokenBackup,
    effective_membership_level: membership?.level ?? null,
    require_evaluation_contexts: project.requireEvaluationContexts,
  };
}

export function toOrganizationBasic(org: Organization, membership: Membership | undefined): z.infer<typeof OrganizationBasicSchema> {
  return {
    id: org.id,
    name: org.name,
    slug: slugify(org.name),
    logo_media_id: null,
    membership_level: membership?.level ?? null,
    members_can_use_personal_api_keys: org.membersCanUsePersonalApiKeys,
  };
}

export function toOrganization(
  org: Organization,
  membership: Membership | undefined,
  projects: Project[],
  memberCount: number,
): z.infer<typeof OrganizationSchema> {
  return {
    ...toOrganizationBasic(org, membership),
    created_at: isoTime(org.createdAt),
    updated_at: isoTime(org.updatedAt),
    plugins_access_level: 9,
    teams: projects.map(toProjectBasic),
    projects: projects.map((p) => ({ id: p.id, name: p.name, organization_id: p.organizationId })),
    available_product_features: [],
    is_member_join_email_enabled: false,
    metadata: {},
    customer_id: null,
    enforce_2fa: null,
    member_count: memberCount,
  };
}

export function toMe(
  user: User,
  team: Project | undefined,
  organization: z.infer<typeof OrganizationSchema> | null,
  organizations: Array<z.infer<typeof OrganizationBasicSchema>>,
): z.infer<typeof MeSchema> {
  return {
    date_joined: isoTime(user.createdAt),
    uuid: user.uuid,
    distinct_id: user.distinctId,
    first_name: user.firstName,
    last_name: user.lastName,
    email: user.email,
    pending_email: null,
    is_email_verified: user.isEmailVerified ?? null,
    notification_settings: {},
    anonymize_data: false,
    toolbar_mode: 'toolbar',
    has_password: user.passwordHash != null,
    is_staff: false,
    is_impersonated: false,
    is_2fa_enabled: false,
    has_social_auth: false,
    role_at_organization: null,
    hedgehog_config: null,
    team: team ? toProjectBasic(team) : null,
    organization,
    organizations,
  };
}

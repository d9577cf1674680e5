// The Drizzle schema: every table flaghost stores, the single source for drizzle-kit migrations.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const createdAt = () => ts('created_at').notNull().defaultNow();

/** Instance-wide settings shared by every flaghost process on this database. */
export const instanceSettings = pgTable('instance_settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const organizations = pgTable('organizations', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  membersCanUsePersonalApiKeys: boolean('members_can_use_personal_api_keys').notNull().default(true),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    uuid: uuid('uuid').notNull().unique().defaultRandom(),
    email: text('email').notNull(),
    firstName: text('first_name').notNull().default(''),
    lastName: text('last_name').notNull().default(''),
    distinctId: text('distinct_id').notNull().unique(),
    isActive: boolean('is_active').notNull().default(true),
    isEmailVerified: boolean('is_email_verified'),
    currentOrganizationId: uuid('current_organization_id'),
    currentProjectId: integer('current_project_id'),
    createdAt: createdAt(),
    // scrypt$N$r$p$salt$hash (base64); null: the user cannot sign in with a password.
    passwordHash: text('password_hash'),
  },
  (t) => [uniqueIndex('users_email_lower_idx').on(sql`lower(${t.email})`)],
);

export const organizationMemberships = pgTable(
  'organization_memberships',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    level: smallint('level').notNull().default(1),
    joinedAt: ts('joined_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('organization_memberships_org_user_idx').on(t.organizationId, t.userId)],
);

export const projects = pgTable('projects', {
  id: serial('id').primaryKey(),
  uuid: uuid('uuid').notNull().unique().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  apiToken: text('api_token').notNull().unique(),
  secretApiToken: text('secret_api_token').notNull().unique(),
  // The secret token before the last rotation, still accepted until deleted (running SDKs keep working).
  secretApiTokenBackup: text('secret_api_token_backup').unique(),
  timezone: text('timezone').notNull().default('UTC'),
  requireEvaluationContexts: boolean('require_evaluation_contexts').notNull().default(false),
  // Bumped in the same transaction as any change that alters what SDKs see; snapshots key on it.
  revision: bigint('revision', { mode: 'number' }).notNull().default(0),
  // Flag rows deleted from (or moved out of) the project, counted by the trigger of
  // migrations/0003: a snapshot built before a change of this count reads every flag again.
  flagRemovals: bigint('flag_removals', { mode: 'number' }).notNull().default(0),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const personalApiKeys = pgTable(
  'personal_api_keys',
  {
    id: text('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    label: text('label').notNull().default(''),
    secureValue: text('secure_value').notNull().unique(),
    maskValue: text('mask_value').notNull(),
    scopes: jsonb('scopes').$type<string[] | null>(),
    scopedTeams: jsonb('scoped_teams').$type<number[] | null>(),
    scopedOrganizations: jsonb('scoped_organizations').$type<string[] | null>(),
    createdAt: createdAt(),
    lastUsedAt: ts('last_used_at'),
    lastRolledAt: ts('last_rolled_at'),
  },
  (t) => [index('personal_api_keys_user_idx').on(t.userId)],
);

export const dashboards = pgTable(
  'dashboards',
  {
    id: serial('id').primaryKey(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull().default(''),
    description: text('description').notNull().default(''),
    featureFlagId: integer('feature_flag_id'),
    hasEnrichedAnalytics: boolean('has_enriched_analytics').notNull().default(false),
    tiles: jsonb('tiles').$type<unknown[]>().notNull().default([]),
    deleted: boolean('deleted').notNull().default(false),
    createdById: integer('created_by_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [index('dashboards_project_idx').on(t.projectId)],
);

export const featureFlags = pgTable(
  'feature_flags',
  {
    id: serial('id').primaryKey(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    name: text('name').notNull().default(''),
    filters: jsonb('filters').$type<Record<string, unknown>>().notNull().default({}),
    rolloutPercentage: integer('rollout_percentage'),
    deleted: boolean('deleted').notNull().default(false),
    active: boolean('active').notNull().default(true),
    createdById: integer('created_by_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    version: integer('version').default(1),
    lastModifiedById: integer('last_modified_by_id').references(() => users.id, { onDelete: 'set null' }),
    ensureExperienceContinuity: boolean('ensure_experience_continuity').default(false),
    rollbackConditions: jsonb('rollback_conditions'),
    performedRollback: boolean('performed_rollback').default(false),
    tags: jsonb('tags').$type<string[]>().notNull().default([]),
    evaluationTags: jsonb('evaluation_tags').$type<string[]>().notNull().default([]),
    hasEnrichedAnalytics: boolean('has_enriched_analytics').default(false),
    isRemoteConfiguration: boolean('is_remote_configuration').default(false),
    hasEncryptedPayloads: boolean('has_encrypted_payloads').default(false),
    evaluationRuntime: text('evaluation_runtime').notNull().default('all'),
    bucketingIdentifier: text('bucketing_identifier').notNull().default('distinct_id'),
    creationContext: text('creation_context').notNull().default('feature_flags'),
    lastCalledAt: ts('last_called_at'),
    usageDashboardId: integer('usage_dashboard_id').references(() => dashboards.id, { onDelete: 'set null' }),
    // The project revision of the row's last change, set by the trigger of migrations/0003 (see
    // docs/architecture.md#snapshots-and-change-notifications): snapshots re-read rows stamped
    // after the revision they were built at.
    changeStamp: bigint('change_stamp', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    uniqueIndex('feature_flags_project_key_idx').on(t.projectId, t.key),
    index('feature_flags_project_created_idx').on(t.projectId, t.createdAt),
    // The management list's default order over live flags: its count and deep pages read this index alone (docs/architecture.md#large-projects).
    index('feature_flags_project_live_created_idx').on(t.projectId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()).where(sql`not ${t.deleted}`),
    index('feature_flags_project_stamp_idx').on(t.projectId, t.changeStamp, t.id),
  ],
);

export const featureFlagDashboards = pgTable(
  'feature_flag_dashboards',
  {
    featureFlagId: integer('feature_flag_id')
      .notNull()
      .references(() => featureFlags.id, { onDelete: 'cascade' }),
    dashboardId: integer('dashboard_id')
      .notNull()
      .references(() => dashboards.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.featureFlagId, t.dashboardId] })],
);

export const activityLog = pgTable(
  'activity_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // Insertion order breaks ties between entries written in the same millisecond.
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    organizationId: uuid('organization_id').notNull(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    userId: integer('user_id').references(() => users.id, { onDelete: 'set null' }),
    isSystem: boolean('is_system').notNull().default(false),
    activity: text('activity').notNull(),
    scope: text('scope').notNull(),
    itemId: text('item_id').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('activity_log_scope_idx').on(t.projectId, t.scope, t.createdAt),
    index('activity_log_item_idx').on(t.projectId, t.scope, t.itemId, t.createdAt),
  ],
);

export const cohorts = pgTable(
  'cohorts',
  {
    id: serial('id').primaryKey(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull().default(''),
    description: text('description').notNull().default(''),
    filters: jsonb('filters').$type<Record<string, unknown>>().notNull().default({}),
    isStatic: boolean('is_static').notNull().default(false),
    isCalculating: boolean('is_calculating').notNull().default(false),
    deleted: boolean('deleted').notNull().default(false),
    count: integer('count'),
    createdById: integer('created_by_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('cohorts_project_idx').on(t.projectId)],
);

export const groupTypeMappings = pgTable(
  'group_type_mappings',
  {
    id: serial('id').primaryKey(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    groupType: text('group_type').notNull(),
    groupTypeIndex: integer('group_type_index').notNull(),
    nameSingular: text('name_singular'),
    namePlural: text('name_plural'),
  },
  (t) => [
    uniqueIndex('group_type_mappings_type_idx').on(t.projectId, t.groupType),
    uniqueIndex('group_type_mappings_index_idx').on(t.projectId, t.groupTypeIndex),
  ],
);

export const groups = pgTable(
  'groups',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    groupTypeIndex: integer('group_type_index').notNull(),
    groupKey: text('group_key').notNull(),
    groupProperties: jsonb('group_properties').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('groups_key_idx').on(t.projectId, t.groupTypeIndex, t.groupKey)],
);

export const persons = pgTable(
  'persons',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    uuid: uuid('uuid').notNull().unique().defaultRandom(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    properties: jsonb('properties').$type<Record<string, unknown>>().notNull().default({}),
    isIdentified: boolean('is_identified').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [index('persons_project_idx').on(t.projectId, t.id)],
);

export const personDistinctIds = pgTable(
  'person_distinct_ids',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    distinctId: text('distinct_id').notNull(),
    personId: bigint('person_id', { mode: 'number' })
      .notNull()
      .references(() => persons.id, { onDelete: 'cascade' }),
  },
  (t) => [uniqueIndex('person_distinct_ids_idx').on(t.projectId, t.distinctId), index('person_distinct_ids_person_idx').on(t.personId)],
);

export const cohortMembers = pgTable(
  'cohort_members',
  {
    cohortId: integer('cohort_id')
      .notNull()
      .references(() => cohorts.id, { onDelete: 'cascade' }),
    personId: bigint('person_id', { mode: 'number' })
      .notNull()
      .references(() => persons.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.cohortId, t.personId] }), index('cohort_members_person_idx').on(t.personId)],
);

export const flagHashKeyOverrides = pgTable(
  'flag_hash_key_overrides',
  {
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    personId: bigint('person_id', { mode: 'number' })
      .notNull()
      .references(() => persons.id, { onDelete: 'cascade' }),
    featureFlagKey: text('feature_flag_key').notNull(),
    hashKey: text('hash_key').notNull(),
  },
  (t) => [primaryKey({ columns: [t.personId, t.featureFlagKey] })],
);

export const flagUsageDaily = pgTable(
  'flag_usage_daily',
  {
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    flagKey: text('flag_key').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    value: text('value').notNull(),
    count: bigint('count', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.flagKey, t.day, t.value] })],
);

export const flagUsagePersons = pgTable(
  'flag_usage_persons',
  {
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    flagKey: text('flag_key').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    personKey: text('person_key').notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.flagKey, t.day, t.personKey] })],
);

export const ingestedEvents = pgTable(
  'ingested_events',
  {
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    uuid: text('uuid').notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.uuid] }), index('ingested_events_received_idx').on(t.receivedAt)],
);

export const roles = pgTable(
  'roles',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    featureFlagsAccessLevel: smallint('feature_flags_access_level').notNull().default(37),
    createdById: integer('created_by_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('roles_org_name_idx').on(t.organizationId, sql`lower(${t.name})`)],
);

export const roleMemberships = pgTable(
  'role_memberships',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    roleId: uuid('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    joinedAt: ts('joined_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('role_memberships_role_user_idx').on(t.roleId, t.userId)],
);

export const organizationResourceAccess = pgTable(
  'organization_resource_access',
  {
    id: serial('id').primaryKey(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    resource: text('resource').notNull(),
    accessLevel: smallint('access_level').notNull().default(37),
    createdById: integer('created_by_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('organization_resource_access_idx').on(t.organizationId, t.resource)],
);

export const featureFlagRoleAccess = pgTable(
  'feature_flag_role_access',
  {
    id: serial('id').primaryKey(),
    featureFlagId: integer('feature_flag_id')
      .notNull()
      .references(() => featureFlags.id, { onDelete: 'cascade' }),
    roleId: uuid('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    addedAt: ts('added_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('feature_flag_role_access_idx').on(t.featureFlagId, t.roleId)],
);

/** Console sign-in sessions: every instance reads them, so logout ends a session everywhere. */
export const sessions = pgTable(
  'sessions',
  {
    id: serial('id').primaryKey(),
    // sha256 of the cookie value; the value itself is only ever in the browser.
    tokenHash: text('token_hash').notNull().unique(),
    csrfTokenHash: text('csrf_token_hash').notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
    idleExpiresAt: ts('idle_expires_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    userAgent: text('user_agent').notNull().default(''),
    ip: text('ip').notNull().default(''),
  },
  (t) => [index('sessions_user_idx').on(t.userId), index('sessions_expires_idx').on(t.expiresAt)],
);

/** One-time password links (the first admin's set-up link): the token stored only as sha256. */
export const passwordResetTokens = pgTable(
  'password_reset_tokens',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('password_reset_tokens_user_idx').on(t.userId)],
);

export const organizationInvites = pgTable(
  'organization_invites',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    targetEmail: text('target_email').notNull(),
    firstName: text('first_name').notNull().default(''),
    level: smallint('level').notNull().default(1),
    message: text('message'),
    createdById: integer('created_by_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('organization_invites_org_idx').on(t.organizationId)],
);

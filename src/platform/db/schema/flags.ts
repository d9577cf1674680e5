// The Drizzle schema, part of src/platform/db/schema.ts: Feature flags, their dashboards and role access, the activity log, cohorts and groups.
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, serial, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, ts } from './columns.ts';
import { projects, roles, users } from './access.ts';

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

// The Drizzle schema, part of src/platform/db/schema.ts: Organizations, users, projects, keys, roles, sessions and invitations.
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, serial, smallint, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, ts } from './columns.ts';

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

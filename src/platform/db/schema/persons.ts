// The Drizzle schema, part of src/platform/db/schema.ts: Persons, their distinct ids, static cohort members, hash-key overrides, and what capture stores.
import { bigint, bigserial, boolean, date, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, ts } from './columns.ts';
import { projects } from './access.ts';
import { cohorts } from './flags.ts';

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

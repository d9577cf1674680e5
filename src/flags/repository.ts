// Feature-flag rows: lookups, writes and the list query with PostHog's filters.
import { and, asc, desc, eq, ilike, inArray, isNotNull, isNull, lt, ne, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../platform/db/index.ts';
import { dashboards, featureFlagDashboards, featureFlags, projects } from '../platform/db/schema.ts';
import { jsonParam } from '../platform/db/sql.ts';

export type FeatureFlagRow = typeof featureFlags.$inferSelect;
export type NewFeatureFlagRow = typeof featureFlags.$inferInsert;

export async function findFlag(db: Db, projectId: number, id: number): Promise<FeatureFlagRow | undefined> {
  const [row] = await db
    .select()
    .from(featureFlags)
    .where(and(eq(featureFlags.projectId, projectId), eq(featureFlags.id, id)))
    .limit(1);
  return row;
}

/** The flag row locked for update until the transaction ends (concurrent writers queue). */
export async function findFlagForUpdate(db: Db, projectId: number, id: number): Promise<FeatureFlagRow | undefined> {
  // The project row first: every flag write takes it (its change-stamp trigger bumps the
  // project's revision), so a writer that held the flag row before it could deadlock with one
  // that holds the project row and waits for this flag (docs/architecture.md#incremental-rebuilds).
  await db.select({ id: projects.id }).from(projects).where(eq(projects.id, projectId)).for('no key update');
  const [row] = await db
    .select()
    .from(featureFlags)
    .where(and(eq(featureFlags.projectId, projectId), eq(featureFlags.id, id)))
    .limit(1)
    .for('update');
  return row;
}

export async function findFlagByKey(db: Db, projectId: number, key: string): Promise<FeatureFlagRow | undefined> {
  const [row] = await db
    .select()
    .from(featureFlags)
    .where(and(eq(featureFlags.projectId, projectId), eq(featureFlags.key, key)))
    .limit(1);
  return row;
}

/** A non-deleted flag holding `key`, other than `exceptId`: the key-uniqueness rule. */
export async function findLiveFlagWithKey(db: Db, projectId: number, key: string, exceptId?: number): Promise<FeatureFlagRow | undefined> {
  const conditions = [eq(featureFlags.projectId, projectId), eq(featureFlags.key, key), eq(featureFlags.deleted, false)];
  if (exceptId !== undefined) conditions.push(ne(featureFlags.id, exceptId));
  const [row] = await db
    .select()
    .from(featureFlags)
    .where(and(...conditions))
    .limit(1);
  return row;
}

export async function findFlagsByIds(db: Db, projectId: number, ids: number[]): Promise<FeatureFlagRow[]> {
  if (!ids.length) return [];
  // One jsonb parameter however many ids (a parameter per id overflows the stack at ~100,000).
  return db
    .select()
    .from(featureFlags)
    .where(and(eq(featureFlags.projectId, projectId), sql`${featureFlags.id} in (select (jsonb_array_elements_text(${jsonParam(ids)}))::int)`));
}

/** Every non-deleted flag of the project (dependency graphs, snapshots). */
export async function listLiveFlags(db: Db, projectId: number): Promise<FeatureFlagRow[]> {
  return db
    .select()
    .from(featureFlags)
    .where(and(eq(featureFlags.projectId, projectId), eq(featureFlags.deleted, false)))
    .orderBy(asc(featureFlags.id));
}

/** Where a page of `listFlagsAfter` starts: after this change stamp and id (`id: FLAG_ID_MAX` = after every row of the stamp). */
export interface FlagCursor {
  stamp: number;
  id: number;
}

export const FLAG_ID_MAX = 2147483647;

/**
 * One page of the project's flags in change-stamp order after `cursor`. Snapshots read the rows
 * changed since the revision they were built at this way, soft-deleted ones included
 * (`liveOnly: false`), and all live rows when they build from scratch
 * (docs/architecture.md#snapshots-and-change-notifications). Sorting is turned off for the
 * statement so that the planner walks the (project, stamp, id) index and stops after `limit`
 * rows, instead of sorting every row after the cursor, as it does without statistics.
 */
export async function listFlagsAfter(db: Db, projectId: number, cursor: FlagCursor, opts: { liveOnly: boolean; limit: number }): Promise<FeatureFlagRow[]> {
  const after = sql`(${featureFlags.changeStamp}, ${featureFlags.id}) > (${cursor.stamp}, ${cursor.id})`;
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local enable_sort = off`);
    return tx
      .select()
      .from(featureFlags)
      .where(and(eq(featureFlags.projectId, projectId), after, opts.liveOnly ? eq(featureFlags.deleted, false) : undefined))
      .orderBy(asc(featureFlags.changeStamp), asc(featureFlags.id))
      .limit(opts.limit);
  });
}

/** Frees a key for a new flag: soft-deleted flags holding it are removed for good. */
export async function hardDeleteSoftDeletedWithKey(db: Db, projectId: number, key: string, exceptId?: number): Promise<number[]> {
  const conditions = [eq(featureFlags.projectId, projectId), eq(featureFlags.key, key), eq(featureFlags.deleted, true)];
  if (exceptId !== undefined) conditions.push(ne(featureFlags.id, exceptId));
  const rows = await db
    .delete(featureFlags)
    .where(and(...conditions))
    .returning({ id: featureFlags.id });
  return rows.map((r) => r.id);
}

export async function insertFlag(db: Db, values: NewFeatureFlagRow): Promise<FeatureFlagRow> {
  const [row] = await db.insert(featureFlags).values(values).returning();
  return row;
}

export async function updateFlag(db: Db, id: number, values: Partial<NewFeatureFlagRow>): Promise<FeatureFlagRow> {
  const [row] = await db.update(featureFlags).set(values).where(eq(featureFlags.id, id)).returning();
  return row;
}

/** PostgreSQL's own regex engine accepts `pattern` (PostHog dry-runs conditions the same way). */
export async function postgresAcceptsRegex(db: Db, pattern: string): Promise<boolean> {
  try {
    await db.transaction(async (sp) => {
      await sp.execute(sql`select '' ~ ${pattern}`);
    });
    return true;
  } catch {
    return false;
  }
}

// ---- analytics dashboards -------------------------------------------------------------------

export async function findDashboardIds(db: Db, projectId: number, ids: number[]): Promise<Set<number>> {
  if (!ids.length) return new Set();
  const rows = await db
    .select({ id: dashboards.id })
    .from(dashboards)
    .where(and(eq(dashboards.projectId, projectId), inArray(dashboards.id, ids), eq(dashboards.deleted, false)));
  return new Set(rows.map((r) => r.id));
}

export async function linkAnalyticsDashboards(db: Db, flagId: number, dashboardIds: number[]): Promise<void> {
  if (!dashboardIds.length) return;
  await db
    .insert(featureFlagDashboards)
    .values(dashboardIds.map((dashboardId) => ({ featureFlagId: flagId, dashboardId })))
    .onConflictDoNothing();
}

export async function analyticsDashboardsOf(db: Db, flagIds: number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  if (!flagIds.length) return out;
  const rows = await db
    .select({ flagId: featureFlagDashboards.featureFlagId, dashboardId: featureFlagDashboards.dashboardId })
    .from(featureFlagDashboards)
    .where(inArray(featureFlagDashboards.featureFlagId, flagIds))
    .orderBy(asc(featureFlagDashboards.createdAt), asc(featureFlagDashboards.dashboardId));
  for (const row of rows) out.set(row.flagId, [...(out.get(row.flagId) ?? []), row.dashboardId]);
  return out;
}

// ---- list -----------------------------------------------------------------------------------

export interface FlagListFilters {
  active?: 'true' | 'false' | 'STALE';
  createdById?: number;
  search?: string;
  type?: 'boolean' | 'multivariant' | 'experiment' | 'remote_config';
  evaluationRuntime?: string;
  tags?: string[];
  excludedKeys?: string[];
  hasEvaluationTags?: boolean;
  /** Column and direction, already validated against ORDERABLE_FIELDS. */
  order: { field: OrderableField; descending: boolean };
  /** "now" for the staleness rule. */
  now: Date;
  /** Extra condition (access control) contributed by the caller. */
  extra?: SQL;
}

export const ORDERABLE_FIELDS = {
  id: featureFlags.id,
  key: featureFlags.key,
  name: featureFlags.name,
  created_at: featureFlags.createdAt,
  updated_at: featureFlags.updatedAt,
  active: featureFlags.active,
  deleted: featureFlags.deleted,
  version: featureFlags.version,
  rollout_percentage: featureFlags.rolloutPercentage,
  created_by: featureFlags.createdById,
  created_by_id: featureFlags.createdById,
  last_modified_by: featureFlags.lastModifiedById,
  last_called_at: featureFlags.lastCalledAt,
  ensure_experience_continuity: featureFlags.ensureExperienceContinuity,
  performed_rollback: featureFlags.performedRollback,
  has_enriched_analytics: featureFlags.hasEnrichedAnalytics,
  is_remote_configuration: featureFlags.isRemoteConfiguration,
  has_encrypted_payloads: featureFlags.hasEncryptedPayloads,
  evaluation_runtime: featureFlags.evaluationRuntime,
  bucketing_identifier: featureFlags.bucketingIdentifier,
  usage_dashboard: featureFlags.usageDashboardId,
  team: featureFlags.projectId,
  team_id: featureFlags.projectId,
} as const;
export type OrderableField = keyof typeof ORDERABLE_FIELDS;

const variantsOf = sql`${featureFlags.filters} -> 'multivariate' -> 'variants'`;
// CASE, not AND: PostgreSQL does not promise to short-circuit, and jsonb_array_length raises on
// non-arrays.
const hasVariants = sql`(case when jsonb_typeof(${variantsOf}) = 'array' then jsonb_array_length(${variantsOf}) > 0 else false end)`;
const isHundred = (json: SQL) => sql`(case when jsonb_typeof(${json}) = 'number' then (${json})::text::numeric = 100 else false end)`;

/**
 * "Fully rolled out" in SQL, mirroring staleness rule (b) of docs/compatibility.md#api-2.3:
 * filters empty; or a group at 100 % with no properties and no variants; or with variants, such a
 * group plus a variant at 100 % or a variant override on that group.
 */
const fullyRolledOut = sql`(
  ${featureFlags.filters} = '{}'::jsonb
  or exists (
    select 1 from jsonb_array_elements(case when jsonb_typeof(${featureFlags.filters} -> 'groups') = 'array' then ${featureFlags.filters} -> 'groups' else '[]'::jsonb end) g
    where ${isHundred(sql`g -> 'rollout_percentage'`)}
      and (case when jsonb_typeof(g -> 'properties') = 'array' then jsonb_array_length(g -> 'properties') = 0 else true end)
      and (
        not ${hasVariants}
        or (case when jsonb_typeof(g -> 'variant') = 'string' then g ->> 'variant' <> '' else false end)
        or exists (select 1 from jsonb_array_elements(${variantsOf}) v where ${isHundred(sql`v -> 'rollout_percentage'`)})
      )
  )
)`;

function listConditions(projectId: number, f: FlagListFilters): SQL[] {
  const conditions: SQL[] = [eq(featureFlags.projectId, projectId), eq(featureFlags.deleted, false)];
  if (f.active === 'true') conditions.push(eq(featureFlags.active, true));
  else if (f.active === 'false') conditions.push(eq(featureFlags.active, false));
  else if (f.active === 'STALE') {
    const cutoff = new Date(f.now.getTime() - 30 * 24 * 60 * 60 * 1000);
    conditions.push(eq(featureFlags.active, true));
    conditions.push(
      or(
        and(isNotNull(featureFlags.lastCalledAt), lt(featureFlags.lastCalledAt, cutoff)),
        and(isNull(featureFlags.lastCalledAt), lt(featureFlags.createdAt, cutoff), fullyRolledOut),
      )!,
    );
  }
  if (f.createdById !== undefined) conditions.push(eq(featureFlags.createdById, f.createdById));
  if (f.search) {
    const pattern = `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(or(ilike(featureFlags.key, pattern), ilike(featureFlags.name, pattern))!);
  }
  if (f.type === 'boolean') conditions.push(sql`not ${hasVariants}`);
  else if (f.type === 'multivariant') conditions.push(hasVariants);
  else if (f.type === 'experiment')
    conditions.push(sql`false`); // flaghost has no experiments
  else if (f.type === 'remote_config') conditions.push(eq(featureFlags.isRemoteConfiguration, true));
  if (f.evaluationRuntime !== undefined) conditions.push(eq(featureFlags.evaluationRuntime, f.evaluationRuntime));
  if (f.tags?.length) {
    conditions.push(
      sql`jsonb_exists_any(${featureFlags.tags}, array[${sql.join(
        f.tags.map((t) => sql`${t}`),
        sql`, `,
      )}]::text[])`,
    );
  }
  if (f.excludedKeys?.length) conditions.push(notInArray(featureFlags.key, f.excludedKeys));
  if (f.hasEvaluationTags !== undefined) {
    conditions.push(
      f.hasEvaluationTags ? sql`jsonb_array_length(${featureFlags.evaluationTags}) > 0` : sql`jsonb_array_length(${featureFlags.evaluationTags}) = 0`,
    );
  }
  if (f.extra) conditions.push(f.extra);
  return conditions;
}

export async function listFlags(
  db: Db,
  projectId: number,
  filters: FlagListFilters,
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: FeatureFlagRow[] }> {
  const where = and(...listConditions(projectId, filters));
  const column = ORDERABLE_FIELDS[filters.order.field];
  // The page's ids first, then their rows: sorting the whole project's rows (filters included)
  // to keep a hundred of them spilled to disk at 10,000 flags. The count comes with the ids (one
  // walk over the matching flags instead of two), and sorting is turned off for that statement,
  // so that the default order walks its index instead of sorting every live flag, as the planner
  // does without statistics (PGlite never gathers any) (docs/architecture.md#large-projects).
  const pageIds = await db.transaction(async (tx) => {
    await tx.execute(sql`set local enable_sort = off`);
    return tx
      .select({ id: featureFlags.id, total: sql<number>`(count(*) over ())::int` })
      .from(featureFlags)
      .where(where)
      .orderBy(filters.order.descending ? desc(column) : asc(column), desc(featureFlags.id))
      .limit(page.limit)
      .offset(page.offset);
  });
  // A page past the end has no row to carry the count.
  const n = pageIds.length > 0 ? pageIds[0].total : (await db.select({ n: sql<number>`count(*)::int` }).from(featureFlags).where(where))[0].n;
  if (pageIds.length === 0) return { count: n, rows: [] };
  const ids = pageIds.map((r) => r.id);
  const byId = new Map((await db.select().from(featureFlags).where(inArray(featureFlags.id, ids))).map((r) => [r.id, r]));
  const rows = ids.map((id) => byId.get(id)).filter((r): r is FeatureFlagRow => r !== undefined);
  return { count: n, rows };
}

// ---- flag dependencies ----------------------------------------------------------------------

/** `filters.groups[].properties[]` of type `flag` whose key is `flagId` (as PostHog matches it: `->> 'key'`). */
const dependsOn = (flagId: number) => sql`exists (
  select 1
  from jsonb_array_elements(case when jsonb_typeof(${featureFlags.filters} -> 'groups') = 'array' then ${featureFlags.filters} -> 'groups' else '[]'::jsonb end) g
  cross join jsonb_array_elements(case when jsonb_typeof(g -> 'properties') = 'array' then g -> 'properties' else '[]'::jsonb end) p
  where jsonb_typeof(p) = 'object' and p ->> 'type' = 'flag' and p ->> 'key' = ${String(flagId)}
)`;

/** Active, non-deleted flags of the project other than `flagId` with a condition on flag `flagId`, by key. */
export async function findActiveDependentFlags(db: Db, projectId: number, flagId: number): Promise<FeatureFlagRow[]> {
  return db
    .select()
    .from(featureFlags)
    .where(
      and(
        eq(featureFlags.projectId, projectId),
        eq(featureFlags.deleted, false),
        eq(featureFlags.active, true),
        ne(featureFlags.id, flagId),
        dependsOn(flagId),
      ),
    )
    .orderBy(asc(featureFlags.key), asc(featureFlags.id));
}

/** The disabled, non-deleted flags of the project among `ids`, by key. */
export async function findDisabledFlagsByIds(db: Db, projectId: number, ids: number[]): Promise<FeatureFlagRow[]> {
  if (!ids.length) return [];
  return db
    .select()
    .from(featureFlags)
    .where(and(eq(featureFlags.projectId, projectId), inArray(featureFlags.id, ids), eq(featureFlags.deleted, false), eq(featureFlags.active, false)))
    .orderBy(asc(featureFlags.key), asc(featureFlags.id));
}

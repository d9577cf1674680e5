// Feature-flag writes and reads: create, update (optimistic locking, soft delete, key freeing),
// the activity entry of each change in the same transaction, and the full representation.
import { isDeepStrictEqual } from 'node:util';
import type { Db } from '../platform/db/index.ts';
import { transact, type AppContext, type TxChanges } from '../platform/context.ts';
import type { RequestAuth } from '../access/auth.ts';
import { diffFields, logActivity } from '../activity/service.ts';
import { flagAccessResolver, assertCanEdit, assertCanReplaceDeleted } from '../access/roles/flag-access.ts';
import { flagStatus } from './status.ts';
import { checkStateTransition, validateFlagWrite, type WriteMode } from './validation.ts';
import { fromLegacyBody } from './legacy-body.ts';
import { storedFilters, visiblePayloads } from './payloads.ts';
import { attachUsageDashboard } from './dashboards/service.ts';
import type { PayloadCipher } from '../platform/payload-crypto.ts';
import {
  analyticsDashboardsOf,
  findFlag,
  findFlagForUpdate,
  hardDeleteSoftDeletedWithKey,
  insertFlag,
  linkAnalyticsDashboards,
  updateFlag,
  type FeatureFlagRow,
  type NewFeatureFlagRow,
} from './repository.ts';
import { findCohortsByIds } from '../cohorts/repository.ts';
import { findUsersByIds } from '../access/organizations/users-repository.ts';
import { toFeatureFlag, type FeatureFlagOut } from './schemas.ts';
import { cohortIdsInFilters, normalizeFilters } from './filters.ts';
import { ConflictError, NotFoundError } from '../platform/errors.ts';
import { requireProject } from '../access/require-auth.ts';

/** Model fields reported in activity changes, in PostHog's model field order. */
const ACTIVITY_FIELDS = [
  'key',
  'name',
  'filters',
  'rollout_percentage',
  'deleted',
  'active',
  'version',
  'rollback_conditions',
  'performed_rollback',
  'ensure_experience_continuity',
  'has_enriched_analytics',
  'is_remote_configuration',
  'has_encrypted_payloads',
  'evaluation_runtime',
  'bucketing_identifier',
  'tags',
  'evaluation_tags',
] as const;

/** The row as PostHog's model fields (snake_case), for activity diffs and conflict checks. */
export function modelFields(flag: FeatureFlagRow): Record<string, unknown> {
  return {
    key: flag.key,
    name: flag.name,
    filters: flag.filters,
    rollout_percentage: flag.rolloutPercentage,
    deleted: flag.deleted,
    active: flag.active,
    version: flag.version,
    rollback_conditions: flag.rollbackConditions ?? null,
    performed_rollback: flag.performedRollback,
    ensure_experience_continuity: flag.ensureExperienceContinuity,
    has_enriched_analytics: flag.hasEnrichedAnalytics,
    is_remote_configuration: flag.isRemoteConfiguration,
    has_encrypted_payloads: flag.hasEncryptedPayloads,
    evaluation_runtime: flag.evaluationRuntime,
    bucketing_identifier: flag.bucketingIdentifier,
    tags: flag.tags,
    evaluation_tags: flag.evaluationTags,
  };
}

/** Full representations of `rows` as the caller sees them. */
export async function presentFlags(ctx: AppContext, db: Db, auth: RequestAuth, rows: FeatureFlagRow[]): Promise<FeatureFlagOut[]> {
  const now = ctx.now();
  if (!rows.length) return [];
  const userIds = rows.flatMap((r) => [r.createdById, r.lastModifiedById]).filter((id): id is number => id !== null);
  const cohortIds = [...new Set(rows.flatMap((r) => cohortIdsInFilters(normalizeFilters(r.filters, r.rolloutPercentage))))];
  const [users, analyticsDashboards, cohorts, access] = await Promise.all([
    findUsersByIds(db, userIds),
    analyticsDashboardsOf(
      db,
      rows.map((r) => r.id),
    ),
    findCohortsByIds(db, rows[0].projectId, cohortIds),
    flagAccessResolver(db, auth, rows),
  ]);
  const cohortNames = new Map(cohorts.map((c) => [c.id, c.name]));
  return rows.map((flag) =>
    toFeatureFlag(flag, {
      users,
      analyticsDashboards,
      cohortNames,
      access,
      status: (f) => flagStatus(f, now).status.toUpperCase() as FeatureFlagOut['status'],
      payloads: visiblePayloads(ctx.payloadCipher()),
    }),
  );
}

export async function presentFlag(ctx: AppContext, auth: RequestAuth, row: FeatureFlagRow): Promise<FeatureFlagOut> {
  const [out] = await presentFlags(ctx, ctx.db, auth, [row]);
  return out;
}

/** Seals or opens payloads in the values about to be stored, per the flag's encryption setting. */
function withStoredPayloads(cipher: PayloadCipher, values: Partial<NewFeatureFlagRow>, existing?: FeatureFlagRow): Partial<NewFeatureFlagRow> {
  const encrypted = values.hasEncryptedPayloads ?? existing?.hasEncryptedPayloads ?? false;
  const filters = values.filters ?? existing?.filters;
  if (!filters) return values;
  const stored = storedFilters(cipher, filters, existing?.filters, Boolean(encrypted));
  return stored === filters && !values.filters ? values : { ...values, filters: stored };
}

/** Retrieve: deleted flags too (GET of a soft-deleted flag is 200 with deleted: true). */
export async function getFlag(ctx: AppContext, auth: RequestAuth, id: number): Promise<FeatureFlagOut> {
  const flag = await findFlag(ctx.db, requireProject(auth).id, id);
  if (!flag) throw new NotFoundError();
  return presentFlag(ctx, auth, flag);
}

/** `form`: the body came as form data (multipart or urlencoded), whose JSON fields are text. */
export interface WriteOptions {
  form?: boolean;
}

export async function createFlag(ctx: AppContext, auth: RequestAuth, body: unknown, opts: WriteOptions = {}): Promise<FeatureFlagOut> {
  const project = requireProject(auth);
  const actorId = auth.user?.id ?? null;
  const now = ctx.now();
  const row = await transact(ctx, async (tx, changes) => {
    const input = await validateFlagWrite(tx, { mode: 'create', project, body: fromLegacyBody(body, { form: opts.form ?? false }) });
    const key = input.values.key!;
    // The (project, key) constraint: a soft-deleted flag with this key gives way to the new one.
    await assertCanReplaceDeleted(tx, auth, project.id, key);
    await hardDeleteSoftDeletedWithKey(tx, project.id, key);
    let created = await insertFlag(tx, {
      ...withStoredPayloads(ctx.payloadCipher(), input.values),
      key,
      projectId: project.id,
      createdById: actorId,
      lastModifiedById: actorId,
      createdAt: now,
      updatedAt: now,
      version: 1,
      ...(input.creationContext ? { creationContext: input.creationContext } : {}),
    });
    if (input.analyticsDashboards?.length) await linkAnalyticsDashboards(tx, created.id, input.analyticsDashboards);
    if (input.shouldCreateUsageDashboard) created = await attachUsageDashboard(tx, created, actorId, now);
    await logActivity(tx, {
      organizationId: project.organizationId,
      projectId: project.id,
      userId: actorId,
      activity: 'created',
      scope: 'FeatureFlag',
      itemId: created.id,
      name: created.key,
      changes: [],
      at: now,
    });
    changes.project(project.id);
    return created;
  });
  return presentFlag(ctx, auth, row);
}

/**
 * Fields someone else changed since the client's `original_flag` that this request also changes
 * (docs/compatibility.md#api-3.10).
 */
function conflictingFields(original: Record<string, unknown>, validated: Record<string, unknown>, current: Record<string, unknown>): string[] {
  const same = (a: unknown, b: unknown) => isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? null)), JSON.parse(JSON.stringify(b ?? null)));
  return Object.keys(validated).filter(
    (field) =>
      field in original && !same(validated[field], original[field]) && !same(original[field], current[field]) && !same(current[field], validated[field]),
  );
}

/**
 * `$feature_enrollment/<old key>` gates in super_groups follow a key change
 * (docs/compatibility.md#case-42).
 */
function renameEnrollmentGates(filters: Record<string, unknown>, newKey: string): Record<string, unknown> {
  if (!Array.isArray(filters.super_groups)) return filters;
  return {
    ...filters,
    super_groups: filters.super_groups.map((group) => {
      if (!group || typeof group !== 'object' || !Array.isArray((group as { properties?: unknown }).properties)) return group;
      const g = group as { properties: unknown[] };
      return {
        ...g,
        properties: g.properties.map((p) =>
          p && typeof p === 'object' && typeof (p as { key?: unknown }).key === 'string' && (p as { key: string }).key.startsWith('$feature_enrollment/')
            ? { ...(p as object), key: `$feature_enrollment/${newKey}` }
            : p,
        ),
      };
    }),
  };
}

export async function updateFlagById(
  ctx: AppContext,
  auth: RequestAuth,
  id: number,
  body: unknown,
  mode: Exclude<WriteMode, 'create'>,
  opts: WriteOptions = {},
): Promise<FeatureFlagOut> {
  const row = await transact(ctx, (tx, changes) => applyFlagUpdate(ctx, tx, changes, auth, id, body, mode, opts));
  return presentFlag(ctx, auth, row);
}

/**
 * One update inside the caller's transaction: every check, the write and its activity entry. Bulk
 * deletion runs it per flag in a savepoint, so each flag is checked exactly as a PATCH is.
 */
export async function applyFlagUpdate(
  ctx: AppContext,
  tx: Db,
  changes: TxChanges,
  auth: RequestAuth,
  id: number,
  body: unknown,
  mode: Exclude<WriteMode, 'create'>,
  opts: WriteOptions = {},
): Promise<FeatureFlagRow> {
  const project = requireProject(auth);
  const actorId = auth.user?.id ?? null;
  const now = ctx.now();
  const existing = await findFlagForUpdate(tx, project.id, id);
  if (!existing) throw new NotFoundError();
  await assertCanEdit(tx, auth, existing);
  const input = await validateFlagWrite(tx, { mode, project, body: fromLegacyBody(body, { form: opts.form ?? false, existing }), existing });

  if (input.version !== undefined && input.originalFlag && input.version !== (existing.version ?? 0)) {
    const current = { ...modelFields(existing), filters: normalizeFilters(existing.filters, existing.rolloutPercentage) };
    if (conflictingFields(input.originalFlag, input.validated, current).length) {
      const editor = existing.lastModifiedById ? (await findUsersByIds(tx, [existing.lastModifiedById])).get(existing.lastModifiedById) : undefined;
      throw new ConflictError(`The feature flag was updated by ${editor?.email ?? 'another user'} since you started editing it. Please refresh and try again.`);
    }
  }

  const values: Partial<NewFeatureFlagRow> = { ...input.values };
  if (values.active === true) values.performedRollback = false;
  const nextActive = values.active ?? existing.active;
  const nextDeleted = values.deleted ?? existing.deleted;
  if (nextActive !== existing.active || nextDeleted !== existing.deleted) {
    await checkStateTransition(tx, { project, existing, nextActive, nextDeleted });
  }
  if (values.key !== undefined && values.key !== existing.key) {
    await assertCanReplaceDeleted(tx, auth, project.id, values.key, existing.id);
    await hardDeleteSoftDeletedWithKey(tx, project.id, values.key, existing.id);
    values.filters = renameEnrollmentGates(values.filters ?? existing.filters, values.key);
  }
  Object.assign(values, withStoredPayloads(ctx.payloadCipher(), values, existing));
  values.version = (existing.version ?? 0) + 1;
  values.lastModifiedById = actorId;
  values.updatedAt = now;

  const updated = await updateFlag(tx, existing.id, values);
  if (input.analyticsDashboards?.length) await linkAnalyticsDashboards(tx, updated.id, input.analyticsDashboards);
  const diff = diffFields('FeatureFlag', modelFields(existing), modelFields(updated), ACTIVITY_FIELDS);
  if (diff.length) {
    const activity = updated.deleted && !existing.deleted ? 'deleted' : !updated.deleted && existing.deleted ? 'restored' : 'updated';
    await logActivity(tx, {
      organizationId: project.organizationId,
      projectId: project.id,
      userId: actorId,
      activity,
      scope: 'FeatureFlag',
      itemId: updated.id,
      name: updated.key,
      changes: diff,
      at: now,
    });
  }
  changes.project(project.id);
  return updated;
}

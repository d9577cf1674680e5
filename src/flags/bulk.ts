// GET …/feature_flags/matching_ids and POST …/feature_flags/bulk_delete (docs/compatibility.md#api-7.8):
// the flags the caller may edit among those the list's filters select, and soft deletion of many
// flags, each one checked and written exactly as a PATCH {"deleted": true} would be.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AppContext } from '../platform/context.ts';
import { transact } from '../platform/context.ts';
import type { RequestAuth } from '../access/auth.ts';
import { flagAccessResolver } from '../access/roles/flag-access.ts';
import { requireProject } from '../access/require-auth.ts';
import { ApiError, RawError, ValidationError } from '../platform/errors.ts';
import { pythonTypeName } from '../platform/http/drf.ts';
import { BODY_FILTER_KEYS, bodyFiltersAsQuery, parseListFilters } from './list.ts';
import { findActiveDependentFlags, findFlagsByIds, listFlags, type FeatureFlagRow } from './repository.ts';
import { applyFlagUpdate } from './service.ts';
import { fullyRolledOutValue, variantsOf } from './filters.ts';

/** Most flags matching_ids answers; more is a 400 asking for narrower filters (flaghost's bound). */
export const MAX_MATCHING_IDS = 10_000;
/** Most flags one bulk_delete may delete (flaghost's bound; PostHog has none). */
export const MAX_BULK_DELETE = 1000;
/** Flags read per step while matching, and deleted per transaction (one snapshot rebuild each). */
const PAGE = 500;
const DELETE_CHUNK = 50;
const INT4_MAX = 2_147_483_647;

/**
 * Ids of the flags matching `query` (the list's own filters) that the caller may edit, newest
 * first; a page of flags at a time, yielding between pages.
 */
export async function editableMatchingIds(ctx: AppContext, auth: RequestAuth, query: Record<string, unknown>, cap: number): Promise<number[]> {
  const projectId = requireProject(auth).id;
  const filters = parseListFilters(query, ctx.now());
  const ids: number[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const { count, rows } = await listFlags(ctx.db, projectId, filters, { limit: PAGE, offset });
    if (count > cap) throw new ValidationError(`${count} flags match these filters; at most ${cap} can be handled at once. Narrow the filters.`);
    const access = await flagAccessResolver(ctx.db, auth, rows);
    for (const row of rows) if (access(row).canEdit) ids.push(row.id);
    if (rows.length < PAGE) return ids;
    await nextTurn();
  }
}

export async function matchingIds(ctx: AppContext, auth: RequestAuth, query: Record<string, unknown>): Promise<{ ids: number[]; total: number }> {
  const ids = await editableMatchingIds(ctx, auth, query, MAX_MATCHING_IDS);
  return { ids, total: ids.length };
}

export interface BulkDeleted {
  id: number;
  key: string;
  rollout_state: 'fully_rolled_out' | 'not_rolled_out' | 'partial';
  active_variant: string | null;
}
export interface BulkError {
  id: unknown;
  key?: string;
  reason: string;
}

/** What the flag served just before deletion, as PostHog reports it with each deleted flag. */
function rolloutInfo(flag: FeatureFlagRow): Pick<BulkDeleted, 'rollout_state' | 'active_variant'> {
  const filters = flag.filters ?? {};
  const full = fullyRolledOutValue(filters);
  const multivariate = filters.multivariate !== undefined && filters.multivariate !== null;
  if (multivariate && typeof full === 'string' && variantsOf(filters).length) return { rollout_state: 'fully_rolled_out', active_variant: full };
  if (!multivariate && full === true) return { rollout_state: 'fully_rolled_out', active_variant: null };
  const groups = Array.isArray(filters.groups) ? (filters.groups as Array<{ rollout_percentage?: unknown }>) : [];
  if (groups.length && groups.every((g) => g && typeof g === 'object' && g.rollout_percentage === 0))
    return { rollout_state: 'not_rolled_out', active_variant: null };
  return { rollout_state: 'partial', active_variant: null };
}

const bad = (error: string) => new RawError(400, { error });
const isDigits = (v: unknown): v is string => typeof v === 'string' && /^[0-9]+$/.test(v);

/** The flags a bulk_delete body names: explicit ids (with errors for the unusable ones) or filters. */
async function resolveTargets(ctx: AppContext, auth: RequestAuth, body: Record<string, unknown>): Promise<{ ids: number[]; errors: BulkError[] }> {
  const filters = body.filters ?? {};
  const explicit = body.ids ?? [];
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters)) {
    throw new ValidationError(`Expected a dictionary of items but got type "${pythonTypeName(filters)}".`, 'not_a_dict', 'filters');
  }
  if (!Array.isArray(explicit)) throw new ValidationError(`Expected a list of items but got type "${pythonTypeName(explicit)}".`, 'not_a_list', 'ids');
  const filterObject = filters as Record<string, unknown>;
  const hasFilters = Object.keys(filterObject).length > 0;
  if (hasFilters && explicit.length) throw bad('Provide either filters or ids, not both');
  if (!hasFilters && !explicit.length) throw bad('Must provide either filters or ids');
  if (hasFilters) {
    const unknown = Object.keys(filterObject).filter((k) => !(BODY_FILTER_KEYS as readonly string[]).includes(k));
    if (unknown.length) throw bad(`Unknown filter keys: ${unknown.sort().join(', ')}`);
    return { ids: await editableMatchingIds(ctx, auth, bodyFiltersAsQuery(filterObject), MAX_BULK_DELETE), errors: [] };
  }
  if (explicit.length > MAX_BULK_DELETE) throw new ValidationError(`Ensure this field has no more than ${MAX_BULK_DELETE} elements.`, 'max_length', 'ids');
  const wanted = explicit.map((raw) => (typeof raw === 'number' && Number.isInteger(raw) ? raw : isDigits(raw) ? Number(raw) : undefined));
  const lookup = [...new Set(wanted.filter((id): id is number => id !== undefined && id >= 0 && id <= INT4_MAX))];
  const live = new Set((await findFlagsByIds(ctx.db, requireProject(auth).id, lookup)).filter((f) => !f.deleted).map((f) => f.id));
  const errors: BulkError[] = [];
  const ids: number[] = [];
  explicit.forEach((raw, i) => {
    const id = wanted[i];
    if (id === undefined) errors.push({ id: raw, reason: 'Invalid flag ID format' });
    else if (!live.has(id)) errors.push({ id, reason: 'Flag not found' });
    else if (!ids.includes(id)) ids.push(id);
  });
  return { ids, errors };
}

/** PostHog's bulk wording for the dependent-flags refusal (up to three named, then a count). */
function dependentsReason(dependents: FeatureFlagRow[]): string {
  const names = dependents.slice(0, 3).map((f) => `${f.key} (ID: ${f.id})`);
  if (dependents.length > 3) names.push(`and ${dependents.length - 3} more`);
  return `Cannot delete because other flags depend on it: ${names.join(', ')}`;
}

/**
 * Soft-deletes each target in a savepoint of its own, so one refusal rolls back only that flag;
 * targets are written in transactions of DELETE_CHUNK flags, yielding between them.
 */
export async function bulkDelete(ctx: AppContext, auth: RequestAuth, body: unknown): Promise<{ deleted: BulkDeleted[]; errors: BulkError[] }> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError(`Invalid data. Expected a dictionary, but got ${pythonTypeName(body)}.`, 'invalid', 'non_field_errors');
  }
  const projectId = requireProject(auth).id;
  const { ids, errors } = await resolveTargets(ctx, auth, body as Record<string, unknown>);
  const deleted: BulkDeleted[] = [];
  for (let start = 0; start < ids.length; start += DELETE_CHUNK) {
    if (start > 0) await nextTurn();
    await transact(ctx, async (tx, changes) => {
      for (const id of ids.slice(start, start + DELETE_CHUNK)) {
        const [before] = await findFlagsByIds(tx, projectId, [id]);
        if (!before || before.deleted) {
          errors.push({ id, reason: 'Flag not found' });
          continue;
        }
        try {
          await tx.transaction((sp) => applyFlagUpdate(ctx, sp as typeof tx, changes, auth, id, { deleted: true }, 'partial_update'));
          deleted.push({ id, key: before.key, ...rolloutInfo(before) });
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          const detail = (error.body as { detail?: string } | null)?.detail ?? error.message;
          const dependents = detail.startsWith('Cannot delete this feature flag because other flags depend on it')
            ? await findActiveDependentFlags(tx, projectId, id)
            : [];
          errors.push({ id, key: before.key, reason: dependents.length ? dependentsReason(dependents) : detail });
        }
      }
    });
  }
  return { deleted, errors };
}

// A flag's relations over time and over the project (docs/compatibility.md#api-7.10): the active
// flags that depend on it, directly or through a chain, and the flag as it was at an earlier
// version, rebuilt from its activity log.
import type { AppContext } from '../platform/context.ts';
import type { RequestAuth } from '../access/auth.ts';
import { requireProject } from '../access/require-auth.ts';
import { NotFoundError } from '../platform/errors.ts';
import { isoTime } from '../platform/time.ts';
import { listActivity } from '../activity/repository.ts';
import { findFlag, listLiveFlags, type FeatureFlagRow } from './repository.ts';
import { dependencyIdsOf } from './validation-dependencies.ts';
import { modelFields } from './service.ts';
import { normalizeFilters } from './filters.ts';
import { visiblePayloads } from './payloads.ts';

export interface DependentFlag {
  id: number;
  key: string;
  name: string;
}

/**
 * The project's active flags that depend on flag `id`: those with a condition on it, then those
 * with a condition on one of them, and so on (an inactive flag ends a chain: it serves false
 * whatever it depends on). Sorted by key. 404 when the flag is not a live flag of the project.
 */
export async function dependentFlags(ctx: AppContext, auth: RequestAuth, id: number): Promise<DependentFlag[]> {
  const project = requireProject(auth);
  const flags = await listLiveFlags(ctx.db, project.id);
  if (!flags.some((f) => f.id === id)) throw new NotFoundError();
  const dependents = new Map<number, FeatureFlagRow[]>();
  for (const flag of flags) {
    if (!flag.active) continue;
    for (const dep of dependencyIdsOf(flag.filters)) {
      const list = dependents.get(dep) ?? [];
      list.push(flag);
      dependents.set(dep, list);
    }
  }
  const found = new Map<number, FeatureFlagRow>();
  const queue = [id];
  while (queue.length) {
    for (const flag of dependents.get(queue.shift() as number) ?? []) {
      if (flag.id === id || found.has(flag.id)) continue;
      found.set(flag.id, flag);
      queue.push(flag.id);
    }
  }
  return [...found.values()]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id - b.id))
    .map((f) => ({ id: f.id, key: f.key, name: f.name || f.key }));
}

export interface FlagVersion {
  id: number;
  key: string;
  name: string;
  filters: Record<string, unknown>;
  active: boolean;
  deleted: boolean;
  version: number | null;
  rollback_conditions: unknown;
  performed_rollback: boolean | null;
  ensure_experience_continuity: boolean | null;
  has_enriched_analytics: boolean | null;
  is_remote_configuration: boolean | null;
  has_encrypted_payloads: boolean | null;
  evaluation_runtime: string | null;
  bucketing_identifier: string | null;
  last_called_at: string | null;
  created_at: string;
  created_by: number | null;
  is_historical: boolean;
  version_timestamp: string | null;
  modified_by: number | null;
}

interface Change {
  field?: unknown;
  before?: unknown;
  after?: unknown;
}

const ACTIVITY_PAGE = 200;

/**
 * Flag `id` as it was at version `n`: the current flag with the activity log's changes undone,
 * newest first, until its version is `n`. 404 when the flag is not in the project or the log cannot
 * reach that version (n is above the current one, or entries are missing).
 */
export async function flagAtVersion(ctx: AppContext, auth: RequestAuth, id: number, n: number): Promise<FlagVersion> {
  const project = requireProject(auth);
  const flag = await findFlag(ctx.db, project.id, id);
  if (!flag) throw new NotFoundError();
  const state = modelFields(flag);
  const current = flag.version ?? 0;
  if (n < 1 || n > current) throw new NotFoundError();
  let timestamp: Date | null = flag.updatedAt;
  let modifiedBy: number | null = flag.lastModifiedById;
  for (let offset = 0; (state.version as number) > n; offset += ACTIVITY_PAGE) {
    const page = await listActivity(ctx.db, { projectId: project.id, scope: 'FeatureFlag', itemId: String(id) }, { limit: ACTIVITY_PAGE, offset });
    if (!page.rows.length) throw new NotFoundError();
    for (const { entry } of page.rows) {
      const changes = ((entry.detail as { changes?: unknown } | null)?.changes ?? []) as Change[];
      if (!Array.isArray(changes) || !changes.some((c) => c?.field === 'version')) continue;
      for (const change of changes) {
        if (typeof change?.field === 'string' && Object.hasOwn(state, change.field)) state[change.field] = change.before ?? null;
      }
      if ((state.version as number) <= n) break;
    }
  }
  if ((state.version as number) !== n) throw new NotFoundError();
  if (n < current) {
    // The version was produced by the entry that moved the version to n (the create for version 1).
    const made = await entryThatMadeVersion(ctx, project.id, id, n);
    timestamp = made?.createdAt ?? null;
    modifiedBy = made?.userId ?? null;
  }
  const encrypted = (state.has_encrypted_payloads as boolean | null) ?? false;
  let filters = normalizeFilters(state.filters as Record<string, unknown> | null, state.rollout_percentage as number | null);
  if (filters.payloads && typeof filters.payloads === 'object') {
    const visible = visiblePayloads(ctx.payloadCipher());
    filters = { ...filters, payloads: visible({ ...flag, hasEncryptedPayloads: encrypted }, filters.payloads as Record<string, unknown>) };
  }
  return {
    id: flag.id,
    key: state.key as string,
    name: state.name as string,
    filters,
    active: state.active as boolean,
    deleted: state.deleted as boolean,
    version: state.version as number,
    rollback_conditions: state.rollback_conditions ?? null,
    performed_rollback: state.performed_rollback as boolean | null,
    ensure_experience_continuity: state.ensure_experience_continuity as boolean | null,
    has_enriched_analytics: state.has_enriched_analytics as boolean | null,
    is_remote_configuration: state.is_remote_configuration as boolean | null,
    has_encrypted_payloads: encrypted,
    evaluation_runtime: state.evaluation_runtime as string | null,
    bucketing_identifier: state.bucketing_identifier as string | null,
    last_called_at: isoTime(flag.lastCalledAt),
    created_at: isoTime(flag.createdAt) as string,
    created_by: flag.createdById,
    is_historical: n < current,
    version_timestamp: isoTime(timestamp),
    modified_by: modifiedBy,
  };
}

async function entryThatMadeVersion(ctx: AppContext, projectId: number, id: number, n: number) {
  for (let offset = 0; ; offset += ACTIVITY_PAGE) {
    const page = await listActivity(ctx.db, { projectId, scope: 'FeatureFlag', itemId: String(id) }, { limit: ACTIVITY_PAGE, offset });
    if (!page.rows.length) return undefined;
    for (const { entry } of page.rows) {
      const changes = ((entry.detail as { changes?: unknown } | null)?.changes ?? []) as Change[];
      if (n === 1 ? entry.activity === 'created' : Array.isArray(changes) && changes.some((c) => c?.field === 'version' && c.after === n)) return entry;
    }
  }
}

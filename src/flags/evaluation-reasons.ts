// GET …/feature_flags/evaluation_reasons (docs/compatibility.md#api-7.4): every flag evaluated for one
// distinct id, with its stored person and group properties, static cohorts and continuity overrides.
import type { AppContext } from '../platform/context.ts';
import type { ProjectSnapshot, SnapshotStore } from '../sdk/snapshots.ts';
import { evaluateFlags, type FlagEvaluation } from '../evaluation/index.ts';
import { loadPersonContext } from '../persons/service.ts';
import { NotFoundError, ValidationError } from '../platform/errors.ts';

export interface EvaluationReason {
  value: boolean | string;
  evaluation: { reason: string; condition_index: number | null };
}

export function parseGroups(raw: unknown): Record<string, string | number> {
  if (raw === undefined || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(raw));
  } catch {
    throw new ValidationError('Invalid JSON in groups parameter', 'invalid_input', 'groups');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ValidationError('groups must be a JSON object', 'invalid_input', 'groups');
  const groups: Record<string, string | number> = {};
  for (const [type, key] of Object.entries(parsed)) if (typeof key === 'string' || typeof key === 'number') groups[type] = key;
  return groups;
}

/** Every flag of the project evaluated for one distinct id, with what /flags reads from storage. */
export async function evaluateForDistinctId(
  ctx: AppContext,
  snapshots: SnapshotStore,
  projectId: number,
  distinctId: string,
  groups: Record<string, string | number>,
): Promise<{ snapshot: ProjectSnapshot; results: Map<string, FlagEvaluation> }> {
  const snapshot = await snapshots.forProject(projectId);
  if (!snapshot) throw new NotFoundError('Project not found.');
  // Stored person and group properties, static cohorts and continuity overrides, as /flags uses them.
  const groupKeys: Record<number, string | number> = {};
  for (const [name, key] of Object.entries(groups)) {
    const index = snapshot.groupTypeIndexByName.get(name);
    if (index !== undefined) groupKeys[index] = key;
  }
  const continuityFlagKeys = snapshot.flags.filter((f) => f.active && f.ensureExperienceContinuity).map((f) => f.key);
  const stored = await loadPersonContext(ctx.db, projectId, { distinctId, groups: groupKeys, continuityFlagKeys });
  const groupProperties: Record<string, Record<string, unknown>> = {};
  for (const [index, props] of stored.groupProperties) {
    const name = snapshot.compiled.groupTypeNames[index];
    if (name !== undefined) groupProperties[name] = props;
  }
  const results = evaluateFlags(snapshot.compiled, {
    distinctId,
    groups,
    personProperties: { ...stored.personProperties, distinct_id: distinctId },
    groupProperties,
    staticCohortIds: stored.staticCohortIds,
    hashKeyOverrides: stored.hashKeyOverrides,
    runtime: 'all',
    now: ctx.now(),
  });
  return { snapshot, results: new Map(results.map((r) => [r.key, r])) };
}

export async function evaluationReasons(
  ctx: AppContext,
  snapshots: SnapshotStore,
  projectId: number,
  query: Record<string, unknown>,
): Promise<Record<string, EvaluationReason>> {
  const distinctId = typeof query.distinct_id === 'string' ? query.distinct_id : undefined;
  if (!distinctId) throw new ValidationError('This field is required.', 'required', 'distinct_id');
  const { snapshot, results: byKey } = await evaluateForDistinctId(ctx, snapshots, projectId, distinctId, parseGroups(query.groups));
  const out: Record<string, EvaluationReason> = {};
  for (const flag of snapshot.flags) {
    if (!flag.active) {
      out[flag.key] = { value: false, evaluation: { reason: 'disabled', condition_index: null } };
      continue;
    }
    const r = byKey.get(flag.key);
    out[flag.key] = r
      ? { value: r.enabled ? (r.variant ?? true) : false, evaluation: { reason: r.reason.code, condition_index: r.reason.conditionIndex } }
      : { value: false, evaluation: { reason: 'unknown', condition_index: null } };
  }
  return out;
}

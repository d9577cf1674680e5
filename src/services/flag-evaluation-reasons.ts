// GET …/feature_flags/evaluation_reasons (API §7.4): every flag evaluated for one distinct id.
import type { AppContext } from './context.ts';
import type { SnapshotStore } from './snapshots.ts';
import { evaluateFlags } from '../evaluation/index.ts';
import { NotFoundError, ValidationError } from '../lib/errors.ts';

export interface EvaluationReason {
  value: boolean | string;
  evaluation: { reason: string; condition_index: number | null };
}

function parseGroups(raw: unknown): Record<string, string | number> {
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

export async function evaluationReasons(
  _ctx: AppContext,
  snapshots: SnapshotStore,
  projectId: number,
  query: Record<string, unknown>,
): Promise<Record<string, EvaluationReason>> {
  const distinctId = typeof query.distinct_id === 'string' ? query.distinct_id : undefined;
  if (!distinctId) throw new ValidationError('This field is required.', 'required', 'distinct_id');
  const groups = parseGroups(query.groups);
  const snapshot = await snapshots.forProject(projectId);
  if (!snapshot) throw new NotFoundError('Project not found.');
  const results = evaluateFlags(snapshot.compiled, {
    distinctId,
    groups,
    personProperties: { distinct_id: distinctId },
    runtime: 'all',
  });
  const byKey = new Map(results.map((r) => [r.key, r]));
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

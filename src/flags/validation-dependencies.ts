// Flag dependencies (`type: "flag"` conditions, docs/compatibility.md#api-3.6): references must be
// ids of live, active flags of the project; no self-reference; no cycle through existing flags.
// Plus the cross-flag rules an update must respect when it disables, deletes or enables a flag.
import type { Db } from '../platform/db/index.ts';
import { ValidationError } from '../platform/errors.ts';
import { findActiveDependentFlags, findDisabledFlagsByIds, findFlagsByIds, listLiveFlags, type FeatureFlagRow } from './repository.ts';
import { isPlainObject, pyInt, pyStr } from './validation-values.ts';

const INT4_MAX = 2_147_483_647;

function fail(detail: string): never {
  throw new ValidationError(detail, 'invalid_input', 'filters');
}

/** The `key` of every `flag` condition in `filters.groups`, in order (malformed parts skipped). */
export function flagReferences(filters: unknown): unknown[] {
  const refs: unknown[] = [];
  const groups = isPlainObject(filters) && Array.isArray(filters.groups) ? filters.groups : [];
  for (const group of groups) {
    const props = isPlainObject(group) && Array.isArray(group.properties) ? group.properties : [];
    for (const prop of props) if (isPlainObject(prop) && prop.type === 'flag') refs.push(prop.key);
  }
  return refs;
}

/** PostHog's safe_int() of a reference; containers are never ids. */
function referenceId(ref: unknown): number | undefined {
  if (ref === null || typeof ref === 'object') return undefined;
  return pyInt(ref);
}

/** The flag ids a stored flag depends on (references that are not ids are skipped). */
export function dependencyIdsOf(filters: unknown): number[] {
  const ids: number[] = [];
  for (const ref of flagReferences(filters)) {
    const id = referenceId(ref);
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/**
 * The first dependency cycle a depth-first walk finds from the saved flag, as PostHog reports it:
 * keys from the repeated flag back to itself. Iterative, and a flag explored without finding a
 * cycle is not explored again (the first cycle found is the same as without that shortcut).
 */
function findCycle(currentKey: string, directDeps: string[], depsOf: (key: string) => string[] | undefined): string[] | undefined {
  const done = new Set<string>();
  for (const start of directDeps) {
    const path = [currentKey];
    const position = new Map([[currentKey, 0]]);
    const stack: Array<{ key: string; deps: string[]; next: number }> = [];
    const enter = (key: string): string[] | undefined => {
      const at = position.get(key);
      if (at !== undefined) return [...path.slice(at), key];
      if (done.has(key)) return undefined;
      const deps = depsOf(key);
      if (!deps) return undefined;
      position.set(key, path.length);
      path.push(key);
      stack.push({ key, deps, next: 0 });
      return undefined;
    };
    let cycle = enter(start);
    while (!cycle && stack.length) {
      const top = stack[stack.length - 1];
      if (top.next < top.deps.length) {
        cycle = enter(top.deps[top.next++]);
      } else {
        stack.pop();
        path.pop();
        position.delete(top.key);
        done.add(top.key);
      }
    }
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Validates the flag conditions of a person flag's groups (already structurally valid). Returns
 * whether the flag has dependencies (PostHog then skips its create-time dry run).
 */
export async function validateFlagDependencies(tx: Db, input: { projectId: number; currentKey: string; groups: Record<string, unknown>[] }): Promise<boolean> {
  const refs = flagReferences({ groups: input.groups });
  if (!refs.length) return false;

  const ids = refs.map(referenceId);
  const lookup = [...new Set(ids.filter((id): id is number => id !== undefined && Math.abs(id) <= INT4_MAX))];
  const live = new Map((await findFlagsByIds(tx, input.projectId, lookup)).filter((f) => !f.deleted).map((f) => [f.id, f]));
  const depKeys: string[] = [];
  refs.forEach((ref, i) => {
    const id = ids[i];
    // PostHog skips falsy references ("" or 0) silently; flaghost refuses them like any other bad reference.
    if (id === undefined) fail(`Flag dependencies must reference flag IDs (integers), not flag keys. Invalid reference: '${pyStr(ref)}'`);
    const flag = live.get(id);
    if (!flag) fail(`Flag dependency references non-existent flag with ID ${id}`);
    if (!flag.active) fail(`Cannot create dependency on disabled flag '${flag.key}' (ID: ${id}). Flag dependencies must reference active flags only.`);
    if (!depKeys.includes(flag.key)) depKeys.push(flag.key);
  });

  if (depKeys.includes(input.currentKey)) fail(`Feature flag '${input.currentKey}' cannot depend on itself`);

  const flags = await listLiveFlags(tx, input.projectId);
  const byKey = new Map(flags.map((f) => [f.key, f]));
  const byId = new Map(flags.map((f) => [f.id, f]));
  const depsOf = (key: string): string[] | undefined => {
    const flag = byKey.get(key);
    if (!flag) return undefined;
    const keys: string[] = [];
    for (const id of dependencyIdsOf(flag.filters)) {
      const dep = byId.get(id);
      if (dep && !keys.includes(dep.key)) keys.push(dep.key);
    }
    return keys;
  };
  const cycle = findCycle(input.currentKey, depKeys, depsOf);
  if (cycle) fail(`Circular dependency detected: ${cycle.join(' → ')}`);
  return true;
}

/** `k1 (ID: 1), k2 (ID: 2)`: the first five, then `and N more`. */
function listFlags(flags: FeatureFlagRow[]): string {
  const names = flags.slice(0, 5).map((f) => `${f.key} (ID: ${f.id})`);
  if (flags.length > 5) names.push(`and ${flags.length - 5} more`);
  return names.join(', ');
}

/**
 * Cross-flag rules of an update (docs/compatibility.md#api-3.6), raised as PostHog raises them
 * from update() (attr null), in its order: soft-deleting or disabling a flag that active flags
 * depend on, enabling a flag whose (currently stored) dependencies are disabled.
 */
export async function checkDependencyStateTransition(
  tx: Db,
  input: { projectId: number; existing: FeatureFlagRow; nextActive: boolean; nextDeleted: boolean },
): Promise<void> {
  const { existing } = input;
  if (input.nextDeleted && !existing.deleted) {
    const dependents = await findActiveDependentFlags(tx, input.projectId, existing.id);
    if (dependents.length) {
      throw new ValidationError(
        `Cannot delete this feature flag because other flags depend on it: ${listFlags(dependents)}. Please update or delete the dependent flags first.`,
      );
    }
  }
  if (!input.nextActive && existing.active) {
    const dependents = await findActiveDependentFlags(tx, input.projectId, existing.id);
    if (dependents.length) {
      throw new ValidationError(
        `Cannot disable this feature flag because other flags depend on it: ${listFlags(dependents)}. Please update or disable the dependent flags first.`,
      );
    }
  }
  if (input.nextActive && !existing.active) {
    const ids = dependencyIdsOf(existing.filters).filter((id) => Math.abs(id) <= INT4_MAX);
    const disabled = await findDisabledFlagsByIds(tx, input.projectId, ids);
    if (disabled.length) {
      throw new ValidationError(
        `Cannot enable this feature flag because it depends on disabled flags: ${listFlags(disabled)}. Please enable the dependency flags first.`,
      );
    }
  }
}

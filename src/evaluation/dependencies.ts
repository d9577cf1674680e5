// Flag-to-flag and flag-to-cohort references in stored filters, and the dependency staging built from them.
import { isPlainObject, parseIntegerId } from './values.js';

/** The property filters of every condition set (`filters.groups[*].properties[*]`). */
export function* conditionProperties(filters: unknown): Generator<Record<string, unknown>> {
  if (!isPlainObject(filters) || !Array.isArray(filters.groups)) return;
  for (const group of filters.groups) {
    if (!isPlainObject(group) || !Array.isArray(group.properties)) continue;
    for (const prop of group.properties) {
      if (isPlainObject(prop)) yield prop;
    }
  }
}

/** Flag ids this flag's conditions depend on (stored `key` of `type: "flag"` properties). */
export function dependencyIds(filters: unknown): number[] {
  const ids = new Set<number>();
  for (const prop of conditionProperties(filters)) {
    if (prop.type !== 'flag') continue;
    const id = parseIntegerId(prop.key);
    if (id !== undefined) ids.add(id);
  }
  return [...ids];
}

/** Cohort ids referenced directly by the flag's conditions. */
export function cohortIds(filters: unknown): number[] {
  const ids = new Set<number>();
  for (const prop of conditionProperties(filters)) {
    if (prop.type !== 'cohort') continue;
    const id = parseIntegerId(prop.value);
    if (id !== undefined) ids.add(id);
  }
  return [...ids];
}

export function flagReferencesCohorts(filters: unknown): boolean {
  for (const prop of conditionProperties(filters)) {
    if (prop.type === 'cohort') return true;
  }
  return false;
}

export interface DependencyStaging {
  /** Flag ids in evaluation stages (Kahn's algorithm, ids sorted within a stage). */
  stages: number[][];
  /** Flags whose dependencies are missing, cyclic or transitively broken. */
  broken: Set<number>;
  /** Flags that are part of (or downstream of) a cycle and therefore in no stage. */
  cyclic: Set<number>;
}

/**
 * Stage flags so dependencies come first, as PostHog computes its evaluation metadata.
 * `deps` maps every known flag id to the ids it references; inactive flags should map to
 * no dependencies (they evaluate to false without looking at them).
 */
export function stageDependencies(deps: Map<number, number[]>): DependencyStaging {
  const broken = new Set<number>();
  const inDegree = new Map<number, number>();
  const dependents = new Map<number, number[]>();
  for (const id of deps.keys()) {
    inDegree.set(id, 0);
    dependents.set(id, []);
  }
  for (const [id, list] of deps) {
    for (const dep of list) {
      if (!deps.has(dep)) {
        broken.add(id);
        continue;
      }
      inDegree.set(id, (inDegree.get(id) ?? 0) + 1);
      dependents.get(dep)!.push(id);
    }
  }
  const stages: number[][] = [];
  let queue = [...inDegree]
    .filter(([, d]) => d === 0)
    .map(([id]) => id)
    .sort((a, b) => a - b);
  while (queue.length > 0) {
    for (const id of queue) {
      for (const dep of deps.get(id) ?? []) {
        if (deps.has(dep) && broken.has(dep)) broken.add(id);
      }
    }
    stages.push(queue);
    const next: number[] = [];
    for (const id of queue) {
      for (const dependent of dependents.get(id)!) {
        const d = inDegree.get(dependent)! - 1;
        inDegree.set(dependent, d);
        if (d === 0) next.push(dependent);
      }
    }
    queue = next.sort((a, b) => a - b);
  }
  const cyclic = new Set<number>();
  for (const [id, d] of inDegree) {
    if (d > 0) {
      cyclic.add(id);
      broken.add(id);
    }
  }
  return { stages, broken, cyclic };
}

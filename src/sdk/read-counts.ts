// The stored properties a project's active flags read (snapshot.reads), kept as counts of the flags
// reading each key, so that a rebuild after a change adds and removes the changed flags' reads
// instead of merging every flag's again (docs/architecture.md#snapshots-and-change-notifications).
import type { PropertyReads } from '../evaluation/index.ts';

export interface ReadCounts {
  person: Map<string, number>;
  groups: Map<number, Map<string, number>>;
  staticCohorts: number;
}

export const emptyReadCounts = (): ReadCounts => ({ person: new Map(), groups: new Map(), staticCohorts: 0 });

/** A copy the next build may change (the previous build's counts stay as they were). */
export function copyReadCounts(counts: ReadCounts): ReadCounts {
  return { person: new Map(counts.person), groups: new Map([...counts.groups].map(([i, keys]) => [i, new Map(keys)])), staticCohorts: counts.staticCohorts };
}

function bump(map: Map<string, number>, key: string, delta: 1 | -1): void {
  const n = (map.get(key) ?? 0) + delta;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}

/** Counts one flag's reads in (`delta` 1) or out (-1). */
export function countReads(counts: ReadCounts, reads: PropertyReads, delta: 1 | -1): void {
  for (const key of reads.person) bump(counts.person, key, delta);
  for (const [index, keys] of reads.groups) {
    let group = counts.groups.get(index);
    if (!group) counts.groups.set(index, (group = new Map()));
    for (const key of keys) bump(group, key, delta);
    if (group.size === 0) counts.groups.delete(index);
  }
  if (reads.staticCohorts) counts.staticCohorts += delta;
}

/** The union of the counted reads, as propertyReads() computes it. */
export function readsOf(counts: ReadCounts): PropertyReads {
  return {
    person: new Set(counts.person.keys()),
    groups: new Map([...counts.groups].map(([index, keys]) => [index, new Set(keys.keys())])),
    staticCohorts: counts.staticCohorts > 0,
  };
}

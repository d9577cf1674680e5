// Compiles a project again after a change, reusing the compiled flags that did not change
// (docs/architecture.md#snapshots-and-change-notifications). The result equals what
// compileProject() builds from the same input, except for the numbering of filter memo slots.
import type { CompiledCohort } from './cohorts.js';
import { compileCohortsAndGroupTypes, compileFlag, FilterTable, type CompiledFlag, type CompiledProject } from './compile.js';
import { resolveZone, type Zone } from './dates.js';
import { conditionProperties, dependencyIds, stageDependencies } from './dependencies.js';
import type { CohortDefinition, FlagDefinition, GroupTypeDefinition } from './types.js';
import { isPlainObject, parseIntegerId } from './values.js';

/** A flag definition and a stamp that changes whenever the definition does. */
export interface StampedFlag {
  def: FlagDefinition;
  stamp: number;
}

interface MemoFlag {
  stamp: number;
  flag: CompiledFlag;
  /** Flag ids its flag filters point at (their compiled `dependency` index follows those flags' positions). */
  refs: number[];
  /** Its dependencies as compileProject stages them (none when inactive). */
  deps: number[];
}

/**
 * What a compilation leaves for the next one. Its compiled flags are never modified once a
 * project holds them (a snapshot in service may still evaluate with them): a flag whose position
 * or dependencies change is copied, sharing its `outcomes` cache.
 */
export interface CompileMemo {
  readonly timezone: string | null;
  readonly zone: Zone;
  /** Shared by successive compilations: slots only ever get added, so older flags keep theirs. */
  readonly table: FilterTable;
  /** Filter slots after the last compilation from scratch; past twice that, start from scratch again. */
  readonly baseSlots: number;
  readonly flags: ReadonlyMap<number, MemoFlag>;
  readonly indexById: ReadonlyMap<number, number>;
  /** The compilation's result, whose order and key index a change of flags without dependencies keeps. */
  readonly project: CompiledProject;
}

export interface IncrementalCompileInput {
  /** Every flag of the project by id (deleted ones are skipped, as compileProject skips them). */
  flags: readonly StampedFlag[];
  cohorts: readonly CohortDefinition[];
  groupTypes: readonly GroupTypeDefinition[];
  timezone?: string | null;
}

/** Flag ids referenced by flag filters, in condition sets and early-access gates. */
function flagFilterRefs(filters: unknown): number[] {
  const refs: number[] = [];
  const visit = (prop: Record<string, unknown>) => {
    if (prop.type !== 'flag') return;
    const id = parseIntegerId(prop.key);
    if (id !== undefined) refs.push(id);
  };
  for (const prop of conditionProperties(filters)) visit(prop);
  if (isPlainObject(filters) && Array.isArray(filters.super_groups)) {
    for (const group of filters.super_groups) {
      if (!isPlainObject(group) || !Array.isArray(group.properties)) continue;
      for (const prop of group.properties) if (isPlainObject(prop)) visit(prop);
    }
  }
  return refs;
}

const sameNumbers = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((n, i) => n === b[i]);

/**
 * compileProject() as a generator that yields after each flag (the caller decides when to let the
 * event loop run), reusing `memo` from the previous compilation when the time zone is the same.
 */
export function* compileIncrementally(
  input: IncrementalCompileInput,
  memo: CompileMemo | undefined,
): Generator<void, { compiled: CompiledProject; memo: CompileMemo }> {
  const timezone = input.timezone ?? null;
  const previous = memo && memo.timezone === timezone && memo.table.size <= memo.baseSlots * 2 + 1024 ? memo : undefined;
  const zone = previous ? previous.zone : resolveZone(input.timezone);
  const table = previous ? previous.table : new FilterTable(zone);

  const defs = input.flags.filter((f) => !f.def.deleted);
  const same = previous ? sameFlagsAndOrder(defs, previous) : undefined;
  if (previous && same) {
    const flags = previous.project.flags.slice();
    const memoFlags = new Map(previous.flags);
    for (const { i, def, stamp } of same) {
      const flag = compileFlag(def, i, table, previous.indexById as Map<number, number>);
      memoFlags.set(def.id, { stamp, flag, refs: [], deps: [] });
      flags[i] = flag;
      yield;
    }
    const { evaluationOrder, flagIndexByKey } = previous.project;
    const compiled = { flags, flagIndexByKey, evaluationOrder, ...compileRest(input, zone), filterSlots: table.size };
    return { compiled, memo: { ...previous, flags: memoFlags, project: compiled } };
  }

  const indexById = new Map<number, number>();
  for (const [i, f] of defs.entries()) indexById.set(f.def.id, i);

  const flags: CompiledFlag[] = new Array(defs.length);
  const fresh: boolean[] = new Array(defs.length).fill(false);
  const memoFlags = new Map<number, MemoFlag>();
  const deps = new Map<number, number[]>();
  for (let i = 0; i < defs.length; i++) {
    const { def, stamp } = defs[i];
    const old = previous?.flags.get(def.id);
    let entry: MemoFlag;
    if (old && old.stamp === stamp) {
      // A flag filter points at a flag by position: when such a flag moved, compile again.
      const moved = old.refs.some((id) => previous!.indexById.get(id) !== indexById.get(id));
      if (moved) {
        const flag = compileFlag(def, i, table, indexById);
        flag.outcomes = old.flag.outcomes;
        fresh[i] = true;
        entry = { ...old, flag };
      } else {
        entry = old;
      }
    } else {
      fresh[i] = true;
      entry = { stamp, flag: compileFlag(def, i, table, indexById), refs: flagFilterRefs(def.filters), deps: def.active ? dependencyIds(def.filters) : [] };
    }
    flags[i] = entry.flag;
    memoFlags.set(def.id, entry);
    deps.set(def.id, entry.deps);
    yield;
  }

  const flagIndexByKey = new Map<string, number>();
  for (const [i, f] of flags.entries()) if (!flagIndexByKey.has(f.key)) flagIndexByKey.set(f.key, i);
  yield;

  // Inactive flags evaluate to false without looking at their own dependencies.
  const staging = stageDependencies(deps);
  const evaluationOrder: number[] = [];
  for (const stage of staging.stages) for (const id of stage) evaluationOrder.push(indexById.get(id)!);
  for (const id of staging.cyclic) evaluationOrder.push(indexById.get(id)!);
  yield;
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i];
    const brokenDependencies = staging.broken.has(flag.id);
    const dependencies = (deps.get(flag.id) ?? []).filter((id) => indexById.has(id)).map((id) => indexById.get(id)!);
    if (fresh[i]) {
      flag.brokenDependencies = brokenDependencies;
      flag.dependencies = dependencies;
    } else if (flag.index !== i || flag.brokenDependencies !== brokenDependencies || !sameNumbers(flag.dependencies, dependencies)) {
      const copy = { ...flag, index: i, brokenDependencies, dependencies };
      flags[i] = copy;
      memoFlags.set(flag.id, { ...memoFlags.get(flag.id)!, flag: copy });
    }
    if (i % 256 === 255) yield;
  }

  const compiled = { flags, flagIndexByKey, evaluationOrder, ...compileRest(input, zone), filterSlots: table.size };
  return { compiled, memo: { timezone, zone, table, baseSlots: previous ? previous.baseSlots : table.size, flags: memoFlags, indexById, project: compiled } };
}

/**
 * The flags that changed, when the live flags are the same ones in the same positions and none of
 * the changed ones has or had a dependency or a flag filter: then positions, the key index and the
 * dependency staging are those of the previous compilation, and a changed flag has no broken
 * dependencies (it has none). Undefined otherwise.
 */
function sameFlagsAndOrder(defs: readonly StampedFlag[], previous: CompileMemo): Array<{ i: number; def: FlagDefinition; stamp: number }> | undefined {
  const before = previous.project.flags;
  if (defs.length !== before.length) return undefined;
  const changed: Array<{ i: number; def: FlagDefinition; stamp: number }> = [];
  for (let i = 0; i < defs.length; i++) {
    const { def, stamp } = defs[i];
    if (before[i].id !== def.id) return undefined;
    const old = previous.flags.get(def.id)!;
    if (old.stamp === stamp) continue;
    if (old.deps.length > 0 || old.refs.length > 0 || old.flag.key !== def.key) return undefined;
    if ((def.active && dependencyIds(def.filters).length > 0) || flagFilterRefs(def.filters).length > 0) return undefined;
    changed.push({ i, def, stamp });
  }
  return changed;
}

/** Cohorts and group types: small, compiled again every time. */
function compileRest(input: IncrementalCompileInput, zone: Zone): { cohorts: Map<number, CompiledCohort>; groupTypeNames: (string | undefined)[]; zone: Zone } {
  return { ...compileCohortsAndGroupTypes(input, zone), zone };
}

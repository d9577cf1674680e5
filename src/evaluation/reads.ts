// Which stored properties a project's flags can read. /flags merges the request's properties over
// the stored ones (docs/compatibility.md#sdk-3.1), so when a request already carries every key
// its active flags read, the stored person cannot change the answer and need not be fetched.
import type { CompiledProject } from './compile.js';
import type { CohortDefinition, EvaluationRequest, FlagDefinition } from './types.js';
import { hasOwn, isPlainObject, parseIntegerId } from './values.js';

export interface PropertyReads {
  /** Person property keys read by active flags (conditions, early-access gates, dynamic cohorts). */
  person: Set<string>;
  /** Group type index → group property keys read by active flags. */
  groups: Map<number, Set<string>>;
  /** Whether a static cohort is reached (its membership is stored, never in the request). */
  staticCohorts: boolean;
}

const newReads = (): PropertyReads => ({ person: new Set(), groups: new Map(), staticCohorts: false });

function addGroupKey(reads: PropertyReads, index: number, key: string): void {
  let keys = reads.groups.get(index);
  if (!keys) reads.groups.set(index, (keys = new Set()));
  keys.add(key);
}

/** Person keys of a cohort's property tree, following references to other cohorts once each. */
function cohortReads(id: number, cohorts: Map<number, CohortDefinition>, reads: PropertyReads, seen: Set<number>): void {
  if (seen.has(id)) return;
  seen.add(id);
  const cohort = cohorts.get(id);
  if (!cohort) return;
  if (cohort.isStatic) {
    reads.staticCohorts = true;
    return;
  }
  const stack: unknown[] = [cohort.filters];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      stack.push(...node);
    } else if (isPlainObject(node)) {
      if (node.type === 'cohort') {
        const ref = parseIntegerId(node.value);
        if (ref !== undefined) cohortReads(ref, cohorts, reads, seen);
      } else if (typeof node.key === 'string' && (node.type === 'person' || node.type === undefined)) {
        reads.person.add(node.key);
      }
      if (node.properties !== undefined) stack.push(node.properties);
      if (node.values !== undefined) stack.push(node.values);
    }
  }
}

/** Adds what one flag reads (its conditions, early-access gate and the cohorts they reach) to `reads`. */
function addFlagReads(flag: FlagDefinition, cohorts: Map<number, CohortDefinition>, reads: PropertyReads, seenCohorts: Set<number>): void {
  const filters = isPlainObject(flag.filters) ? flag.filters : {};
  const flagAggregation = parseIntegerId(filters.aggregation_group_type_index) ?? null;
  if (filters.feature_enrollment === true) reads.person.add(`$feature_enrollment/${flag.key}`);
  const conditions: Array<{ group: Record<string, unknown>; person: boolean }> = [];
  for (const g of Array.isArray(filters.groups) ? filters.groups : []) if (isPlainObject(g)) conditions.push({ group: g, person: false });
  // Early-access gates read person properties whatever the flag aggregates on.
  for (const g of Array.isArray(filters.super_groups) ? filters.super_groups : []) if (isPlainObject(g)) conditions.push({ group: g, person: true });
  for (const { group, person } of conditions) {
    const aggregation = person
      ? null
      : 'aggregation_group_type_index' in group
        ? (parseIntegerId(group.aggregation_group_type_index) ?? null)
        : flagAggregation;
    for (const prop of Array.isArray(group.properties) ? group.properties : []) {
      if (!isPlainObject(prop)) continue;
      const key = typeof prop.key === 'string' ? prop.key : undefined;
      if (prop.type === 'cohort') {
        const id = parseIntegerId(prop.value);
        if (id !== undefined) cohortReads(id, cohorts, reads, seenCohorts);
      } else if (key === undefined || prop.type === 'flag') {
        // A flag condition reads no property; a property without a key reads nothing.
      } else if (prop.type === 'person' || person) {
        reads.person.add(key);
      } else if (prop.type === 'group') {
        const index = parseIntegerId(prop.group_type_index);
        if (index !== undefined) addGroupKey(reads, index, key);
      } else if (prop.type === undefined || prop.type === null) {
        if (aggregation === null) reads.person.add(key);
        else addGroupKey(reads, aggregation, key);
      }
    }
  }
}

/** What the active flags of a project read, together. */
export function propertyReads(flags: readonly FlagDefinition[], cohortList: readonly CohortDefinition[]): PropertyReads {
  const reads = newReads();
  const cohorts = new Map(cohortList.map((c) => [c.id, c]));
  const seenCohorts = new Set<number>();
  for (const flag of flags) if (flag.active && !flag.deleted) addFlagReads(flag, cohorts, reads, seenCohorts);
  return reads;
}

/** What each active flag reads, by flag key. */
export function propertyReadsByFlag(flags: readonly FlagDefinition[], cohortList: readonly CohortDefinition[]): Map<string, PropertyReads> {
  const cohorts = new Map(cohortList.map((c) => [c.id, c]));
  const out = new Map<string, PropertyReads>();
  for (const flag of flags) {
    if (!flag.active || flag.deleted) continue;
    const reads = newReads();
    addFlagReads(flag, cohorts, reads, new Set());
    out.set(flag.key, reads);
  }
  return out;
}

/**
 * Whether stored data could change what `reads` evaluates to for this request: a static cohort is
 * reached, or a person or group property is read that the request did not send (the request's
 * properties win over stored ones, so a key it carries needs no lookup). Groups the request does
 * not name are not evaluated, so their properties are not needed.
 */
export function readsStoredData(reads: PropertyReads, request: EvaluationRequest, groupTypeNames: readonly (string | undefined)[]): boolean {
  if (reads.staticCohorts) return true;
  const person = request.personProperties ?? {};
  for (const key of reads.person) if (!hasOwn(person, key)) return true;
  const groups = request.groups ?? {};
  for (const [index, keys] of reads.groups) {
    const name = groupTypeNames[index];
    if (name === undefined || !hasOwn(groups, name)) continue;
    const props = request.groupProperties?.[name] ?? {};
    for (const key of keys) if (!hasOwn(props, key)) return true;
  }
  return false;
}

/**
 * What each flag of a compiled project reads, by flag index, with equal reads shared: most flags
 * of a project read the same few properties, so a request naming 50 flags checks each distinct
 * set once (requestedReadsStoredData). Built once per snapshot.
 */
interface ReadsIndex {
  project: CompiledProject;
  continuityKeys: readonly string[];
  /** Flag index → a slot of `distinct`, NEEDS_STORED, or NOTHING. */
  slotOf: Int32Array;
  distinct: PropertyReads[];
}

const NOTHING = -1;
/** The flag needs stored data whatever the request carries (experience continuity). */
const NEEDS_STORED = -2;
const indexes = new WeakMap<ReadonlyMap<string, PropertyReads>, ReadsIndex>();

function signature(reads: PropertyReads): string {
  const groups = [...reads.groups].map(([index, keys]) => [index, [...keys].sort()]).sort((a, b) => Number(a[0]) - Number(b[0]));
  return JSON.stringify([reads.staticCohorts, [...reads.person].sort(), groups]);
}

function readsIndex(project: CompiledProject, byFlag: ReadonlyMap<string, PropertyReads>, continuityKeys: readonly string[]): ReadsIndex {
  let index = indexes.get(byFlag);
  if (index && index.project === project && index.continuityKeys === continuityKeys) return index;
  const continuity = new Set(continuityKeys);
  const slots = new Map<string, number>();
  const distinct: PropertyReads[] = [];
  const slotOf = new Int32Array(project.flags.length);
  project.flags.forEach((flag, i) => {
    const reads = byFlag.get(flag.key);
    if (continuity.has(flag.key)) slotOf[i] = NEEDS_STORED;
    else if (!reads) slotOf[i] = NOTHING;
    else {
      const sig = signature(reads);
      let slot = slots.get(sig);
      if (slot === undefined) {
        slots.set(sig, (slot = distinct.length));
        distinct.push(reads);
      }
      slotOf[i] = slot;
    }
  });
  index = { project, continuityKeys, slotOf, distinct };
  indexes.set(byFlag, index);
  return index;
}

/**
 * readsStoredData for the flags of `closure` (indexes into `project.flags`), whose reads
 * `byFlag` gives by key; flags named in `continuityKeys` always need stored data.
 */
export function requestedReadsStoredData(
  project: CompiledProject,
  byFlag: ReadonlyMap<string, PropertyReads>,
  continuityKeys: readonly string[],
  closure: readonly number[],
  request: EvaluationRequest,
): boolean {
  const index = readsIndex(project, byFlag, continuityKeys);
  const slots = closureSlots(index, closure);
  for (let s = 0; s < slots.length; s++) {
    const slot = slots[s];
    if (slot === NEEDS_STORED || readsStoredData(index.distinct[slot], request, project.groupTypeNames)) return true;
  }
  return false;
}

/** The distinct read slots of a closure (NEEDS_STORED first if any), kept while the closure is (closures are shared, closure.ts). */
const slotsOfClosure = new WeakMap<readonly number[], { index: ReadsIndex; slots: Int32Array }>();

function closureSlots(index: ReadsIndex, closure: readonly number[]): Int32Array {
  const known = slotsOfClosure.get(closure);
  if (known && known.index === index) return known.slots;
  const seen = new Set<number>();
  for (let c = 0; c < closure.length; c++) {
    const slot = index.slotOf[closure[c]];
    if (slot === NEEDS_STORED) {
      seen.clear();
      seen.add(NEEDS_STORED);
      break;
    }
    if (slot !== NOTHING) seen.add(slot);
  }
  const slots = Int32Array.from(seen);
  slotsOfClosure.set(closure, { index, slots });
  return slots;
}

/** What one flag reads, whatever its state (callers keep only active flags). */
export function flagPropertyReads(flag: FlagDefinition, cohorts: Map<number, CohortDefinition>): PropertyReads {
  const reads = newReads();
  addFlagReads(flag, cohorts, reads, new Set());
  return reads;
}

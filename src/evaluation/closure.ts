// The flags a request names plus everything they depend on (flag_keys_to_evaluate), so that
// evaluation and the stored-data check look at those alone: the work follows the number of flags
// asked for, not the project's size (docs/architecture.md#flags-the-hot-path).
import type { CompiledProject } from './compile.js';
import type { FlagEvaluation } from './types.js';

/** Per compiled project: each flag's place in the evaluation order, marks reused by every call, closures asked before. */
interface ClosureTables {
  position: Int32Array;
  /** All zero between calls. */
  marks: Uint8Array;
  /**
   * Closures by a hash of their key list (listHash): SDKs ask for the same lists again and again,
   * and comparing a list is cheaper than looking up each key. A hit counts only when the stored
   * keys equal the asked ones one by one. Emptied when full; lists longer than MAX_REMEMBERED_KEYS are not kept.
   */
  lists: Map<number, { keys: readonly string[]; closure: readonly number[] }>;
  /** Flag values for requests naming their flags (borrowValues); undefined at every index between requests. */
  values: unknown[];
  valuesLent: boolean;
}

/** Key lists remembered per project, and the longest list remembered (memory stays bounded). */
export const MAX_REMEMBERED_LISTS = 128;
export const MAX_REMEMBERED_KEYS = 1000;

const tables = new WeakMap<CompiledProject, ClosureTables>();

function tablesOf(project: CompiledProject): ClosureTables {
  let t = tables.get(project);
  if (!t) {
    const position = new Int32Array(project.flags.length);
    const order = project.evaluationOrder;
    for (let o = 0; o < order.length; o++) position[order[o]] = o;
    t = { position, marks: new Uint8Array(project.flags.length), lists: new Map(), values: new Array(project.flags.length), valuesLent: false };
    tables.set(project, t);
  }
  return t;
}

/**
 * Requested flags plus everything they depend on, transitively: their indexes, in evaluation
 * order (dependencies first). Unknown keys are ignored. The result is shared: do not modify it.
 */
export function requestedClosure(project: CompiledProject, keys: readonly string[]): readonly number[] {
  const t = tablesOf(project);
  const id = listHash(keys);
  const known = t.lists.get(id);
  let closure: readonly number[];
  if (known && sameKeys(known.keys, keys)) closure = known.closure;
  else {
    closure = Object.freeze(computeClosure(project, t, keys));
    if (keys.length <= MAX_REMEMBERED_KEYS) {
      if (t.lists.size >= MAX_REMEMBERED_LISTS) t.lists.clear();
      t.lists.set(id, { keys: keys.slice(), closure });
    }
  }
  return closure;
}

/** A cheap hash of a key list (lengths and last characters); equal lists hash equally, and a hit is checked. */
function listHash(keys: readonly string[]): number {
  let h = keys.length;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    h = (Math.imul(h, 31) + k.length) | 0;
    if (k.length > 0) h = (Math.imul(h, 31) + k.charCodeAt(k.length - 1)) | 0;
  }
  return h;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function computeClosure(project: CompiledProject, t: ClosureTables, keys: readonly string[]): number[] {
  const { position, marks } = t;
  const flags = project.flags;
  const byKey = project.flagIndexByKey;
  // Positions in the evaluation order of the flags found, unsorted.
  const found: number[] = [];
  try {
    for (let k = 0; k < keys.length; k++) {
      const index = byKey.get(keys[k]);
      if (index === undefined || marks[index]) continue;
      marks[index] = 1;
      found.push(position[index]);
    }
    // Dependencies of what was found, and theirs (the list grows while it is walked).
    const order = project.evaluationOrder;
    for (let f = 0; f < found.length; f++) {
      const deps = flags[order[found[f]]].dependencies;
      for (let d = 0; d < deps.length; d++) {
        const dep = deps[d];
        if (marks[dep]) continue;
        marks[dep] = 1;
        found.push(position[dep]);
      }
    }
    let sorted = true;
    for (let f = 1; f < found.length && sorted; f++) sorted = found[f - 1] < found[f];
    const positions = sorted ? found : Int32Array.from(found).sort();
    const closure: number[] = new Array(positions.length);
    for (let f = 0; f < positions.length; f++) closure[f] = order[positions[f]];
    return closure;
  } finally {
    // Leave the marks all zero for the next call, whatever happened.
    for (let f = 0; f < found.length; f++) marks[project.evaluationOrder[found[f]]] = 0;
  }
}

/** `results` sorted by their flags' indexes `at`; usually already in order (no dependencies). */
export function inFlagOrder(results: FlagEvaluation[], at: number[]): FlagEvaluation[] {
  let sorted = true;
  for (let r = 1; r < at.length && sorted; r++) sorted = at[r - 1] < at[r];
  if (sorted) return results;
  // Flag index and result position in one number, sorted without a comparator.
  const n = results.length;
  const keys = new Float64Array(n);
  for (let r = 0; r < n; r++) keys[r] = at[r] * n + r;
  keys.sort();
  const out: FlagEvaluation[] = new Array(n);
  for (let r = 0; r < n; r++) out[r] = results[keys[r] % n];
  return out;
}

/**
 * The flag values of a request naming its flags (dependencies read them by flag index): one
 * array per project, reused, so that such a request allocates nothing in proportion to the
 * project. Values are written only at the closure's indexes, and returnValues clears those.
 */
export function borrowValues<T>(project: CompiledProject): T[] {
  const t = tablesOf(project);
  // Lent out until returned: a nested call gets an array of its own.
  if (t.valuesLent) return new Array(project.flags.length);
  t.valuesLent = true;
  return t.values as T[];
}

export function returnValues(project: CompiledProject, values: unknown[], closure: readonly number[]): void {
  const t = tablesOf(project);
  if (values !== t.values) return;
  for (let c = 0; c < closure.length; c++) values[closure[c]] = undefined;
  t.valuesLent = false;
}

// The flags a request names plus everything they depend on (flag_keys_to_evaluate), so that
// evaluation and the stored-data check look at those alone.
import type { CompiledProject } from './compile.js';

/**
 * Requested flags plus everything they depend on, transitively: their indexes, in evaluation
 * order (dependencies first).
 */
export function requestedClosure(project: CompiledProject, keys: readonly string[]): number[] {
  const needed = new Uint8Array(project.flags.length);
  const list: number[] = [];
  const stack: number[] = [];
  for (const key of keys) {
    const index = project.flagIndexByKey.get(key);
    if (index !== undefined && !needed[index]) {
      needed[index] = 1;
      stack.push(index);
    }
  }
  while (stack.length > 0) {
    const index = stack.pop()!;
    list.push(index);
    for (const dep of project.flags[index].dependencies) {
      if (!needed[dep]) {
        needed[dep] = 1;
        stack.push(dep);
      }
    }
  }
  const position = orderPositions(project);
  return list.sort((a, b) => position[a] - position[b]);
}

const positions = new WeakMap<CompiledProject, Int32Array>();

/** Each flag's place in the project's evaluation order. */
function orderPositions(project: CompiledProject): Int32Array {
  let position = positions.get(project);
  if (!position) {
    position = new Int32Array(project.flags.length);
    project.evaluationOrder.forEach((flagIndex, o) => {
      position![flagIndex] = o;
    });
    positions.set(project, position);
  }
  return position;
}

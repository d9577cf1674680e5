// Limits on parsed JSON shared by the body parser and flag validation.

export const MAX_JSON_DEPTH = 64;

/** Nesting deeper than `limit` (checked without recursion, before anything walks the value recursively). */
export function jsonTooDeep(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

// Limits on parsed JSON shared by the body parser and flag validation: nesting and size.

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

/**
 * Whether `value` serializes to more than `limit` bytes of JSON. The walk stops as soon as the
 * characters seen exceed the limit (a JSON text has at least as many bytes as characters), so a
 * huge value costs no more than a value of the limit's size; near the limit it is measured exactly.
 */
export function jsonLargerThan(value: unknown, limit: number): boolean {
  let chars = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const node = stack.pop();
    if (typeof node === 'string') chars += node.length + 2;
    else if (node === null || typeof node !== 'object') chars += 5;
    else if (Array.isArray(node)) {
      chars += 1 + node.length;
      for (let i = node.length - 1; i >= 0; i--) stack.push(node[i]);
    } else {
      const keys = Object.keys(node);
      chars += 1 + keys.length;
      for (const key of keys) {
        chars += key.length + 3;
        stack.push((node as Record<string, unknown>)[key]);
      }
    }
    if (chars > limit) return true;
  }
  return Buffer.byteLength(JSON.stringify(value) ?? '') > limit;
}

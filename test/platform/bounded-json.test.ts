// The nesting check before JSON.parse: counting opening brackets may only skip the scan when the
// count alone proves the limit cannot be passed.
import { describe, expect, it } from 'vitest';
import { JsonTooDeepError, nestsDeeperThan, parseJsonBytesSync } from '../../src/platform/bounded-json.ts';

const bytes = (text: string) => Buffer.from(text);

describe('nestsDeeperThan', () => {
  it('measures the nesting, not the number of brackets', () => {
    expect(nestsDeeperThan(bytes('[[[]]]'), 3)).toBe(false);
    expect(nestsDeeperThan(bytes('[[[[]]]]'), 3)).toBe(true);
    expect(nestsDeeperThan(bytes('{"a":[{"b":[]}]}'), 3)).toBe(true);
    expect(nestsDeeperThan(bytes('{"a":[{"b":[]}]}'), 4)).toBe(false);
    // Many brackets side by side, more than the limit: no deeper than 2.
    expect(nestsDeeperThan(bytes(`[${'[],'.repeat(50)}[]]`), 3)).toBe(false);
  });

  it('skips brackets inside strings, whether or not they outnumber the limit', () => {
    expect(nestsDeeperThan(bytes(`{"k":"${'['.repeat(10)}"}`), 2)).toBe(false);
    expect(nestsDeeperThan(bytes(`{"k":"${'{'.repeat(10)}\\""}`), 1)).toBe(false);
    expect(nestsDeeperThan(bytes(`{"k":"${'['.repeat(10)}","x":[[[]]]}`), 3)).toBe(true);
  });

  it('reads any Uint8Array, not only Buffers', () => {
    const inner = new Uint8Array(Buffer.from('xx[[[]]]yy')).subarray(2, 8);
    expect(nestsDeeperThan(inner, 2)).toBe(true);
    expect(nestsDeeperThan(inner, 3)).toBe(false);
  });

  it('refuses deep texts before parsing them', () => {
    expect(() => parseJsonBytesSync(bytes('[[[1]]]'), { maxDepth: 2 })).toThrow(JsonTooDeepError);
    expect(parseJsonBytesSync(bytes('{"a":["[[[["]}'), { maxDepth: 2 })).toEqual({ a: ['[[[['] });
  });
});

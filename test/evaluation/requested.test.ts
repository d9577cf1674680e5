// flag_keys_to_evaluate against the full evaluation: the closure's tables, the reused values of
// dependencies and the answer's order must give exactly the results of evaluating every flag.
import { describe, expect, it } from 'vitest';
import { evaluateFlags, requestedClosure, type FlagDefinition } from '../../src/evaluation/index.js';
import { inFlagOrder, MAX_REMEMBERED_KEYS, MAX_REMEMBERED_LISTS } from '../../src/evaluation/closure.js';
import { flag, person, project, rollout } from './fixtures.js';

const dep = (id: number, value: boolean | string = true) => ({ key: String(id), type: 'flag', operator: 'flag_evaluates_to', value });

// Dependents come before their dependencies in the project's order, so the evaluation order is
// not the answer's order. Values depend on the person, so a value left over from an earlier
// request would change a later answer.
const flags: FlagDefinition[] = [
  flag('top', { groups: [{ properties: [dep(2)] }] }, { id: 1 }),
  flag('mid', { groups: [{ properties: [dep(3, 'b')] }] }, { id: 2 }),
  flag(
    'variants',
    {
      groups: [rollout(100)],
      multivariate: {
        variants: [
          { key: 'a', rollout_percentage: 50 },
          { key: 'b', rollout_percentage: 50 },
        ],
      },
    },
    { id: 3 },
  ),
  flag('pro', { groups: [{ properties: [person('plan', 'pro')] }] }, { id: 4 }),
  flag('not-pro', { groups: [{ properties: [dep(4, false)] }] }, { id: 5 }),
  flag('both', { groups: [{ properties: [dep(5), dep(1)] }] }, { id: 6 }),
  flag('plain', { groups: [rollout(40)] }, { id: 7 }),
  flag('off', { groups: [rollout(100)] }, { id: 8, active: false }),
  flag('on-off', { groups: [{ properties: [dep(8, false)] }] }, { id: 9 }),
];
const keys = flags.map((f) => f.key);

describe('requested flags against the full evaluation', () => {
  it('answers each requested flag and its dependencies with the full evaluation’s results, in project order', () => {
    const compiled = project(flags);
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let n = 0; n < 400; n++) {
      const request = { distinctId: `user-${n}`, personProperties: { plan: rnd() < 0.5 ? 'pro' : 'free' } };
      const full = evaluateFlags(compiled, request);
      const asked = keys.filter(() => rnd() < 0.3);
      if (rnd() < 0.2) asked.push('unknown-key');
      if (rnd() < 0.2) asked.reverse();
      const closure = new Set(requestedClosure(compiled, asked).map((i) => compiled.flags[i].key));
      const expected = full.filter((r) => closure.has(r.key));
      const got = evaluateFlags(compiled, { ...request, flagKeys: asked });
      // Results are shared objects: the same outcome is the same object.
      expect(got.length).toBe(expected.length);
      for (let i = 0; i < got.length; i++) expect(got[i]).toBe(expected[i]);
    }
  });

  it('includes dependencies transitively and lists them in evaluation order', () => {
    const compiled = project(flags);
    const names = (asked: string[]) => requestedClosure(compiled, asked).map((i) => compiled.flags[i].key);
    expect(names(['both'])).toEqual(['variants', 'pro', 'mid', 'not-pro', 'top', 'both']);
    expect(names(['top', 'top'])).toEqual(['variants', 'mid', 'top']);
    expect(names(['on-off'])).toEqual(['off', 'on-off']);
    expect(names([])).toEqual([]);
    // The same array asked of another project is that project's closure.
    const asked = ['mid'];
    expect(names(asked)).toEqual(['variants', 'mid']);
    const other = project([flag('mid', { groups: [rollout(100)] }, { id: 20 })]);
    expect(requestedClosure(other, asked)).toEqual([0]);
  });

  it('sorts results by flag index when evaluation order differs', () => {
    const r = (key: string) => ({ key }) as never;
    expect(inFlagOrder([r('c'), r('a'), r('b')], [7, 2, 5]).map((x: { key: string }) => x.key)).toEqual(['a', 'b', 'c']);
    expect(inFlagOrder([r('a'), r('b')], [1, 3]).map((x: { key: string }) => x.key)).toEqual(['a', 'b']);
    expect(inFlagOrder([], [])).toEqual([]);
  });

  it('remembers closures by their key lists, never answering one list with another’s closure', () => {
    // Keys of one length ending alike hash alike (the cache's hash reads lengths and last characters).
    const many = Array.from({ length: 40 }, (_, i) =>
      flag(`k${String.fromCharCode(97 + (i % 26))}${Math.floor(i / 26)}x`, { groups: [rollout(100)] }, { id: 100 + i }),
    );
    const compiled = project(many);
    const names = (asked: string[]) => requestedClosure(compiled, asked).map((i) => compiled.flags[i].key);
    const a = ['ka0x', 'kb0x'];
    const b = ['kc0x', 'kd0x'];
    expect(names(a)).toEqual(['ka0x', 'kb0x']);
    expect(names(b)).toEqual(['kc0x', 'kd0x']);
    expect(names(['ka0x', 'kb0x'])).toEqual(['ka0x', 'kb0x']);
    // The same list in a new array is the same closure.
    const first = requestedClosure(compiled, ['ke0x']);
    expect(requestedClosure(compiled, ['ke0x'])).toBe(first);
    expect(names(['kf0x'])).toEqual(['kf0x']);
    // More lists than are remembered: still each its own closure.
    for (let n = 0; n < MAX_REMEMBERED_LISTS + 20; n++) {
      const list = [many[n % 40].key, many[(n * 7 + 3) % 40].key];
      const expected = many.filter((f) => list.includes(f.key)).map((f) => f.key);
      expect(names(list)).toEqual(expected);
    }
    expect(names(['ka0x', 'kb0x'])).toEqual(['ka0x', 'kb0x']);
    // A list longer than is remembered is answered, not kept.
    const long = Array.from({ length: MAX_REMEMBERED_KEYS + 1 }, (_, i) => (i === 0 ? 'kh0x' : `unknown-${i}`));
    expect(names(long)).toEqual(['kh0x']);
    expect(requestedClosure(compiled, [...long])).not.toBe(requestedClosure(compiled, [...long]));
  });
});

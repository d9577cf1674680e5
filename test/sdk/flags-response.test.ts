// The v2 answer assembled from per-result bytes: a shared result's bytes are kept in its memo,
// which neither changes how results compare or copy nor what a copy of a result renders to.
import { describe, expect, it } from 'vitest';
import { evaluateFlags, RESULT_MEMO, type FlagEvaluation } from '../../src/evaluation/index.ts';
import { renderFlagsResponse } from '../../src/sdk/flags-response.ts';
import { flag, project, rollout } from '../evaluation/fixtures.ts';

const shape = { version: 2, withConfig: false };
const render = (results: FlagEvaluation[]) => JSON.parse(String(renderFlagsResponse('flags', shape, results, undefined, 'id')));

describe('v2 answers from per-result bytes', () => {
  const compiled = project([
    flag('on', { groups: [rollout(100)], payloads: { true: '{"a":1}' } }),
    flag('split', {
      groups: [rollout(100)],
      multivariate: {
        variants: [
          { key: 'x', rollout_percentage: 50 },
          { key: 'y', rollout_percentage: 50 },
        ],
      },
    }),
    flag('off', { groups: [rollout(0)] }),
  ]);

  it('keeps results comparing and copying as plain objects', () => {
    const [on] = evaluateFlags(compiled, { distinctId: 'u' });
    expect(Object.keys(on)).toEqual(['key', 'id', 'version', 'enabled', 'variant', 'payload', 'reason']);
    expect({ ...on }).toEqual(on);
    expect(on).toStrictEqual({ ...on });
    expect(JSON.parse(JSON.stringify(on))).toMatchObject({ key: 'on', enabled: true });
    expect(Object.isFrozen(on)).toBe(true);
  });

  it('renders each result from its memo, the same bytes as a copy of it renders to', () => {
    for (const id of ['u1', 'u2', 'u3', 'u1']) {
      const results = evaluateFlags(compiled, { distinctId: id });
      const answer = render(results);
      const copies = render(results.map((r) => ({ ...r })));
      expect(answer.flags).toEqual(copies.flags);
      expect(Object.keys(answer.flags)).toEqual(['on', 'split', 'off']);
      expect(answer.flags.split.variant).toBe(results[1].variant);
      expect(answer.flags.on.metadata.payload).toBe('{"a":1}');
      // The memo holds the bytes once the result was rendered.
      const memo = (results[0] as unknown as Record<symbol, { bytes?: Uint8Array }>)[RESULT_MEMO];
      expect(Buffer.from(memo.bytes!).toString()).toBe(`"on":${JSON.stringify(answer.flags.on)}`);
    }
  });
});

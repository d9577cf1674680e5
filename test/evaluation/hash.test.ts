// Hash vectors and consistency arrays (docs/compatibility.md#sdk-3.3, #sdk-4). The vectors live
// beside this file in test/evaluation/vectors/: simple_flag_45.json is PostHog's own consistency
// array (its "source" field says where it comes from), hash_samples_derived.json was computed with
// the hashing algorithm of docs/compatibility.md#sdk-3.3 to check the intermediate steps.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateFlags, flagHash, hash, holdoutHash } from '../../src/evaluation/index.js';
import { nativeFirst60Bits, sha1First60Bits } from '../../src/evaluation/sha1.js';
import { flag, project, rollout } from './fixtures.js';

const vectors = (name: string) => JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8'));

interface Sample {
  flag_key?: string;
  bucketing_value: string;
  salt?: string;
  holdout?: boolean;
  hashed_string: string;
  value: number;
}

describe('hash', () => {
  const samples: Sample[] = vectors('hash_samples_derived.json').samples;

  it.each(samples.map((s) => [s.hashed_string, s]))('reproduces %s', (_name, s) => {
    const value = s.holdout ? holdoutHash(s.bucketing_value) : flagHash(s.flag_key!, s.bucketing_value, s.salt ?? '');
    expect(value).toBe(s.value);
  });

  it('hashes prefix + id + salt', () => {
    expect(hash('simple-flag.', 'distinct_id_0', '')).toBe(0.7836963764220432);
  });

  it('answers 0.0 for an empty bucketing value (server quirk), but still hashes an empty holdout id', () => {
    expect(flagHash('simple-flag', '')).toBe(0);
    expect(flagHash('simple-flag', '', 'variant')).toBe(0);
    expect(holdoutHash('')).toBe(hash('holdout-', ''));
    expect(holdoutHash('')).toBeGreaterThan(0);
  });
});

describe('consistency with PostHog', () => {
  it('matches the 1000 simple-flag results (45 % rollout)', () => {
    const data = vectors('simple_flag_45.json');
    const p = project([flag(data.flag.key, data.flag.filters, { id: data.flag.id })]);
    const got = data.results.map((_: boolean, i: number) => evaluateFlags(p, { distinctId: `distinct_id_${i}` })[0].enabled);
    expect(got).toEqual(data.results);
    expect(got.filter(Boolean)).toHaveLength(data.true_count);
  });

  it('matches the multivariate spot values of SDK 4', () => {
    const p = project([
      flag('multivariate-flag', {
        groups: [rollout(55)],
        multivariate: {
          variants: [
            { key: 'first-variant', rollout_percentage: 50 },
            { key: 'second-variant', rollout_percentage: 20 },
            { key: 'third-variant', rollout_percentage: 20 },
            { key: 'fourth-variant', rollout_percentage: 5 },
            { key: 'fifth-variant', rollout_percentage: 5 },
          ],
        },
      }),
    ]);
    expect(flagHash('multivariate-flag', 'distinct_id_2')).toBeCloseTo(0.3566, 4);
    expect(flagHash('multivariate-flag', 'distinct_id_2', 'variant')).toBeCloseTo(0.0639, 4);
    const [r] = evaluateFlags(p, { distinctId: 'distinct_id_2' });
    expect(r).toMatchObject({ enabled: true, variant: 'first-variant', reason: { code: 'condition_match', conditionIndex: 0 } });
    // distinct_id_0: rollout 0.502, variant hash 0.619 → the 50–70 % band
    expect(evaluateFlags(p, { distinctId: 'distinct_id_0' })[0].variant).toBe('second-variant');
    // distinct_id_3: rollout hash 0.701 > 0.55
    expect(flagHash('multivariate-flag', 'distinct_id_3')).toBeGreaterThan(0.55);
    expect(evaluateFlags(p, { distinctId: 'distinct_id_3' })[0]).toMatchObject({
      enabled: false,
      variant: null,
      reason: { code: 'out_of_rollout_bound', conditionIndex: 0, description: 'Out of rollout bound' },
    });
  });

  it('puts an empty distinct id inside any rollout, even 0 %', () => {
    const p = project([flag('f', { groups: [rollout(0)] })]);
    expect(evaluateFlags(p, { distinctId: '' })[0].enabled).toBe(true);
    expect(evaluateFlags(p, { distinctId: 'someone' })[0].enabled).toBe(false);
  });
});

describe('JavaScript SHA-1 (sha1First60Bits)', () => {
  it('agrees with node:crypto at every length around the block boundaries, split anywhere', () => {
    for (let len = 0; len <= 200; len++) {
      const text = Array.from({ length: len }, (_, i) => String.fromCharCode(32 + ((i * 7 + len) % 95))).join('');
      const cut1 = Math.floor(len / 3);
      const cut2 = Math.floor((2 * len) / 3);
      const expected = nativeFirst60Bits(text);
      expect(sha1First60Bits(text, '', '')).toBe(expected);
      expect(sha1First60Bits(text.slice(0, cut1), text.slice(cut1, cut2), text.slice(cut2))).toBe(expected);
      expect(sha1First60Bits('', text.slice(0, cut2), '', text.slice(cut2))).toBe(expected);
    }
  });

  it('agrees with node:crypto on non-ASCII input (UTF-8 bytes are hashed)', () => {
    for (const id of ['é', 'user-ü-1', '日本語のユーザー', '😀 emoji', '\u0080', 'a'.repeat(60) + 'ß', '\u{10ffff}']) {
      expect(sha1First60Bits('flag.', id, 'variant')).toBe(nativeFirst60Bits(`flag.${id}variant`));
    }
  });

  it('matches a published SHA-1 digest', () => {
    // SHA-1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d: its first 15 hex digits.
    expect(sha1First60Bits('a', 'b', 'c')).toBe(parseInt('a9993e364706816', 16));
  });

  it('hashes many random ids like node:crypto', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 2000; i++) {
      const id = Array.from({ length: Math.floor(rnd() * 90) }, () => String.fromCharCode(Math.floor(rnd() * 128))).join('');
      expect(sha1First60Bits('some-flag-key', '.', id, i % 2 ? 'variant' : '')).toBe(nativeFirst60Bits(`some-flag-key.${id}${i % 2 ? 'variant' : ''}`));
    }
  });

  it('reuses the message of the previous hash only where that gives the same bytes', () => {
    // Keys of one length with the same id (only the key is rewritten), then a change of id, of
    // salt, of key length, a non-ASCII key of the same length, and ids across the block boundary.
    const keys = ['flag-001', 'flag-002', 'flag-ä03', 'flag-004', 'flag-0005', 'flag-006', 'FLAG-007'];
    const ids = ['user-1', 'user-2', 'user-2', 'x'.repeat(40), 'x'.repeat(41), 'y'.repeat(110), 'user-ü', ''];
    for (const id of ids) {
      for (const salt of ['', 'variant', '', '']) {
        for (const key of keys) {
          expect(sha1First60Bits(key, '.', id, salt)).toBe(nativeFirst60Bits(`${key}.${id}${salt}`));
        }
      }
    }
    // The same content in a different string object is the same message.
    const built = ['user', '-', '1'].join('');
    expect(sha1First60Bits('flag-001', '.', 'user-1')).toBe(nativeFirst60Bits('flag-001.user-1'));
    expect(sha1First60Bits('flag-002', '.', built)).toBe(nativeFirst60Bits('flag-002.user-1'));
  });
});

// Property operators with the server's semantics, one block per row of the table in
// docs/compatibility.md#sdk-3.9 (missing-key column included).
import { describe, expect, it } from 'vitest';
import { parseDateText, resolveRelativeDate, resolveZone } from '../../src/evaluation/dates.js';
import { compilePropertyMatcher } from '../../src/evaluation/operators.js';
import { cpuMsSince } from '../helpers/cpu-time.ts';

const NOW = Date.parse('2024-03-31T12:00:00Z');

function matches(filter: Record<string, unknown>, props: Record<string, unknown>, timezone = 'UTC', now = NOW): boolean {
  return compilePropertyMatcher(filter, resolveZone(timezone))(props, { nowMs: () => now });
}

const f = (operator: string | undefined, value: unknown, key = 'k') => ({ key, value, operator, type: 'person' });
const has = (value: unknown) => ({ k: value });
const MISSING = { other: 'x' };

describe('exact (default operator)', () => {
  it('compares lower-cased stringified values', () => {
    expect(matches(f(undefined, 'Value'), has('value'))).toBe(true);
    expect(matches(f('exact', 'value'), has('VALUE'))).toBe(true);
    expect(matches(f('exact', 'value'), has('value2'))).toBe(false);
    expect(matches(f('exact', 1), has('1'))).toBe(true);
    expect(matches(f('exact', '1'), has(1))).toBe(true);
    expect(matches(f('exact', 'null'), has(null))).toBe(true);
    expect(matches(f('exact', 'value'), has(''))).toBe(false);
  });

  it('uses Unicode lower-casing, not case folding', () => {
    expect(matches(f('exact', 'STRASSE'), has('strasse'))).toBe(true);
    expect(matches(f('exact', 'Straße'), has('strasse'))).toBe(false);
    expect(matches(f('exact', 'ÉCOLE'), has('école'))).toBe(true);
  });

  it('matches any element of an array value', () => {
    const filter = f('exact', ['US', 'CA', 'Uk']);
    expect(matches(filter, has('us'))).toBe(true);
    expect(matches(filter, has('UK'))).toBe(true);
    expect(matches(filter, has('de'))).toBe(false);
    expect(matches(f('exact', [1, 2]), has('2'))).toBe(true);
  });

  it('compares truthiness for boolean-like values', () => {
    expect(matches(f('exact', true), has('true'))).toBe(true);
    expect(matches(f('exact', 'True'), has(true))).toBe(true);
    expect(matches(f('exact', 'true'), has('TRUE'))).toBe(true);
    expect(matches(f('exact', false), has(false))).toBe(true);
    expect(matches(f('exact', 'false'), has(true))).toBe(false);
    // quirk: ["false"] matches any non-truthy actual
    expect(matches(f('exact', ['false']), has('hello'))).toBe(true);
    expect(matches(f('exact', ['false']), has(0))).toBe(true);
    expect(matches(f('exact', ['false']), has(null))).toBe(true);
    expect(matches(f('exact', [true, 'true']), has('true'))).toBe(true);
  });

  it('treats an empty array as boolean-like truthy: never a non-truthy actual', () => {
    expect(matches(f('exact', []), has('us'))).toBe(false);
    expect(matches(f('exact', []), has(false))).toBe(false);
    expect(matches(f('exact', []), has(true))).toBe(true);
  });

  it('is false for a missing key', () => {
    expect(matches(f('exact', 'value'), MISSING)).toBe(false);
  });
});

describe('is_not', () => {
  it('negates exact', () => {
    expect(matches(f('is_not', 'value'), has('value2'))).toBe(true);
    expect(matches(f('is_not', 'value'), has('VALUE'))).toBe(false);
    expect(matches(f('is_not', 'value'), has(''))).toBe(true);
    expect(matches(f('is_not', 'value'), has(null))).toBe(true);
    expect(matches(f('is_not', ['a', 'b']), has('c'))).toBe(true);
    expect(matches(f('is_not', ['a', 'b']), has('b'))).toBe(false);
  });

  it('compares null as the string "null"', () => {
    expect(matches(f('is_not', 'null'), has(null))).toBe(false);
  });

  it('is true for a missing key', () => {
    expect(matches(f('is_not', 'value'), MISSING)).toBe(true);
  });
});

describe('is_set / is_not_set', () => {
  it('checks key presence; null counts as present; no value needed', () => {
    expect(matches({ key: 'k', operator: 'is_set', type: 'person' }, has(null))).toBe(true);
    expect(matches({ key: 'k', operator: 'is_set', value: 'is_set' }, has(''))).toBe(true);
    expect(matches({ key: 'k', operator: 'is_set' }, MISSING)).toBe(false);
    expect(matches({ key: 'k', operator: 'is_not_set' }, has(null))).toBe(false);
    expect(matches({ key: 'k', operator: 'is_not_set' }, MISSING)).toBe(true);
  });
});

describe('icontains / not_icontains', () => {
  it('searches ASCII-lower-cased stringified values', () => {
    expect(matches(f('icontains', 'valUe'), has('343tfvalue5'))).toBe(true);
    expect(matches(f('icontains', 'valUe'), has('Alakazam'))).toBe(false);
    expect(matches(f('icontains', '3'), has(323))).toBe(true);
    expect(matches(f('icontains', 'ul'), has(null))).toBe(true);
    expect(matches(f('icontains', 'É'), has('é'))).toBe(false); // ASCII folding only
    expect(matches(f('not_icontains', 'x'), has('abc'))).toBe(true);
    expect(matches(f('not_icontains', 'B'), has('abc'))).toBe(false);
  });

  it('missing key: icontains false, not_icontains true', () => {
    expect(matches(f('icontains', 'a'), MISSING)).toBe(false);
    expect(matches(f('not_icontains', 'a'), MISSING)).toBe(true);
  });
});

describe('starts_with / ends_with families', () => {
  it('compares prefixes and suffixes case-insensitively', () => {
    expect(matches(f('starts_with', 'Val'), has('value'))).toBe(true);
    expect(matches(f('starts_with', 'al'), has('value'))).toBe(false);
    expect(matches(f('ends_with', 'UE'), has('value'))).toBe(true);
    expect(matches(f('ends_with', 'val'), has('value'))).toBe(false);
    expect(matches(f('not_starts_with', 'Val'), has('value'))).toBe(false);
    expect(matches(f('not_ends_with', 'x'), has('value'))).toBe(true);
    expect(matches(f('starts_with', '12'), has(123))).toBe(true);
  });

  it('missing key: positive false, negated true', () => {
    expect(matches(f('starts_with', 'a'), MISSING)).toBe(false);
    expect(matches(f('ends_with', 'a'), MISSING)).toBe(false);
    expect(matches(f('not_starts_with', 'a'), MISSING)).toBe(true);
    expect(matches(f('not_ends_with', 'a'), MISSING)).toBe(true);
  });
});

describe('icontains_multi / not_icontains_multi', () => {
  it('matches when any needle is contained', () => {
    expect(matches(f('icontains_multi', ['foo', 'BAR']), has('xbarx'))).toBe(true);
    expect(matches(f('icontains_multi', ['foo', 'bar']), has('baz'))).toBe(false);
    expect(matches(f('icontains_multi', 'oo'), has('foo'))).toBe(true);
    expect(matches(f('not_icontains_multi', ['foo', 'bar']), has('baz'))).toBe(true);
    expect(matches(f('not_icontains_multi', ['foo', 'bar']), has('food'))).toBe(false);
  });

  it('missing key: false / true', () => {
    expect(matches(f('icontains_multi', ['a']), MISSING)).toBe(false);
    expect(matches(f('not_icontains_multi', ['a']), MISSING)).toBe(true);
  });
});

describe('regex / not_regex', () => {
  it('searches unanchored', () => {
    expect(matches(f('regex', '^.*@example\\.com$'), has('a@example.com'))).toBe(true);
    expect(matches(f('regex', 'exam'), has('a@example.com'))).toBe(true);
    expect(matches(f('regex', '^exam'), has('a@example.com'))).toBe(false);
    expect(matches(f('regex', '(?i)ABC'), has('xabcx'))).toBe(true);
    expect(matches(f('regex', '\\d+'), has(42))).toBe(true);
    expect(matches(f('not_regex', 'exam'), has('a@example.com'))).toBe(false);
    expect(matches(f('not_regex', 'zzz'), has('a@example.com'))).toBe(true);
  });

  it('is false for both operators on an invalid pattern', () => {
    for (const pattern of ['[', '(a', '?bad']) {
      expect(matches(f('regex', pattern), has('abc'))).toBe(false);
      expect(matches(f('not_regex', pattern), has('abc'))).toBe(false);
    }
  });

  it('treats patterns RE2 cannot run (lookaheads, backreferences) as invalid', () => {
    expect(matches(f('regex', 'a(?=b)'), has('ab'))).toBe(false);
    expect(matches(f('not_regex', 'a(?=b)'), has('ab'))).toBe(false);
    expect(matches(f('regex', '(a)\\1'), has('aa'))).toBe(false);
    expect(matches(f('not_regex', '(a)\\1'), has('aa'))).toBe(false);
  });

  it('keeps linear-time lookbehinds', () => {
    expect(matches(f('regex', '(?<=@)example'), has('a@example.com'))).toBe(true);
  });

  it('missing key: regex false, not_regex true (even for an invalid pattern)', () => {
    expect(matches(f('regex', 'a'), MISSING)).toBe(false);
    expect(matches(f('not_regex', 'a'), MISSING)).toBe(true);
    expect(matches(f('not_regex', '['), MISSING)).toBe(true);
  });

  it('finishes a catastrophic-backtracking pattern quickly (RE2 is linear)', () => {
    const hostile = 'a'.repeat(50_000) + 'b';
    const started = process.cpuUsage();
    expect(matches(f('regex', '(a+)+$'), has(hostile))).toBe(false);
    expect(matches(f('regex', '^(a|aa)+$'), has(hostile))).toBe(false);
    expect(matches(f('regex', '(x+x+)+y'), has('x'.repeat(50_000)))).toBe(false);
    // CPU time (test/helpers/cpu-time.ts): a backtracking engine would never finish; a busy machine only takes longer on the clock.
    expect(cpuMsSince(started)).toBeLessThan(1_000);
  });
});

describe('gt / gte / lt / lte', () => {
  it('compares numerically; numeric strings count', () => {
    expect(matches(f('gt', 5), has(6))).toBe(true);
    expect(matches(f('gt', 5), has(5))).toBe(false);
    expect(matches(f('gte', 5), has(5))).toBe(true);
    expect(matches(f('lt', '10'), has('9.5'))).toBe(true);
    expect(matches(f('lte', 10), has('10'))).toBe(true);
    expect(matches(f('lt', 10), has('1e1'))).toBe(false);
    expect(matches(f('gt', 2), has('10'))).toBe(true); // numeric, not lexicographic
  });

  it('is false when either side is not a number (server, unlike the SDKs)', () => {
    expect(matches(f('gt', 'b'), has('c'))).toBe(false);
    expect(matches(f('gt', 100), has('123aloha'))).toBe(false);
    expect(matches(f('lt', 100), has(true))).toBe(false);
    expect(matches(f('lt', 100), has(null))).toBe(false);
    expect(matches(f('gt', 'abc'), has(5))).toBe(false);
  });

  it('is false for a missing key', () => {
    for (const op of ['gt', 'gte', 'lt', 'lte']) expect(matches(f(op, 1), MISSING)).toBe(false);
  });
});

describe('between / not_between', () => {
  it('is inclusive on both ends', () => {
    expect(matches(f('between', [1, 10]), has(1))).toBe(true);
    expect(matches(f('between', [1, 10]), has('10'))).toBe(true);
    expect(matches(f('between', [1, 10]), has(11))).toBe(false);
    expect(matches(f('not_between', [1, 10]), has(11))).toBe(true);
    expect(matches(f('not_between', [1, 10]), has(5))).toBe(false);
  });

  it('is false for malformed bounds or a non-numeric actual', () => {
    for (const bad of [[1], [1, 2, 3], ['a', 2], [10, 1], 5]) {
      expect(matches(f('between', bad), has(5))).toBe(false);
      expect(matches(f('not_between', bad), has(5))).toBe(false);
    }
    expect(matches(f('between', [1, 10]), has('abc'))).toBe(false);
    expect(matches(f('not_between', [1, 10]), has('abc'))).toBe(false);
    expect(matches(f('not_between', [1, 10]), has('NaN'))).toBe(false);
  });

  it('missing key: between false, not_between true', () => {
    expect(matches(f('between', [1, 10]), MISSING)).toBe(false);
    expect(matches(f('not_between', [1, 10]), MISSING)).toBe(true);
  });
});

describe('is_date_before / is_date_after / is_date_exact', () => {
  it('compares absolute dates', () => {
    expect(matches(f('is_date_before', '2024-01-01'), has('2023-12-31'))).toBe(true);
    expect(matches(f('is_date_before', '2024-01-01'), has('2024-01-01T00:00:01Z'))).toBe(false);
    expect(matches(f('is_date_after', '2024-01-01T00:00:00Z'), has('2024-01-01T00:00:01Z'))).toBe(true);
    expect(matches(f('is_date_exact', '2024-01-01'), has('2024-01-01T00:00:00Z'))).toBe(true);
    expect(matches(f('is_date_exact', '2024-01-01'), has('2024-01-01 00:00:01'))).toBe(false);
  });

  it('honours explicit offsets', () => {
    expect(matches(f('is_date_exact', '2024-01-01T02:00:00+02:00'), has('2024-01-01T00:00:00Z'))).toBe(true);
    expect(matches(f('is_date_before', '2024-01-01T00:00:00Z'), has('2024-01-01T00:30:00+01:00'))).toBe(true);
  });

  it('reads numbers and numeric strings as epoch seconds', () => {
    const jan1 = Date.parse('2024-01-01T00:00:00Z') / 1000;
    expect(matches(f('is_date_exact', '2024-01-01'), has(jan1))).toBe(true);
    expect(matches(f('is_date_exact', '2024-01-01'), has(String(jan1)))).toBe(true);
    expect(matches(f('is_date_after', '2024-01-01'), has(jan1 + 0.5))).toBe(true);
    expect(matches(f('is_date_before', '2024-01-01'), has(jan1 * 1000))).toBe(false); // milliseconds read as seconds
  });

  it('reads bare dates and naive datetimes in the project time zone', () => {
    // midnight in New York is 05:00Z in January
    expect(matches(f('is_date_exact', '2024-01-01'), has('2024-01-01T05:00:00Z'), 'America/New_York')).toBe(true);
    expect(matches(f('is_date_exact', '2024-01-01 09:30'), has('2024-01-01T14:30:00Z'), 'America/New_York')).toBe(true);
    // both sides naive: compared in the same zone
    expect(matches(f('is_date_before', '2024-07-01'), has('2024-06-30 23:59:59'), 'Asia/Tokyo')).toBe(true);
    expect(matches(f('is_date_exact', '2024-01-01'), has('2024-01-01T00:00:00Z'), 'America/New_York')).toBe(false);
  });

  it('resolves relative dates against now (frozen)', () => {
    // now = 2024-03-31T12:00Z; -7d = 2024-03-24T12:00Z
    expect(matches(f('is_date_after', '-7d'), has('2024-03-25T00:00:00Z'))).toBe(true);
    expect(matches(f('is_date_after', '-7d'), has('2024-03-24T11:59:59Z'))).toBe(false);
    expect(matches(f('is_date_after', '7d'), has('2024-03-25T00:00:00Z'))).toBe(true); // sign is optional
    expect(matches(f('is_date_before', '-1h'), has('2024-03-31T10:59:00Z'))).toBe(true);
    expect(matches(f('is_date_before', '-1h'), has('2024-03-31T11:01:00Z'))).toBe(false);
    // a relative date as the property value works too
    expect(matches(f('is_date_before', '2024-03-30'), has('-2d'))).toBe(true);
  });

  it('is false for unparseable dates, non-string filter values and a missing key', () => {
    expect(matches(f('is_date_before', 'not a date'), has('2024-01-01'))).toBe(false);
    expect(matches(f('is_date_before', '2024-01-01'), has('not a date'))).toBe(false);
    expect(matches(f('is_date_before', '2024-13-45'), has('2023-01-01'))).toBe(false);
    expect(matches(f('is_date_before', 1_700_000_000), has('2023-01-01'))).toBe(false);
    expect(matches(f('is_date_before', '10000d'), has('2023-01-01'))).toBe(false);
    expect(matches(f('is_date_before', '2024-01-01'), has(true))).toBe(false);
    expect(matches(f('is_date_before', '2024-01-01'), MISSING)).toBe(false);
    expect(matches(f('is_date_after', '2024-01-01'), MISSING)).toBe(false);
  });

  it('falls back to common human formats', () => {
    expect(matches(f('is_date_exact', 'Wed, 02 Jun 2021 06:31:39 GMT'), has('2021-06-02T06:31:39Z'))).toBe(true);
    expect(matches(f('is_date_exact', '2021-05-01 01:17:02 +07:00'), has('2021-04-30T18:17:02Z'))).toBe(true);
    expect(matches(f('is_date_before', 'version 2'), has('1999-01-01'))).toBe(false);
  });
});

describe('relative date arithmetic', () => {
  const utc = resolveZone('UTC');
  const at = (iso: string, text: string, zone = utc) => {
    const ms = parseDateText(text, zone, () => Date.parse(iso));
    return ms === undefined ? undefined : new Date(ms).toISOString();
  };

  it('uses fixed hours, days and 7-day weeks', () => {
    expect(at('2020-01-01T12:01:20.134Z', '-24h')).toBe('2019-12-31T12:01:20.134Z');
    expect(at('2020-01-01T12:01:20.134Z', '1d')).toBe('2019-12-31T12:01:20.134Z');
    expect(at('2020-01-01T12:01:20.134Z', '-8w')).toBe('2019-11-06T12:01:20.134Z');
  });

  it('subtracts calendar months one at a time, clamping the day', () => {
    expect(at('2024-03-31T12:00:00Z', '-1m')).toBe('2024-02-29T12:00:00.000Z');
    expect(at('2024-03-31T12:00:00Z', '-2m')).toBe('2024-01-29T12:00:00.000Z'); // clamp carries over
    expect(at('2020-01-01T12:01:20Z', '-12m')).toBe(at('2020-01-01T12:01:20Z', '-1y'));
  });

  it('clamps Feb 29 for years', () => {
    expect(at('2024-02-29T00:00:00Z', '-1y')).toBe('2023-02-28T00:00:00.000Z');
    expect(at('2024-02-29T00:00:00Z', '-4y')).toBe('2020-02-28T00:00:00.000Z');
  });

  it('rejects 10 000 or more and other shapes', () => {
    expect(at('2024-01-01T00:00:00Z', '-9999d')).toBeDefined();
    expect(at('2024-01-01T00:00:00Z', '-10000d')).toBeUndefined();
    expect(at('2024-01-01T00:00:00Z', '1.5d')).toBeUndefined();
    expect(at('2024-01-01T00:00:00Z', '3s')).toBeUndefined();
  });

  it('anchors "now" on the project wall clock', () => {
    const ny = resolveZone('America/New_York');
    // 2024-03-10 is the spring-forward day in New York: -1d on the wall clock is 23 real hours.
    expect(at('2024-03-10T16:00:00Z', '-1d', ny)).toBe('2024-03-09T17:00:00.000Z');
    // 03:00Z on Mar 31 is still Mar 30, 23:00 in New York: one month back is Feb 29, 23:00 EST.
    const rel = resolveRelativeDate({ amount: 1, unit: 'm' }, Date.parse('2024-03-31T03:00:00Z'), ny);
    expect(new Date(rel!).toISOString()).toBe('2024-03-01T04:00:00.000Z');
    const inUtc = resolveRelativeDate({ amount: 1, unit: 'm' }, Date.parse('2024-03-31T03:00:00Z'), utc);
    expect(new Date(inUtc!).toISOString()).toBe('2024-02-29T03:00:00.000Z');
  });
});

describe('semver operators', () => {
  it('eq / neq with v prefix, padding and leading zeros', () => {
    expect(matches(f('semver_eq', '1.2.3'), has('v1.2.3'))).toBe(true);
    expect(matches(f('semver_eq', '1.2'), has('1.2.0'))).toBe(true);
    expect(matches(f('semver_eq', '3'), has('3.0.0'))).toBe(true);
    expect(matches(f('semver_eq', '3.8.0'), has('3.08'))).toBe(true);
    expect(matches(f('semver_eq', ' 1.2.3 '), has('1.2.3'))).toBe(true);
    expect(matches(f('semver_neq', '1.2.3'), has('1.2.4'))).toBe(true);
    expect(matches(f('semver_neq', '1.2.3'), has('1.2.3'))).toBe(false);
    expect(matches(f('semver_eq', '1.2.3'), has('V1.2.3'))).toBe(false); // only lowercase v
  });

  it('orders pre-releases below releases (kept, not stripped)', () => {
    expect(matches(f('semver_lt', '1.2.3'), has('1.2.3-alpha'))).toBe(true);
    expect(matches(f('semver_eq', '1.2.3'), has('1.2.3-alpha'))).toBe(false);
    expect(matches(f('semver_gt', '1.2.3-alpha'), has('1.2.3-beta'))).toBe(true);
    expect(matches(f('semver_gt', '1.2.3-alpha.2'), has('1.2.3-alpha.10'))).toBe(true);
    expect(matches(f('semver_lt', '1.2.3-alpha'), has('1.2.3-1'))).toBe(true); // numeric < alphanumeric
  });

  it('gt / gte / lt / lte compare numerically per component', () => {
    expect(matches(f('semver_gt', '1.9.0'), has('1.10.0'))).toBe(true);
    expect(matches(f('semver_gte', '1.10.0'), has('1.10.0'))).toBe(true);
    expect(matches(f('semver_lt', '2.0.0'), has('1.99.99'))).toBe(true);
    expect(matches(f('semver_lte', '1.0.0'), has('1.0.1'))).toBe(false);
  });

  it('compares build metadata like the semver crate', () => {
    expect(matches(f('semver_eq', '1.0.0'), has('1.0.0+build.1'))).toBe(false);
    expect(matches(f('semver_gt', '1.0.0'), has('1.0.0+build.1'))).toBe(true);
  });

  it('is false for unparseable versions and a missing key', () => {
    expect(matches(f('semver_eq', '1.2.3'), has('not-a-version'))).toBe(false);
    expect(matches(f('semver_neq', '1.2.3'), has('1.2.3.4'))).toBe(false);
    expect(matches(f('semver_gt', 'garbage'), has('1.2.3'))).toBe(false);
    for (const op of ['semver_eq', 'semver_neq', 'semver_gt', 'semver_gte', 'semver_lt', 'semver_lte']) {
      expect(matches(f(op, '1.0.0'), MISSING)).toBe(false);
    }
  });

  it('semver_tilde: >= X.Y.Z and < X.(Y+1).0, pre-releases excluded', () => {
    const tilde = f('semver_tilde', '1.2.3');
    expect(matches(tilde, has('1.2.3'))).toBe(true);
    expect(matches(tilde, has('1.2.9'))).toBe(true);
    expect(matches(tilde, has('1.3.0'))).toBe(false);
    expect(matches(tilde, has('1.2.2'))).toBe(false);
    expect(matches(tilde, has('1.2.4-beta'))).toBe(false);
    expect(matches(f('semver_tilde', '1.2'), has('1.2.7'))).toBe(true);
    expect(matches(tilde, MISSING)).toBe(false);
  });

  it('semver_caret: up to the next breaking version', () => {
    expect(matches(f('semver_caret', '1.2.3'), has('1.9.0'))).toBe(true);
    expect(matches(f('semver_caret', '1.2.3'), has('2.0.0'))).toBe(false);
    expect(matches(f('semver_caret', '1.2.3'), has('1.2.2'))).toBe(false);
    expect(matches(f('semver_caret', '0.2.3'), has('0.2.9'))).toBe(true);
    expect(matches(f('semver_caret', '0.2.3'), has('0.3.0'))).toBe(false);
    expect(matches(f('semver_caret', '0.0.3'), has('0.0.3'))).toBe(true);
    expect(matches(f('semver_caret', '0.0.3'), has('0.0.4'))).toBe(false);
    expect(matches(f('semver_caret', '1.2.3'), has('1.5.0-rc.1'))).toBe(false);
    expect(matches(f('semver_caret', '1.2.3'), MISSING)).toBe(false);
  });

  it('semver_wildcard: 1.* and 1.2.*', () => {
    expect(matches(f('semver_wildcard', '1.*'), has('1.0.0'))).toBe(true);
    expect(matches(f('semver_wildcard', '1.*'), has('1.99.3'))).toBe(true);
    expect(matches(f('semver_wildcard', '1.*'), has('2.0.0'))).toBe(false);
    expect(matches(f('semver_wildcard', '1.2.*'), has('1.2.9'))).toBe(true);
    expect(matches(f('semver_wildcard', '1.2.*'), has('1.3.0'))).toBe(false);
    expect(matches(f('semver_wildcard', '1.*.*'), has('1.5.0'))).toBe(true);
    expect(matches(f('semver_wildcard', '3.08.*'), has('3.8.1'))).toBe(true);
    expect(matches(f('semver_wildcard', '1.*'), has('1.2.0-beta'))).toBe(false);
    expect(matches(f('semver_wildcard', '1.*.3'), has('1.2.3'))).toBe(false); // invalid requirement
    expect(matches(f('semver_wildcard', '1.*'), MISSING)).toBe(false);
  });
});

describe('operators that are not property operators, and malformed filters', () => {
  it('in / not_in / flag_evaluates_to as property filters never match', () => {
    expect(matches(f('in', 'x'), has('x'))).toBe(false);
    expect(matches(f('not_in', 'x'), has('y'))).toBe(false);
    expect(matches(f('flag_evaluates_to', true), has(true))).toBe(false);
  });

  it('an unknown operator is false', () => {
    expect(matches(f('contains', 'x'), has('x'))).toBe(false);
    expect(matches(f('not_contains', 'x'), MISSING)).toBe(false);
  });

  it('a filter without a value is false, except is_set / is_not_set', () => {
    for (const op of ['exact', 'is_not', 'icontains', 'not_icontains', 'regex', 'not_regex', 'gt', 'not_between', 'semver_eq']) {
      expect(matches({ key: 'k', operator: op }, has('x'))).toBe(false);
      expect(matches({ key: 'k', operator: op, value: null }, MISSING)).toBe(false);
    }
  });
});

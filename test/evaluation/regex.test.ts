// Regex filters: RE2 decides the meaning; the V8 translation of the shared subset must agree with
// it on every input, and anything outside the subset must stay on RE2.
import { describe, expect, it } from 'vitest';
import { RE2JS } from 're2js';
import { compileRegex, nativeRegex } from '../../src/evaluation/regex.js';
import { cpuMsSince } from '../helpers/cpu-time.ts';

const SUBSET = [
  '^[a-z]+\\.[a-z]+@example\\.(com|org)$',
  'a.c',
  '^.*$',
  '^.+$',
  '\\s',
  '^\\S+$',
  '[\\s,]+',
  '^\\d{3}-\\d{4}$',
  '\\bcat\\b',
  '\\Bcat',
  '^(?:ab|cd)*e?$',
  'x{2,}',
  'x{2,3}y*?z',
  '[^a-c\\]]',
  '[\\w.-]+@[\\w-]+\\.\\w+',
  '\\$\\d+\\.\\d\\d',
  '^(a|b)+$',
  '\\(\\)\\[\\]\\{\\}\\|\\^\\\\\\/',
  '[\\d\\-]+',
  '\\t|\\v|\\f',
  '',
  'a|',
];

const INPUTS = [
  '',
  'abc',
  'a\nc',
  'a\rc',
  'a\u2028c',
  'jane.doe@example.com',
  'jane.doe@example.org',
  'Jane.Doe@example.com',
  '555-1234',
  'a cat sat',
  'concat',
  'bobcat',
  'abcde',
  'xx',
  'xxxyz',
  'x',
  ']',
  'a.b-c@d-e.fg',
  '$12.50',
  '()[]{}|^\\/',
  '12-34',
  '\t',
  '\u000b',
  '\f',
  ' ',
  '\u00a0',
  '\u3000',
  'ababe',
  'é',
  'a😀c',
  '😀',
  'x😀x',
  'line\nbreak',
  'e',
];

describe('regex filters', () => {
  it('translates the shared subset and agrees with RE2 on every input', () => {
    for (const pattern of SUBSET) {
      const native = nativeRegex(pattern);
      expect(native, pattern).toBeDefined();
      const re2 = RE2JS.compile(pattern);
      const compiled = compileRegex(pattern)!;
      for (const input of INPUTS) {
        const expected = re2.test(input);
        expect(compiled.test(input), `${pattern} on ${JSON.stringify(input)}`).toBe(expected);
        if (!/[\uD800-\uDFFF]/.test(input)) expect(native!.test(input), `native ${pattern} on ${JSON.stringify(input)}`).toBe(expected);
      }
    }
  });

  it('keeps RE2 for syntax outside the subset, with RE2 meaning', () => {
    const outside: Array<[string, string, boolean]> = [
      ['(?i)abc', 'ABC', true],
      ['\\pL+', 'abc', true],
      ['[[:digit:]]', '7', true],
      ['(?P<x>a)b', 'ab', true],
      ['\\x41', 'A', true],
      ['a{,3}', 'a{,3}', true],
      ['[]a]', ']', true],
      ['é', 'café', true],
      ['\\Aab\\z', 'ab', true],
      ['(?<=@)example', 'a@example.com', true],
    ];
    for (const [pattern, input, expected] of outside) {
      expect(nativeRegex(pattern), pattern).toBeUndefined();
      expect(compileRegex(pattern)!.test(input), pattern).toBe(expected);
    }
  });

  it('counts astral characters as one character, as RE2 does', () => {
    expect(compileRegex('^.$')!.test('😀')).toBe(true);
    expect(compileRegex('^a.c$')!.test('a😀c')).toBe(true);
    expect(compileRegex('^.{2}$')!.test('😀')).toBe(false);
  });

  it('stays fast on catastrophic patterns in the subset (V8 falls back to its linear engine)', () => {
    for (const pattern of ['(a+)+$', '^(a|aa)+$', '(x+x+)+y', '^(\\w+\\s?)*$']) expect(nativeRegex(pattern), pattern).toBeDefined();
    const started = process.cpuUsage();
    expect(compileRegex('(a+)+$')!.test('a'.repeat(5_000) + 'b')).toBe(false);
    expect(compileRegex('^(\\w+\\s?)*$')!.test('a'.repeat(5_000) + '!')).toBe(false);
    expect(compileRegex('(x+x+)+y')!.test('x'.repeat(5_000))).toBe(false);
    // CPU time (test/helpers/cpu-time.ts): a backtracking engine would never finish; a busy machine only takes longer on the clock.
    expect(cpuMsSince(started)).toBeLessThan(1_000);
  });
});

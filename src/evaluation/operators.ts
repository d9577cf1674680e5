// Property operators compiled to matchers, with the PostHog server's missing-key semantics
// (docs/compatibility.md#sdk-3.9).
import { parseAbsoluteDate, parseDateProperty, parseRelativeDate, resolveRelativeDate, type Zone } from './dates.js';
import { compileRegex } from './regex.js';
import { compareVersions, parseRequirement, parseVersion, satisfies } from './semver.js';
import type { Properties } from './types.js';
import { asciiLower, hasOwn, isBooleanLike, isTruthy, stringify, toNumber } from './values.js';

/** Per-request state a matcher may need; `nowMs` is read only by relative dates. */
export interface MatchContext {
  nowMs(): number;
}

export type PropertyMatcher = (props: Properties, ctx: MatchContext) => boolean;

/**
 * Longest value (as text) the string operators compare: icontains, starts_with, ends_with, their
 * negations, icontains_multi and regex/not_regex. A longer value is not compared, and every such
 * condition on it is false, negated ones included (PostHog's answer when its regex engine gives up).
 */
export const MAX_STRING_OPERATOR_INPUT = 10_000;

/** The text a string operator compares, or undefined when it is too long to compare. */
function comparable(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > MAX_STRING_OPERATOR_INPUT ? undefined : value;
  const text = stringify(value);
  return text.length > MAX_STRING_OPERATOR_INPUT ? undefined : text;
}

export const SUPPORTED_OPERATORS = new Set([
  'exact',
  'is_not',
  'is_set',
  'is_not_set',
  'icontains',
  'not_icontains',
  'icontains_multi',
  'not_icontains_multi',
  'regex',
  'not_regex',
  'starts_with',
  'not_starts_with',
  'ends_with',
  'not_ends_with',
  'gt',
  'gte',
  'lt',
  'lte',
  'between',
  'not_between',
  'semver_eq',
  'semver_neq',
  'semver_gt',
  'semver_gte',
  'semver_lt',
  'semver_lte',
  'semver_tilde',
  'semver_caret',
  'semver_wildcard',
  'is_date_before',
  'is_date_after',
  'is_date_exact',
  'in',
  'not_in',
  'flag_evaluates_to',
]);

const never: PropertyMatcher = () => false;

/** The operator of a filter; absent or null means `exact`. */
export function operatorOf(filter: Record<string, unknown>): string {
  const op = filter.operator;
  return op === undefined || op === null ? 'exact' : String(op);
}

/**
 * Compile one property filter `{key, value, operator}` into a matcher over a property map.
 * Everything that does not depend on the person (stringified and lower-cased values, regexes,
 * versions, absolute dates) is prepared here, once per snapshot.
 */
export function compilePropertyMatcher(filter: Record<string, unknown>, zone: Zone): PropertyMatcher {
  const key = typeof filter.key === 'string' ? filter.key : stringify(filter.key);
  const op = operatorOf(filter);
  if (op === 'is_set') return (props) => hasOwn(props, key);
  if (op === 'is_not_set') return (props) => !hasOwn(props, key);
  if (!SUPPORTED_OPERATORS.has(op)) return never;

  const value = filter.value;
  // A filter without a value never matches (serde reads JSON null as no value too).
  if (value === undefined || value === null) return never;

  switch (op) {
    case 'exact':
    case 'is_not':
      return compileExact(key, value, op === 'is_not');
    case 'icontains':
    case 'not_icontains':
      return compileText(key, asciiLower(stringify(value)), 'contains', op === 'not_icontains');
    case 'starts_with':
    case 'not_starts_with':
      return compileText(key, asciiLower(stringify(value)), 'prefix', op === 'not_starts_with');
    case 'ends_with':
    case 'not_ends_with':
      return compileText(key, asciiLower(stringify(value)), 'suffix', op === 'not_ends_with');
    case 'icontains_multi':
    case 'not_icontains_multi':
      return compileContainsAny(key, value, op === 'not_icontains_multi');
    case 'regex':
    case 'not_regex':
      return compileRegexMatcher(key, value, op === 'not_regex');
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return compileNumeric(key, value, op);
    case 'between':
    case 'not_between':
      return compileBetween(key, value, op === 'not_between');
    case 'semver_eq':
    case 'semver_neq':
    case 'semver_gt':
    case 'semver_gte':
    case 'semver_lt':
    case 'semver_lte':
      return compileSemverCompare(key, value, op);
    case 'semver_tilde':
    case 'semver_caret':
    case 'semver_wildcard':
      return compileSemverRange(key, value, op);
    case 'is_date_before':
    case 'is_date_after':
    case 'is_date_exact':
      return compileDate(key, value, op, zone);
    default:
      // in / not_in (cohorts) and flag_evaluates_to (dependencies) are not property operators.
      return never;
  }
}

function compileExact(key: string, value: unknown, negate: boolean): PropertyMatcher {
  let matches: (actual: unknown) => boolean;
  if (isBooleanLike(value)) {
    // "true"/"false" filters compare truthiness, so ["false"] matches any non-truthy actual.
    const wanted = isTruthy(value);
    matches = (actual) => isTruthy(actual) === wanted;
  } else if (Array.isArray(value)) {
    const options = new Set(value.map((v) => stringify(v).toLowerCase()));
    matches = (actual) => options.has(stringify(actual).toLowerCase());
  } else {
    const target = stringify(value).toLowerCase();
    matches = (actual) => stringify(actual).toLowerCase() === target;
  }
  return negate ? (props) => !hasOwn(props, key) || !matches(props[key]) : (props) => hasOwn(props, key) && matches(props[key]);
}

function compileText(key: string, needle: string, mode: 'contains' | 'prefix' | 'suffix', negate: boolean): PropertyMatcher {
  const test =
    mode === 'contains'
      ? (hay: string) => hay.includes(needle)
      : mode === 'prefix'
        ? (hay: string) => hay.startsWith(needle)
        : (hay: string) => hay.endsWith(needle);
  return compileTextTest(key, test, negate);
}

/** A text test under the table's missing-key rule; a value too long to compare is false either way. */
function compileTextTest(key: string, test: (hay: string) => boolean, negate: boolean): PropertyMatcher {
  return (props) => {
    if (!hasOwn(props, key)) return negate;
    const text = comparable(props[key]);
    return text !== undefined && test(asciiLower(text)) !== negate;
  };
}

function compileContainsAny(key: string, value: unknown, negate: boolean): PropertyMatcher {
  const needles = (Array.isArray(value) ? value : [value]).map((v) => asciiLower(stringify(v)));
  return compileTextTest(key, (hay) => needles.some((n) => hay.includes(n)), negate);
}

function compileRegexMatcher(key: string, value: unknown, negate: boolean): PropertyMatcher {
  const regex = compileRegex(stringify(value));
  // An invalid pattern is false for both regex and not_regex; a missing key still follows the table.
  if (!regex) return negate ? (props) => !hasOwn(props, key) : never;
  // An input too long to compare or search is false for both too (undefined below).
  const wanted = !negate;
  return (props) => {
    if (!hasOwn(props, key)) return negate;
    const text = comparable(props[key]);
    return text !== undefined && regex.test(text) === wanted;
  };
}

function compileNumeric(key: string, value: unknown, op: 'gt' | 'gte' | 'lt' | 'lte'): PropertyMatcher {
  const target = toNumber(value);
  if (target === undefined) return never;
  const cmp =
    op === 'gt' ? (n: number) => n > target : op === 'gte' ? (n: number) => n >= target : op === 'lt' ? (n: number) => n < target : (n: number) => n <= target;
  return (props) => {
    if (!hasOwn(props, key)) return false;
    const n = toNumber(props[key]);
    return n !== undefined && cmp(n);
  };
}

function compileBetween(key: string, value: unknown, negate: boolean): PropertyMatcher {
  const low = Array.isArray(value) && value.length === 2 ? toNumber(value[0]) : undefined;
  const high = Array.isArray(value) && value.length === 2 ? toNumber(value[1]) : undefined;
  const valid = low !== undefined && high !== undefined && !Number.isNaN(low) && !Number.isNaN(high) && low <= high;
  return (props) => {
    if (!hasOwn(props, key)) return negate;
    if (!valid) return false;
    const n = toNumber(props[key]);
    if (n === undefined || Number.isNaN(n)) return false;
    const inRange = n >= low && n <= high;
    return negate ? !inRange : inRange;
  };
}

function compileSemverCompare(key: string, value: unknown, op: string): PropertyMatcher {
  const target = parseVersion(value);
  if (!target) return never;
  const test =
    op === 'semver_eq'
      ? (c: number) => c === 0
      : op === 'semver_neq'
        ? (c: number) => c !== 0
        : op === 'semver_gt'
          ? (c: number) => c > 0
          : op === 'semver_gte'
            ? (c: number) => c >= 0
            : op === 'semver_lt'
              ? (c: number) => c < 0
              : (c: number) => c <= 0;
  return (props) => {
    if (!hasOwn(props, key)) return false;
    const actual = parseVersion(props[key]);
    return actual !== undefined && test(compareVersions(actual, target));
  };
}

function compileSemverRange(key: string, value: unknown, op: 'semver_tilde' | 'semver_caret' | 'semver_wildcard'): PropertyMatcher {
  const req = parseRequirement(op, value);
  if (!req) return never;
  return (props) => {
    if (!hasOwn(props, key)) return false;
    const actual = parseVersion(props[key]);
    return actual !== undefined && satisfies(req, actual);
  };
}

function compileDate(key: string, value: unknown, op: string, zone: Zone): PropertyMatcher {
  if (typeof value !== 'string') return never;
  const rel = parseRelativeDate(value);
  let target: (ctx: MatchContext) => number | undefined;
  if (rel) {
    target = (ctx) => resolveRelativeDate(rel, ctx.nowMs(), zone);
  } else {
    const fixed = parseAbsoluteDate(value, zone);
    if (fixed === undefined) return never;
    target = () => fixed;
  }
  const cmp =
    op === 'is_date_before' ? (a: number, b: number) => a < b : op === 'is_date_after' ? (a: number, b: number) => a > b : (a: number, b: number) => a === b;
  return (props, ctx) => {
    if (!hasOwn(props, key)) return false;
    const actual = parseDateProperty(props[key], zone, () => ctx.nowMs());
    if (actual === undefined) return false;
    const wanted = target(ctx);
    return wanted !== undefined && cmp(actual, wanted);
  };
}

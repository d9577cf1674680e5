// Python-compatible renderings and parsers for flag validation: PostHog's messages leak Python's
// str()/repr(), payload objects are stored as Python json.dumps() text, and date values follow
// PostHog's relative-date rule. Pure functions, no I/O.
import { MAX_JSON_DEPTH } from '../platform/json.ts';

/** Python float.__repr__ (also what json.dumps writes): shortest round-trip digits, `1e-05`, `1e+16`, `2.0`. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac || '0'}`;
}

/**
 * A JSON number as Python prints it. JSON.parse cannot tell `2` from `2.0`; integral values are
 * printed as Python ints (what clients send in practice), others as floats.
 */
export function pyNumber(x: number): string {
  if (Number.isInteger(x)) return BigInt(x).toString();
  return pyFloatRepr(x);
}

function isPrintable(code: number): boolean {
  // Python's str.isprintable() for the characters a JSON body realistically carries.
  if (code < 0x20 || (code >= 0x7f && code <= 0xa0) || code === 0xad) return false;
  if (code >= 0xd800 && code <= 0xdfff) return false;
  if (code === 0x2028 || code === 0x2029 || (code >= 0x200b && code <= 0x200f) || code === 0xfeff) return false;
  return true;
}

function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === quote) out += `\\${ch}`;
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (isPrintable(code) || code > 0xffff) out += ch;
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return out + quote;
}

/** Python repr() of a JSON value: `['@posthog.com']`, `{'a': True}`, `None`. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'string') return pyStrRepr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${pyStrRepr(k)}: ${pyRepr(v)}`)
    .join(', ')}}`;
}

/** Python str() of a JSON value, as an f-string interpolates it: strings raw, the rest as repr(). */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

/** Python truthiness of a JSON value. */
export function pyTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

const PY_INT_STRING = /^\s*[+-]?\d+(?:_\d+)*\s*$/;

/** Python int(value), or undefined where Python raises (None, lists, dicts, non-integer text). */
export function pyInt(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'string' && PY_INT_STRING.test(value)) {
    const n = Number(value.replace(/_/g, '').trim());
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

// str.strip() strips what str.isspace() calls whitespace (not U+FEFF, unlike String.trim()).
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

export function pyStrip(s: string): string {
  return s.replace(PY_STRIP, '');
}

/** Length in code points (Python's len() of a str). */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20 && c <= 0x7e) out += s[i];
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

/**
 * Python's json.dumps() with default arguments: `", "` and `": "` separators and ensure_ascii (non-ASCII
 * written as \uXXXX). PostHog stores object payloads as this text (docs/compatibility.md#case-25).
 */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return pyNumber(value);
  }
  if (typeof value === 'string') return jsonString(value);
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${jsonString(k)}: ${pyJsonDumps(v)}`)
    .join(', ')}}`;
}

// ---- dates -----------------------------------------------------------------------------------

const RELATIVE_DATE = /^-?(\d+)([a-z])$/;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const TIME = String.raw`(?:[T ](\d{1,2})(?::(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?)?)?\s*(?:Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?`;
const ISO_DATE = new RegExp(String.raw`^(\d{4})-(\d{1,2})(?:-(\d{1,2})${TIME})?$`);
const SLASH_YMD = new RegExp(String.raw`^(\d{4})/(\d{1,2})/(\d{1,2})${TIME}$`);
const SLASH_MDY = new RegExp(String.raw`^(\d{1,2})/(\d{1,2})/(\d{4})${TIME}$`);
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const NAMED_MDY = new RegExp(String.raw`^([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})${TIME}$`);
const NAMED_DMY = new RegExp(String.raw`^(\d{1,2}) ([A-Za-z]{3,9})\.?,? (\d{4})${TIME}$`);

function validYmd(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return d <= days;
}

function validTime(h?: string, mi?: string, s?: string): boolean {
  return (h === undefined || Number(h) < 24) && (mi === undefined || Number(mi) < 60) && (s === undefined || Number(s) < 60);
}

function monthOf(name: string): number {
  const lower = name.toLowerCase();
  const full = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
  const index = full.indexOf(lower);
  if (index >= 0) return index + 1;
  const short = MONTHS.indexOf(lower === 'sept' ? 'sep' : lower);
  return short >= 0 ? short + 1 : 0;
}

/**
 * Whether a date-operator value parses the way PostHog's determine_parsed_date_for_property_matching
 * does: a relative date (`-30d`, `6h`, `2w`, `3m`, `1y`, number below 10 000) or an absolute date.
 * dateutil accepts nearly anything; flaghost accepts ISO 8601 dates and datetimes, `YYYY/MM/DD`,
 * `MM/DD/YYYY`, `YYYYMMDD` and `Jan 2, 2024` / `2 January 2024`, each with an optional time.
 */
export function isValidFlagDate(value: unknown): boolean {
  const text = pyStr(value);
  const relative = RELATIVE_DATE.exec(text);
  if (relative && Number(relative[1]) < 10_000 && 'hdwmy'.includes(relative[2])) return true;
  const s = text.trim();
  let m = ISO_DATE.exec(s);
  if (m) return validYmd(+m[1], +m[2], m[3] === undefined ? 1 : +m[3]) && validTime(m[4], m[5], m[6]);
  m = SLASH_YMD.exec(s);
  if (m) return validYmd(+m[1], +m[2], +m[3]) && validTime(m[4], m[5], m[6]);
  m = SLASH_MDY.exec(s);
  if (m) return validYmd(+m[3], +m[1], +m[2]) && validTime(m[4], m[5], m[6]);
  m = COMPACT.exec(s);
  if (m) return validYmd(+m[1], +m[2], +m[3]);
  m = NAMED_MDY.exec(s);
  if (m) return validYmd(+m[3], monthOf(m[1]), +m[2]) && validTime(m[4], m[5], m[6]);
  m = NAMED_DMY.exec(s);
  if (m) return validYmd(+m[3], monthOf(m[2]), +m[1]) && validTime(m[4], m[5], m[6]);
  return false;
}

// ---- JSON storage safety -----------------------------------------------------------------------

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** DRF's messages for strings PostgreSQL cannot store (NUL) or Python refuses (lone surrogates). */
export function unstorableStringProblem(s: string): { detail: string; code: string } | undefined {
  if (s.includes('\u0000')) return { detail: 'Null characters are not allowed.', code: 'null_characters_not_allowed' };
  const lone = LONE_SURROGATE.exec(s);
  if (lone) {
    return {
      detail: `Surrogate characters are not allowed: U+${lone[0].charCodeAt(0).toString(16).toUpperCase()}.`,
      code: 'surrogate_characters_not_allowed',
    };
  }
  return undefined;
}

/**
 * The first reason a JSON value cannot be stored in a jsonb column as-is: a string or object key
 * with NUL or a lone surrogate (PostgreSQL rejects both), or nesting deeper than MAX_JSON_DEPTH.
 */
export function unstorableJsonProblem(value: unknown): { detail: string; code: string } | undefined {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (typeof node === 'string') {
      const problem = unstorableStringProblem(node);
      if (problem) return problem;
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { detail: `Nesting deeper than ${MAX_JSON_DEPTH} levels is not supported.`, code: 'invalid_input' };
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], depth + 1]);
    } else {
      const entries = Object.entries(node as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        stack.push([entries[i][1], depth + 1]);
        stack.push([entries[i][0], depth + 1]);
      }
    }
  }
  return undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// Regex filters (regex/not_regex), compiled once per snapshot and safe on the request path.
//
// RE2 syntax decides what a pattern means and whether it is valid (re2js, linear time). A pattern
// in the common subset where RE2 and JavaScript agree (ASCII, no inline flags, named groups or
// exotic escapes) is also translated to a V8 RegExp, about ten times faster on short inputs. V8
// backtracks, so it only ever sees short inputs (where even a quadratic search is a few thousand
// steps), and V8 is told to re-run a match that backtracks excessively on its linear-time engine.
// Other inputs run on re2js, whose worst case is proportional to input length times program size
// (about 150 ns per step on a busy machine); an input over that budget is not tried at all (an
// engine error: false for both regex and not_regex, as PostHog answers when its engine gives up).
import v8 from 'node:v8';
import { RE2JS } from 're2js';
import { regexWithinBudget } from './regex-cost.js';

export interface SafeRegex {
  /** Whether the pattern matches somewhere in `input`; undefined when the input is too long to try. */
  test(input: string): boolean | undefined;
}

/** Inputs up to this many characters may run on V8's backtracking engine. */
export const MAX_NATIVE_INPUT = 256;
/** Input length × compiled program size a re2js search may cost: a few tens of milliseconds at worst. */
export const REGEX_WORK_LIMIT = 200_000;

// Process-wide and harmless elsewhere: these flags only change what happens to a match that has
// already backtracked this often (in any RegExp); the result is the same, computed in linear time.
v8.setFlagsFromString('--enable-experimental-regexp-engine');
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
v8.setFlagsFromString('--regexp-backtracks-before-fallback=1000');

const cache = new Map<string, SafeRegex | null>();
const CACHE_LIMIT = 10_000;

/**
 * Compile a filter pattern, or null when RE2 cannot (syntax errors, lookaheads, backreferences)
 * or the pattern is over the cost budget of regex-cost.ts. PostHog's server (fancy_regex) answers
 * false for both regex and not_regex on an invalid pattern; a pattern only RE2 rejects is treated
 * the same way rather than risking a backtracking engine on the request path. Captureless
 * lookbehinds stay linear and are kept.
 */
export function compileRegex(pattern: string): SafeRegex | null {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  let compiled: SafeRegex | null;
  try {
    if (!regexWithinBudget(pattern)) throw new Error('over budget');
    compiled = new BoundedRegex(RE2JS.compile(pattern, RE2JS.LOOKBEHINDS), nativeRegex(pattern));
  } catch {
    compiled = null;
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * V8 for short inputs without astral characters (where UTF-16 and code points agree), re2js for
 * the rest, nothing beyond the work limit.
 */
class BoundedRegex implements SafeRegex {
  private readonly maxInput: number;

  constructor(
    private readonly re2: RE2JS,
    private readonly native: RegExp | undefined,
  ) {
    this.maxInput = Math.floor(REGEX_WORK_LIMIT / Math.max(1, re2.programSize()));
  }

  test(input: string): boolean | undefined {
    if (this.native && input.length <= MAX_NATIVE_INPUT && !SURROGATE.test(input)) return this.native.test(input);
    if (input.length > this.maxInput) return undefined;
    return this.re2.test(input);
  }
}

/** A V8 RegExp matching exactly what the RE2 pattern matches, or undefined outside the subset. */
export function nativeRegex(pattern: string): RegExp | undefined {
  const source = translate(pattern);
  if (source === undefined) return undefined;
  try {
    // The `l` flag compiles only what the linear engine supports: the excessive-backtracks
    // fallback then applies to the RegExp actually used.
    new RegExp(source, 'l');
    return new RegExp(source);
  } catch {
    return undefined;
  }
}

const PUNCTUATION_ESCAPES = new Set(['.', '\\', '/', '-', '^', '$', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|']);
const SAME_ESCAPES = new Set(['d', 'D', 'w', 'W', 'n', 't', 'r', 'f', 'v']);
// RE2's \s is [\t\n\f\r ]; JavaScript's also has \v and Unicode spaces. RE2's `.` excludes only \n.
const RE2_SPACE = '\\t\\n\\f\\r ';

/** RE2 syntax → JavaScript syntax for the shared subset; undefined for anything else. */
function translate(pattern: string): string | undefined {
  let out = '';
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const c = pattern[i];
    const code = pattern.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return undefined;
    if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) return undefined;
      if (PUNCTUATION_ESCAPES.has(e) || SAME_ESCAPES.has(e) || e === 'b' || e === 'B') out += '\\' + e;
      else if (e === 's') out += `[${RE2_SPACE}]`;
      else if (e === 'S') out += `[^${RE2_SPACE}]`;
      else return undefined;
      i += 2;
    } else if (c === '[') {
      const end = translateClass(pattern, i);
      if (!end) return undefined;
      out += end.text;
      i = end.next;
    } else if (c === '(') {
      if (pattern[i + 1] === '?') {
        if (pattern[i + 2] !== ':') return undefined;
        out += '(?:';
        i += 3;
      } else {
        out += '(';
        i += 1;
      }
    } else if (c === '{') {
      const m = /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(i));
      if (!m) return undefined;
      out += m[0];
      i += m[0].length;
    } else if (c === ']' || c === '}') {
      return undefined;
    } else if (c === '.') {
      out += '[^\\n]';
      i += 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** A bracket expression starting at `start`: its JavaScript text and the index after it. */
function translateClass(pattern: string, start: number): { text: string; next: number } | undefined {
  let i = start + 1;
  let text = '[';
  if (pattern[i] === '^') {
    text += '^';
    i++;
  }
  // `[]…]` and `[^]…]` start with a literal ] in RE2, an empty class in JavaScript.
  if (pattern[i] === ']') return undefined;
  while (i < pattern.length) {
    const c = pattern[i];
    const code = pattern.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return undefined;
    if (c === ']') return { text: text + ']', next: i + 1 };
    if (c === '[') return undefined; // POSIX classes ([:alpha:]) and nested brackets
    if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) return undefined;
      if (PUNCTUATION_ESCAPES.has(e) || SAME_ESCAPES.has(e)) text += '\\' + e;
      else if (e === 's') text += RE2_SPACE;
      else return undefined;
      i += 2;
      continue;
    }
    text += c;
    i++;
  }
  return undefined;
}

// Value conversions that mirror the Rust flags service's serde_json helpers.

const ownProperty = Object.prototype.hasOwnProperty;

export function hasOwn(obj: object, key: string): boolean {
  return ownProperty.call(obj, key);
}

/**
 * The server's `to_string_representation`: strings as-is, everything else as JSON text.
 * JavaScript cannot tell `1.0` from `1` after JSON.parse, so a JSON float with an integer
 * value stringifies as `1` here where the server writes `1.0`.
 */
export function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  const text = JSON.stringify(value);
  return text === undefined ? 'null' : text;
}

// Rust's `str::parse::<f64>` grammar: decimal with optional exponent, or inf/infinity/nan.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;
const NAN = /^[+-]?nan$/i;

export function parseRustFloat(text: string): number | undefined {
  if (DECIMAL.test(text)) return Number(text);
  const inf = INFINITY.exec(text);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  if (NAN.test(text)) return NaN;
  return undefined;
}

/** The server's `to_f64_representation`: a JSON number, or a string that parses as f64. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  return parseRustFloat(stringify(value));
}

/** ASCII-only lower-casing, as Rust's `to_ascii_lowercase` (non-ASCII letters are kept). */
export function asciiLower(text: string): string {
  let i = 0;
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) break;
  }
  if (i === n) return text;
  let out = text.slice(0, i);
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : text[i];
  }
  return out;
}

/** Boolean-like filter values: a bool, "true"/"false" in any case, or an array of those. */
export function isBooleanLike(value: unknown): boolean {
  if (typeof value === 'boolean') return true;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    return lower === 'true' || lower === 'false';
  }
  if (Array.isArray(value)) return value.every(isBooleanLike);
  return false;
}

/** Truthiness used by the boolean-like exact rule (an empty array counts as truthy). */
export function isTruthy(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.toLowerCase() === 'true';
  if (Array.isArray(value)) return value.every(isTruthy);
  return false;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An integer id from a number or a numeric string (cohort values, dependency keys). */
export function parseIntegerId(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^[+-]?\d+$/.test(value.trim())) {
    const n = Number(value.trim());
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/**
 * A bounded memo of a pure function of a string. Property values repeat across flags and requests
 * (app versions, signup dates), and parsing them was a visible share of /flags. When full it is
 * simply emptied: cheap, and bounded whatever the input.
 */
export function memoizeString<T>(fn: (text: string) => T, max = 10_000): (text: string) => T {
  const cache = new Map<string, T>();
  return (text) => {
    let value = cache.get(text);
    if (value === undefined && !cache.has(text)) {
      value = fn(text);
      if (cache.size >= max) cache.clear();
      if (text.length <= 256) cache.set(text, value);
    }
    return value as T;
  };
}

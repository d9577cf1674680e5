// Date parsing for is_date_* operators: relative dates, RFC 3339, naive dates in the project time zone.
import { memoizeString, parseRustFloat } from './values.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** A time zone resolved once at compile time; UTC needs no Intl round trips. */
export interface Zone {
  name: string;
  utc: boolean;
  formatter: Intl.DateTimeFormat | null;
}

const zoneCache = new Map<string, Zone>();

export function resolveZone(name: string | null | undefined): Zone {
  const key = name && name.trim() ? name.trim() : 'UTC';
  const cached = zoneCache.get(key);
  if (cached) return cached;
  let zone: Zone;
  if (key === 'UTC' || key === 'Etc/UTC' || key === 'GMT') {
    zone = { name: 'UTC', utc: true, formatter: null };
  } else {
    try {
      const formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: key,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
      zone = { name: key, utc: false, formatter };
    } catch {
      // An unknown zone name falls back to UTC, PostHog's default team time zone.
      zone = { name: 'UTC', utc: true, formatter: null };
    }
  }
  zoneCache.set(key, zone);
  return zone;
}

/** Offset (local wall clock − UTC) in ms at the given instant. */
function offsetAt(zone: Zone, instantMs: number): number {
  if (zone.utc || !zone.formatter) return 0;
  const whole = Math.floor(instantMs / 1000) * 1000;
  const parts = zone.formatter.formatToParts(new Date(whole));
  let y = 0,
    mo = 0,
    d = 0,
    h = 0,
    mi = 0,
    s = 0;
  for (const p of parts) {
    switch (p.type) {
      case 'year':
        y = Number(p.value);
        break;
      case 'month':
        mo = Number(p.value);
        break;
      case 'day':
        d = Number(p.value);
        break;
      case 'hour':
        h = Number(p.value);
        break;
      case 'minute':
        mi = Number(p.value);
        break;
      case 'second':
        s = Number(p.value);
        break;
    }
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) - whole;
}

/** Wall clock (as fake-UTC ms) of an instant in the zone. */
export function toWallClock(zone: Zone, instantMs: number): number {
  return instantMs + offsetAt(zone, instantMs);
}

/**
 * Interpret a wall clock in the zone: the earliest instant on a DST overlap, none in a gap
 * (chrono's `from_local_datetime` as the server uses it).
 */
export function fromWallClock(zone: Zone, wallMs: number): number | undefined {
  if (zone.utc) return wallMs;
  const offsets = new Set([offsetAt(zone, wallMs - DAY_MS), offsetAt(zone, wallMs), offsetAt(zone, wallMs + DAY_MS)]);
  let best: number | undefined;
  for (const o of offsets) {
    const t = wallMs - o;
    if (offsetAt(zone, t) === o && (best === undefined || t < best)) best = t;
  }
  return best;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const RELATIVE = /^-?([0-9]+)([hdwmy])$/;

export interface RelativeDate {
  amount: number;
  unit: 'h' | 'd' | 'w' | 'm' | 'y';
}

/** `-7d`, `7d`, `3m` … (the sign is optional and ignored; 10 000 or more is invalid). */
export function parseRelativeDate(text: string): RelativeDate | undefined {
  const m = RELATIVE.exec(text);
  if (!m) return undefined;
  const amount = Number(m[1]);
  if (!(amount < 10_000)) return undefined;
  return { amount, unit: m[2] as RelativeDate['unit'] };
}

/** Subtract on the wall clock (months and years one step at a time, clamping the day). */
function subtractOnWallClock(wallMs: number, rel: RelativeDate): number | undefined {
  switch (rel.unit) {
    case 'h':
      return wallMs - rel.amount * HOUR_MS;
    case 'd':
      return wallMs - rel.amount * DAY_MS;
    case 'w':
      return wallMs - rel.amount * 7 * DAY_MS;
    case 'm':
    case 'y': {
      const date = new Date(wallMs);
      let year = date.getUTCFullYear();
      let month = date.getUTCMonth() + 1;
      let day = date.getUTCDate();
      const timeOfDay = wallMs - Date.UTC(year, month - 1, day);
      for (let i = 0; i < rel.amount; i++) {
        if (rel.unit === 'm') {
          if (month === 1) {
            year -= 1;
            month = 12;
          } else {
            month -= 1;
          }
          day = Math.min(day, daysInMonth(year, month));
        } else {
          year -= 1;
          if (month === 2) day = Math.min(day, daysInMonth(year, month));
        }
      }
      if (year < -262_000) return undefined;
      const d = new Date(0);
      d.setUTCFullYear(year, month - 1, day);
      return d.getTime() + timeOfDay;
    }
  }
}

/** Resolve a relative date against "now", anchored on the zone's wall clock. */
export function resolveRelativeDate(rel: RelativeDate, nowMs: number, zone: Zone): number | undefined {
  const wall = subtractOnWallClock(toWallClock(zone, nowMs), rel);
  return wall === undefined ? undefined : fromWallClock(zone, wall);
}

function validYmd(y: number, mo: number, d: number): boolean {
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

function wallMsOf(y: number, mo: number, d: number, h: number, mi: number, s: number, fracMs: number): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  return date.getTime() + fracMs;
}

function fractionToMs(frac: string | undefined): number {
  if (!frac) return 0;
  return Number('0.' + frac) * 1000;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
const BARE_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const NAIVE_DATETIME = /^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?$/;

const parseRfc3339 = memoizeString(parseRfc3339Uncached);

function parseRfc3339Uncached(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const y = Number(m[1]),
    mo = Number(m[2]),
    d = Number(m[3]);
  const h = Number(m[4]),
    mi = Number(m[5]),
    s = Number(m[6]);
  if (!validYmd(y, mo, d) || h > 23 || mi > 59 || s > 60) return undefined;
  let offsetMs = 0;
  if (!m[8]) {
    const oh = Number(m[10]),
      om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMs = (oh * 60 + om) * 60_000 * (m[9] === '-' ? -1 : 1);
  }
  return wallMsOf(y, mo, d, h, mi, Math.min(s, 59), fractionToMs(m[7])) - offsetMs;
}

function parseNaive(text: string): number | undefined {
  let m = BARE_DATE.exec(text);
  if (m) {
    const y = Number(m[1]),
      mo = Number(m[2]),
      d = Number(m[3]);
    return validYmd(y, mo, d) ? wallMsOf(y, mo, d, 0, 0, 0, 0) : undefined;
  }
  m = NAIVE_DATETIME.exec(text);
  if (m) {
    const y = Number(m[1]),
      mo = Number(m[2]),
      d = Number(m[3]);
    const h = Number(m[4]),
      mi = Number(m[5]),
      s = m[6] === undefined ? 0 : Number(m[6]);
    if (!validYmd(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
    return wallMsOf(y, mo, d, h, mi, s, fractionToMs(m[7]));
  }
  return undefined;
}

/**
 * Last resort for formats the explicit list misses (the server uses the `dateparser` crate
 * there, assuming UTC for naive input): bare epoch numbers and what `Date.parse` reads.
 */
function parseLenient(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d{10}$/.test(trimmed)) return Number(trimmed) * 1000;
  if (/^\d{13}$/.test(trimmed)) return Number(trimmed);
  if (/^\d{19}$/.test(trimmed)) return Number(trimmed) / 1e6;
  // V8's Date.parse reads almost anything ("version 2" is a date in 2001), so only hand it
  // text that looks like a calendar date: a four-digit year plus a month name or d/m/y shape.
  if (!/\d{4}/.test(trimmed)) return undefined;
  if (!MONTH_NAME.test(trimmed) && !/\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}/.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) return undefined;
  if (EXPLICIT_ZONE.test(trimmed)) return ms;
  // Date.parse reads naive text in the process zone; dateparser's naive reading is UTC.
  return ms - new Date(ms).getTimezoneOffset() * 60_000;
}

const MONTH_NAME = /\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b/i;
const EXPLICIT_ZONE = /(?:\bZ|\bGMT|\bUTC|[+-]\d{2}:?\d{2})\s*$/i;

/** An absolute date string: RFC 3339 with offset, else naive in the zone, else lenient. */
export function parseAbsoluteDate(text: string, zone: Zone): number | undefined {
  const rfc = parseRfc3339(text);
  if (rfc !== undefined) return rfc;
  const wall = parseNaive(text);
  if (wall !== undefined) return fromWallClock(zone, wall);
  if (/^-?\d+[hdwmy]$/.test(text)) return undefined; // an out-of-range relative date
  return parseLenient(text);
}

/** A date given as a filter or a property string; relative dates need "now". */
export function parseDateText(text: string, zone: Zone, nowMs: () => number): number | undefined {
  const rel = parseRelativeDate(text);
  if (rel) return resolveRelativeDate(rel, nowMs(), zone);
  return parseAbsoluteDate(text, zone);
}

/** The property side: numbers and numeric strings are epoch seconds; other strings are dates. */
export function parseDateProperty(value: unknown, zone: Zone, nowMs: () => number): number | undefined {
  if (typeof value === 'number') return epochSeconds(value);
  if (typeof value === 'string') {
    const n = parseRustFloat(value);
    if (n !== undefined) return epochSeconds(n);
    return parseDateText(value, zone, nowMs);
  }
  return undefined;
}

// chrono's DateTime range is about ±262 000 years; NaN and infinities are not timestamps.
const MAX_SECONDS = 8.2e15;

function epochSeconds(seconds: number): number | undefined {
  if (!Number.isFinite(seconds) || Math.abs(seconds) > MAX_SECONDS) return undefined;
  return seconds * 1000;
}

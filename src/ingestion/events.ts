// From a captured event to what ingestion records about it: the person updates ($set, $set_once,
// $unset, identify/alias merges), flag usage ($feature_flag_called and enriched analytics events),
// group properties ($groupidentify) and the event time, as PostHog's pipeline derives them.
// Pure: no I/O. Values bound for jsonb/text columns are made storable here.
import type { CapturedEvent } from './capture.ts';

type Json = Record<string, unknown>;

/** PostHog truncates distinct ids to 200 characters (as /flags does). */
const MAX_DISTINCT_ID = 200;
const MAX_FLAG_KEY = 400;
const MAX_VALUE = 400;
const MAX_GROUP_KEY = 400;
/** Nesting deeper than this is refused: PostgreSQL's jsonb parser would stop at its stack limit. */
const MAX_DEPTH = 64;
/** Events more than 23 hours in the future are recorded at the server's time (PostHog's cutoff). */
const FUTURE_CUTOFF_MS = 23 * 60 * 60 * 1000;

/** Event properties PostHog copies onto the person as `$set` and `$initial_…` `$set_once`. */
const EVENT_TO_PERSON_PROPERTIES = [
  '$app_build',
  '$app_name',
  '$app_namespace',
  '$app_version',
  '$browser',
  '$browser_version',
  '$device_type',
  '$current_url',
  '$pathname',
  '$os',
  '$os_version',
  '$referring_domain',
  '$referrer',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_content',
  'utm_name',
  'utm_term',
  'gclid',
  'gad_source',
  'gbraid',
  'wbraid',
  'fbclid',
  'msclkid',
];

// Distinct ids that identify/alias refuse to merge (PostHog's isDistinctIdIllegal).
const CASE_INSENSITIVE_ILLEGAL = ['anonymous', 'guest', 'distinctid', 'distinct_id', 'id', 'not_authenticated', 'email', 'undefined', 'true', 'false'];
const CASE_SENSITIVE_ILLEGAL = ['[object Object]', 'NaN', 'None', 'none', 'null', '0', 'undefined'];
const quoted = (ids: string[]) => [...ids, ...ids.map((id) => `'${id}'`), ...ids.map((id) => `"${id}"`)];
const ILLEGAL_INSENSITIVE = new Set(quoted(CASE_INSENSITIVE_ILLEGAL));
const ILLEGAL_SENSITIVE = new Set(quoted(CASE_SENSITIVE_ILLEGAL));

export function isIllegalMergeId(id: string): boolean {
  return id.trim() === '' || ILLEGAL_INSENSITIVE.has(id.toLowerCase()) || ILLEGAL_SENSITIVE.has(id);
}

export type MalformedReason = 'not_an_event' | 'missing_distinct_id' | 'invalid_properties' | 'missing_feature_flag' | 'invalid_group';

export interface IngestEvent {
  uuid?: string;
  event: string;
  distinctId: string;
  timestamp: Date;
  /** false when the event says `$process_person_profile: false` (or is a $groupidentify). */
  processPerson: boolean;
  set: Json;
  setOnce: Json;
  unset: string[];
  /** identify / alias: merge the person of `other` into the person of `distinctId`. */
  merge?: { other: string; dangerously: boolean };
  /** $feature_flag_called: the flag key and the returned value as text. */
  flagCalled?: { key: string; value: string };
  /** $feature_view / $feature_interaction of a flag (PostHog's enriched analytics). */
  enriched?: { key: string; kind: '$feature_view' | '$feature_interaction' };
  /** $groupidentify: group type name, key and `$group_set`. */
  group?: { type: string; key: string; set: Json };
}

export type Normalized = { ok: true; event: IngestEvent } | { ok: false; reason: MalformedReason };

const asObject = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

/** Text PostgreSQL accepts: no NUL, no lone surrogates. */
export function storableText(text: string): string {
  const wellFormed = (text as string & { toWellFormed?: () => string }).toWellFormed?.() ?? text;
  return wellFormed.includes('\u0000') ? wellFormed.replace(/\u0000/g, '') : wellFormed;
}

class TooDeep extends Error {}

/** A JSON value PostgreSQL's jsonb accepts (strings and keys cleaned), or TooDeep. */
function storableJson(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return storableText(value);
  if (value === null || typeof value !== 'object') return typeof value === 'number' && !Number.isFinite(value) ? null : value;
  if (depth >= MAX_DEPTH) throw new TooDeep();
  if (Array.isArray(value)) return value.map((v) => storableJson(v, depth + 1));
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[storableText(k)] = storableJson(v, depth + 1);
  return out;
}

const storableObject = (value: Json | undefined): Json => (value ? (storableJson(value, 0) as Json) : {});

const idText = (v: unknown): string | undefined => {
  const s = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
  if (s === undefined) return undefined;
  const cleaned = storableText(s).slice(0, MAX_DISTINCT_ID);
  return cleaned.trim() === '' ? undefined : cleaned;
};

function parseTime(raw: string | undefined): Date | undefined {
  if (!raw) return undefined;
  const t = new Date(raw);
  return Number.isNaN(t.getTime()) ? undefined : t;
}

/**
 * PostHog's event time: the client timestamp corrected by the clock skew between `sent_at` and
 * the server's `now`, else `now - offset`, else `now`; far-future or unreadable times give `now`.
 */
export function eventTime(e: CapturedEvent, requestSentAt: string | undefined, now: Date): Date {
  const sentAt = e.properties.$ignore_sent_at === true ? undefined : parseTime(e.sentAt ?? requestSentAt);
  let time = now;
  const timestamp = parseTime(e.timestamp);
  if (timestamp) time = sentAt ? new Date(timestamp.getTime() + (now.getTime() - sentAt.getTime())) : timestamp;
  else if (e.timestamp === undefined && e.offset !== undefined) time = new Date(now.getTime() - e.offset);
  if (Number.isNaN(time.getTime()) || time.getTime() - now.getTime() > FUTURE_CUTOFF_MS) return now;
  const year = time.getUTCFullYear();
  return year < 1 || year > 9999 ? now : time;
}

/** The flag's answer as the usage tables store it: true/false, the variant key, or "none". */
export function responseValue(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return storableText(v).slice(0, MAX_VALUE);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return 'none';
}

function unsetKeys(...sources: unknown[]): string[] {
  const keys: string[] = [];
  for (const source of sources) {
    if (Array.isArray(source)) for (const k of source) if (typeof k === 'string') keys.push(storableText(k));
    const o = asObject(source);
    if (o) keys.push(...Object.keys(o).map(storableText));
  }
  return keys;
}

export function normalizeEvent(e: CapturedEvent, requestSentAt: string | undefined, now: Date): Normalized {
  const distinctId = idText(e.distinctId);
  if (!distinctId) return { ok: false, reason: 'missing_distinct_id' };
  const props = e.properties;
  let set: Json;
  let setOnce: Json;
  try {
    // Top-level $set/$set_once win over the ones inside properties (PostHog's normalizeEvent).
    set = storableObject({ ...asObject(props.$set), ...e.set });
    setOnce = storableObject({ ...asObject(props.$set_once), ...e.setOnce });
  } catch (err) {
    if (err instanceof TooDeep) return { ok: false, reason: 'invalid_properties' };
    throw err;
  }
  // Event properties such as $browser or utm_source go onto the person (personInitialAndUTMProperties).
  const serverSide = props.$is_server === true;
  for (const key of EVENT_TO_PERSON_PROPERTIES) {
    if (!(key in props) || (serverSide && (key === '$os' || key === '$os_version'))) continue;
    let value: unknown;
    try {
      value = storableJson(props[key], 0);
    } catch {
      continue;
    }
    if (!(key in set)) set[key] = value;
    const initial = `$initial_${key.replace('$', '')}`;
    if (!(initial in setOnce)) setOnce[initial] = value;
  }

  const event: IngestEvent = {
    uuid: typeof e.uuid === 'string' && e.uuid.length <= 200 ? storableText(e.uuid) : undefined,
    event: e.event,
    distinctId,
    timestamp: eventTime(e, requestSentAt, now),
    processPerson: props.$process_person_profile !== false && e.event !== '$groupidentify',
    set,
    setOnce,
    unset: unsetKeys(props.$unset, e.unset),
  };

  if (e.event === '$identify' && '$anon_distinct_id' in props) {
    const other = idText(props.$anon_distinct_id);
    if (other) event.merge = { other, dangerously: false };
  } else if (e.event === '$create_alias' || e.event === '$merge_dangerously') {
    const other = idText(props.alias) ?? idText(props.$anon_distinct_id);
    if (other) event.merge = { other, dangerously: e.event === '$merge_dangerously' };
  }

  if (e.event === '$feature_flag_called') {
    const key = typeof props.$feature_flag === 'string' ? storableText(props.$feature_flag) : '';
    if (!key || key.length > MAX_FLAG_KEY) return { ok: false, reason: 'missing_feature_flag' };
    event.flagCalled = { key, value: responseValue(props.$feature_flag_response) };
  } else if (e.event === '$feature_view' || e.event === '$feature_interaction') {
    const key = typeof props.feature_flag === 'string' ? storableText(props.feature_flag) : '';
    if (key && key.length <= MAX_FLAG_KEY) event.enriched = { key, kind: e.event };
  } else if (e.event === '$groupidentify') {
    const type = typeof props.$group_type === 'string' ? storableText(props.$group_type) : '';
    const key = idText(props.$group_key);
    if (!type || type.length > MAX_GROUP_KEY || !key) return { ok: false, reason: 'invalid_group' };
    try {
      event.group = { type, key: key.slice(0, MAX_GROUP_KEY), set: storableObject(asObject(props.$group_set)) };
    } catch (err) {
      if (err instanceof TooDeep) return { ok: false, reason: 'invalid_properties' };
      throw err;
    }
  }
  return { ok: true, event };
}

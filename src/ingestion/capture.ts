// Capture requests (/batch/, /e/, /i/v0/e/, /capture/): the project token and the events in them,
// in every shape the SDKs send (a batch object, a single event, or an array of events).

export interface CapturedEvent {
  event: string;
  distinctId?: string;
  properties: Record<string, unknown>;
  uuid?: string;
  timestamp?: string;
  /** `$set` / `$set_once` / `$unset` given at the top level of the event. */
  set?: Record<string, unknown>;
  setOnce?: Record<string, unknown>;
  unset?: unknown;
  /** Milliseconds before `sent_at` the event happened (posthog-js without a timestamp). */
  offset?: number;
  /** The client's clock when it sent this event, for clock-skew correction. */
  sentAt?: string;
}

export interface CaptureRequest {
  token?: string;
  /** The client's clock when it sent the request (`sent_at` of a batch). */
  sentAt?: string;
  events: CapturedEvent[];
  /** Entries that were not events (skipped and counted, not fatal to the batch). */
  malformed: number;
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);

function toEvent(raw: unknown): CapturedEvent | undefined {
  const e = asObject(raw);
  if (!e || typeof e.event !== 'string' || e.event === '') return undefined;
  const properties = asObject(e.properties) ?? {};
  return {
    event: e.event,
    distinctId: str(e.distinct_id) ?? str(e.$distinct_id) ?? str(properties.distinct_id) ?? str(properties.$distinct_id),
    properties,
    uuid: str(e.uuid),
    timestamp: str(e.timestamp),
    set: asObject(e.$set),
    setOnce: asObject(e.$set_once),
    unset: e.$unset,
    offset: typeof e.offset === 'number' && Number.isFinite(e.offset) ? e.offset : undefined,
    sentAt: str(e.sent_at),
  };
}

export function parseCaptureBody(body: unknown, queryToken?: string): CaptureRequest {
  const root = asObject(body);
  const list: unknown[] = Array.isArray(body)
    ? body
    : Array.isArray(root?.batch)
      ? (root!.batch as unknown[])
      : Array.isArray(root?.data)
        ? (root!.data as unknown[])
        : root
          ? [root]
          : [];
  const events: CapturedEvent[] = [];
  let malformed = 0;
  let token = str(root?.api_key) ?? str(root?.token) ?? str(root?.$token);
  for (const item of list) {
    const event = toEvent(item);
    if (!event) {
      malformed++;
      continue;
    }
    token ??= str((item as Json).api_key) ?? str((item as Json).token) ?? str(event.properties.token);
    events.push(event);
  }
  return { token: token ?? queryToken, sentAt: str(root?.sent_at), events, malformed };
}

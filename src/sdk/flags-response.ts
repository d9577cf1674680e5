// The /flags and /decide answer bodies (docs/compatibility.md#sdk-2.3). The v2 shape — what current
// SDKs ask for — is assembled from per-flag bytes encoded once per snapshot: stringifying a fresh
// object tree (or a rope of small strings) per request cost more than evaluating the flags.
import { RESULT_MEMO, type FlagEvaluation, type ResultMemo } from '../evaluation/index.ts';
import type { ProjectSnapshot } from './snapshots.ts';
import { configKeys } from './remote-config.ts';
import { answerBuffer } from './answer-buffers.ts';

export type Endpoint = 'flags' | 'decide';

export interface Shape {
  version: number;
  withConfig: boolean;
}

const TRUTHY = new Set(['true', '1', 'yes']);

/** Response version and config keys from the query (`v`/`version`, `config`). */
export function shapeFor(endpoint: Endpoint, query: Record<string, unknown>): Shape {
  const rawV = query.v ?? query.version;
  const v = typeof rawV === 'string' && /^\d{1,4}$/.test(rawV) ? Number(rawV) : undefined;
  const config = typeof query.config === 'string' ? TRUTHY.has(query.config.toLowerCase()) : undefined;
  if (endpoint === 'decide') return { version: v ?? 1, withConfig: config ?? true };
  // PostHog: neither v nor config on /flags means v=2&config=true.
  if (v === undefined && config === undefined) return { version: 2, withConfig: true };
  return { version: v ?? 1, withConfig: config ?? false };
}

/**
 * The engine creates each distinct result once per compiled project and shares the frozen object
 * (evaluate.ts), so each result is encoded once and later answers copy the bytes.
 */
const renderedResults = new WeakMap<FlagEvaluation, Buffer>();
const configPrefixes = new WeakMap<ProjectSnapshot, Buffer>();

/** The JSON of one flag in the v2 `flags` object: `"<key>":{"key":…,"metadata":{…}}`. */
function flagJson(r: FlagEvaluation): string {
  const key = JSON.stringify(r.key);
  const variant = r.variant === null ? 'null' : JSON.stringify(r.variant);
  const payload = r.enabled && r.payload !== undefined ? JSON.stringify(r.payload) : 'null';
  const reason = `{"code":${JSON.stringify(r.reason.code)},"condition_index":${r.reason.conditionIndex === null ? 'null' : r.reason.conditionIndex},"description":${JSON.stringify(r.reason.description)}}`;
  return (
    `${key}:{"key":${key},"enabled":${r.enabled},"variant":${variant}${r.failed ? ',"failed":true' : ''},"reason":${reason},` +
    `"metadata":{"id":${r.id},"version":${r.version ?? 0},"description":null,"payload":${payload},"has_experiment":false}}`
  );
}

/** The bytes of one flag's result (results come from evaluateFlags, frozen and shared, each with its memo). */
function flagBytes(r: FlagEvaluation): Buffer {
  const memo = (r as { [RESULT_MEMO]?: ResultMemo })[RESULT_MEMO];
  if (memo) return (memo.bytes ??= Buffer.from(flagJson(r))) as Buffer;
  let bytes = renderedResults.get(r);
  if (!bytes) {
    bytes = Buffer.from(flagJson(r));
    if (Object.isFrozen(r)) renderedResults.set(r, bytes);
  }
  return bytes;
}

function configPrefix(shape: Shape, snapshot: ProjectSnapshot | undefined): Buffer {
  if (!shape.withConfig) return OPEN;
  let prefix = snapshot ? configPrefixes.get(snapshot) : undefined;
  if (!prefix) {
    const text = JSON.stringify(configKeys(snapshot));
    prefix = Buffer.from(text.length > 2 ? `${text.slice(0, -1)},` : '{');
    if (snapshot) configPrefixes.set(snapshot, prefix);
  }
  return prefix;
}

const OPEN = Buffer.from('{');
const COMMA = 0x2c;
const MIDDLE = [Buffer.from('"errorsWhileComputingFlags":false,"flags":{'), Buffer.from('"errorsWhileComputingFlags":true,"flags":{')];

function renderV2(results: FlagEvaluation[], snapshot: ProjectSnapshot | undefined, shape: Shape, requestId: string): Buffer {
  let errors = false;
  let size = 0;
  const pieces: Buffer[] = new Array(results.length);
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (r.failed) errors = true;
    const piece = flagBytes(r);
    pieces[i] = piece;
    size += piece.length;
  }
  const head = configPrefix(shape, snapshot);
  const middle = MIDDLE[errors ? 1 : 0];
  const tail = `},"requestId":${JSON.stringify(requestId)},"evaluatedAt":${Date.now()}}`;
  const tailBytes = Buffer.byteLength(tail);
  const out = answerBuffer(head.length + middle.length + size + Math.max(0, pieces.length - 1) + tailBytes);
  out.set(head, 0);
  let offset = head.length;
  out.set(middle, offset);
  offset += middle.length;
  for (let i = 0; i < pieces.length; i++) {
    if (i) out[offset++] = COMMA;
    const piece = pieces[i];
    out.set(piece, offset);
    offset += piece.length;
  }
  out.write(tail, offset);
  return out;
}

/** The answer body for these results: v2 (`/flags?v>=2`, `/decide?v>=4`) or an older shape. */
export function renderFlagsResponse(
  endpoint: Endpoint,
  shape: Shape,
  results: FlagEvaluation[],
  snapshot: ProjectSnapshot | undefined,
  requestId: string,
): Buffer | string {
  const v2 = endpoint === 'flags' ? shape.version >= 2 : shape.version >= 4;
  if (v2) return renderV2(results, snapshot, shape, requestId);
  const base = shape.withConfig ? configKeys(snapshot) : {};
  const errors = results.some((r) => r.failed);
  const value = (r: FlagEvaluation) => (r.enabled ? (r.variant ?? true) : false);
  const tail = { requestId, evaluatedAt: Date.now() };
  if (endpoint === 'decide' && shape.version <= 1) {
    return JSON.stringify({ ...base, featureFlags: results.filter((r) => r.enabled).map((r) => r.key), errorsWhileComputingFlags: errors, ...tail });
  }
  const featureFlags: Record<string, unknown> = {};
  if (endpoint === 'decide' && shape.version === 2) {
    for (const r of results) if (r.enabled) featureFlags[r.key] = value(r);
    return JSON.stringify({ ...base, featureFlags, errorsWhileComputingFlags: errors, ...tail });
  }
  const featureFlagPayloads: Record<string, unknown> = {};
  for (const r of results) {
    featureFlags[r.key] = value(r);
    if (r.enabled && r.payload !== undefined && r.payload !== null) featureFlagPayloads[r.key] = r.payload;
  }
  return JSON.stringify({ ...base, errorsWhileComputingFlags: errors, featureFlags, featureFlagPayloads, ...tail });
}

// Body decoding for SDK endpoints (/flags, /decide, capture), as PostHog's services do it:
// JSON or text (gzip by query, header or magic bytes; URL-encoded or base64 fallbacks; lenient
// NaN/Infinity) and form bodies (`data=<base64>`). The raw bytes reach this code untouched.
//
// Every step is bounded before it runs: the decoded size per endpoint (and per compressed byte),
// the nesting depth (checked on the raw bytes before JSON.parse), and the size the legacy
// fallbacks accept. Small bodies (all of /flags in practice) are decoded synchronously; larger ones
// are inflated on libuv's thread pool and parsed in pieces, so other requests keep being served.
import type { IncomingHttpHeaders } from 'node:http';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PayloadTooLargeError, ValidationError } from '../platform/errors.ts';
import { JsonTooDeepError, parseJsonBytes, parseJsonBytesSync, SYNC_PARSE_BYTES } from '../platform/bounded-json.ts';
import { addBufferParser } from '../platform/http/raw-body.ts';

const MB = 1024 * 1024;
/**
 * Largest decoded body per endpoint, PostHog capture's figures: 2 MB for one event (and for
 * /flags, which carries one person's properties), 20 MB for /batch.
 */
export const SDK_DECODED_LIMITS = { flags: 2 * MB, event: 2 * MB, batch: 20 * MB } as const;
export type SdkBodyKind = keyof typeof SDK_DECODED_LIMITS;
/** A compressed body inflates to at most this many times its size (or INFLATE_ALLOWANCE)... */
export const MAX_INFLATE_RATIO = 100;
/** ...and may always inflate to this much, whatever its size. */
export const INFLATE_ALLOWANCE = 1 * MB;
/**
 * JSON nesting accepted in SDK bodies. Far above any real event, and far below what would cost
 * JSON.parse anything; a single event nested deeper than ingestion stores (64 levels) is still
 * skipped on its own, without failing its batch.
 */
export const SDK_MAX_JSON_DEPTH = 1000;
/** Form bodies and the URL-encoded/base64 text fallbacks are tried on bodies up to this size. */
export const LEGACY_ENCODING_MAX_BYTES = 1 * MB;

export class SdkBodyError extends ValidationError {
  constructor(detail: string) {
    super(detail, 'invalid_payload', null);
  }
}

export interface SdkBodyContext {
  contentType?: string;
  contentEncoding?: string;
  /** The `compression` query parameter. */
  compression?: string;
  /** Largest decoded body accepted (SDK_DECODED_LIMITS of the endpoint). */
  limit: number;
}

/** Stateless between calls (no `stream` option): one instance serves every request. */
const UTF8 = new TextDecoder();
const JSON_OPTIONS = { maxDepth: SDK_MAX_JSON_DEPTH, lenient: true };

const isGzip = (buf: Uint8Array) => buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
const inflateLimit = (compressed: number, limit: number) => Math.min(limit, Math.max(INFLATE_ALLOWANCE, compressed * MAX_INFLATE_RATIO));
const tooDeep = () => new SdkBodyError(`The request body nests deeper than ${SDK_MAX_JSON_DEPTH} levels.`);
const inflatedTooLarge = (limit: number) => new PayloadTooLargeError(limit, `The decompressed request body exceeds the limit of ${limit} bytes.`);

// ---- the steps, run by a synchronous or an asynchronous driver -------------------------------

type Step = { inflate: Buffer; limit: number; parse?: undefined } | { parse: Uint8Array; inflate?: undefined };
type Pipeline = Generator<Step, unknown, unknown>;

/** Base64 (standard or URL-safe alphabet, padding optional, whitespace ignored) or a throw. */
function base64Decode(text: string): Buffer {
  const cleaned = /\s/.test(text) ? text.replace(/\s+/g, '') : text;
  let end = cleaned.length;
  while (end > 0 && cleaned.charCodeAt(end - 1) === 0x3d /* = */ && cleaned.length - end < 2) end--;
  for (let i = 0; i < end; i++) {
    const c = cleaned.charCodeAt(i);
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x2d || c === 0x5f;
    if (!ok) throw new SdkBodyError('The body is not valid base64.');
  }
  // Node's decoder reads both alphabets and restores the padding itself.
  return Buffer.from(end === cleaned.length ? cleaned : cleaned.slice(0, end), 'base64');
}

function safeDecodeUri(text: string): string {
  if (text.indexOf('%') < 0 && text.indexOf('+') < 0) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** The `data` field of a form body, or the whole body URL-decoded when it has none. */
function formPayload(text: string): string {
  for (const part of text.split('&')) if (part.startsWith('data=')) return safeDecodeUri(part.slice(5));
  return safeDecodeUri(text);
}

/** A parse step whose SyntaxError is handed back (undefined) rather than thrown. */
function* tryParse(bytes: Uint8Array): Generator<Step, { value: unknown } | undefined, unknown> {
  try {
    return { value: yield { parse: bytes } };
  } catch (err) {
    if (err instanceof JsonTooDeepError) throw tooDeep();
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

function* decodeJsonOrText(raw: Buffer, ctx: SdkBodyContext, compression: string | undefined): Pipeline {
  let bytes = raw;
  const gzip = compression === 'gzip' || compression === 'gzip-js' || Boolean(ctx.contentEncoding?.toLowerCase().includes('gzip')) || isGzip(raw);
  if (gzip) bytes = (yield { inflate: raw, limit: inflateLimit(raw.length, ctx.limit) }) as Buffer;
  // Invalid UTF-8 is replaced rather than rejected (TextDecoder's default).
  const json = yield* tryParse(bytes);
  if (json) return json.value;
  // Some clients send URL-encoded and/or base64 text; those fallbacks are for small bodies.
  if (bytes.length <= LEGACY_ENCODING_MAX_BYTES) {
    const text = UTF8.decode(bytes);
    const decoded = safeDecodeUri(text);
    const unescaped = decoded === text ? undefined : yield* tryParse(Buffer.from(decoded));
    if (unescaped) return unescaped.value;
    let unpacked: Buffer | undefined;
    try {
      unpacked = base64Decode(decoded);
    } catch {
      unpacked = undefined;
    }
    const fromBase64 = unpacked ? yield* tryParse(unpacked) : undefined;
    if (fromBase64) return fromBase64.value;
  }
  throw new SdkBodyError('Failed to parse the request body as JSON.');
}

function* decodeForm(raw: Buffer, ctx: SdkBodyContext, compression: string | undefined): Pipeline {
  if (compression === 'gzip' || compression === 'gzip-js') throw new SdkBodyError('Form bodies cannot be gzip-compressed.');
  const limit = Math.min(ctx.limit, LEGACY_ENCODING_MAX_BYTES);
  if (raw.length > limit) throw new PayloadTooLargeError(limit, `Form-encoded and base64 bodies are limited to ${limit} bytes; send JSON or gzip instead.`);
  const payload = formPayload(raw.toString('utf8'));
  let decoded: Buffer | undefined;
  try {
    decoded = base64Decode(payload);
  } catch {
    decoded = undefined;
  }
  if (decoded) {
    const inner = isGzip(decoded) ? ((yield { inflate: decoded, limit: inflateLimit(decoded.length, ctx.limit) }) as Buffer) : decoded;
    const parsed = yield* tryParse(inner);
    if (parsed) return parsed.value;
  }
  const plain = yield* tryParse(Buffer.from(payload));
  if (plain) return plain.value;
  throw new SdkBodyError('Failed to decode the form body.');
}

function inflateError(err: unknown, limit: number): Error {
  return (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? inflatedTooLarge(limit) : new SdkBodyError('Failed to decompress the gzip body.');
}

/** Thrown by the synchronous driver when a step would cost more than a small body's budget. */
const NEEDS_ASYNC = Symbol('needs async');

function runSync(pipeline: Pipeline): unknown {
  let input: unknown;
  let error: unknown;
  let failed = false;
  for (;;) {
    const next = failed ? pipeline.throw(error) : pipeline.next(input);
    if (next.done) return next.value;
    const step = next.value;
    failed = false;
    try {
      if (step.parse) {
        if (step.parse.length > SYNC_PARSE_BYTES) throw NEEDS_ASYNC;
        input = parseJsonBytesSync(step.parse, JSON_OPTIONS);
      } else {
        const cap = Math.min(step.limit, SYNC_PARSE_BYTES);
        if (step.inflate.length > SYNC_PARSE_BYTES) throw NEEDS_ASYNC;
        try {
          input = zlib.gunzipSync(step.inflate, { maxOutputLength: cap });
        } catch (err) {
          if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' && step.limit > cap) throw NEEDS_ASYNC;
          throw inflateError(err, step.limit);
        }
      }
    } catch (err) {
      if (err === NEEDS_ASYNC) {
        pipeline.return(undefined);
        throw err;
      }
      error = err;
      failed = true;
    }
  }
}

const gunzipAsync = (buf: Buffer, limit: number) =>
  new Promise<Buffer>((resolve, reject) => {
    zlib.gunzip(buf, { maxOutputLength: limit }, (err, out) => (err ? reject(inflateError(err, limit)) : resolve(out)));
  });

async function runAsync(pipeline: Pipeline): Promise<unknown> {
  let input: unknown;
  let error: unknown;
  let failed = false;
  for (;;) {
    const next = failed ? pipeline.throw(error) : pipeline.next(input);
    if (next.done) return next.value;
    const step = next.value;
    failed = false;
    try {
      input = step.parse ? await parseJsonBytes(step.parse, JSON_OPTIONS) : await gunzipAsync(step.inflate, step.limit);
    } catch (err) {
      error = err;
      failed = true;
    }
  }
}

/**
 * Decodes an SDK request body; an empty body decodes to undefined. Small bodies are decoded
 * synchronously (the value is returned); larger ones return a promise.
 */
export function decodeSdkBody(raw: Buffer | undefined, ctx: SdkBodyContext): unknown | Promise<unknown> {
  if (!raw || raw.length === 0) return undefined;
  const compression = ctx.compression?.toLowerCase();
  if (compression !== undefined && compression !== '' && !['gzip', 'gzip-js', 'base64'].includes(compression)) {
    throw new SdkBodyError(`Unsupported compression: ${ctx.compression}`);
  }
  const type = (ctx.contentType ?? '').split(';')[0].trim().toLowerCase();
  const form = compression === 'base64' || type === 'application/x-www-form-urlencoded';
  if (!form && type !== '' && type !== 'application/json' && type !== 'text/plain') throw new SdkBodyError(`Unsupported content type: ${type}`);
  if (raw.length > ctx.limit) throw new PayloadTooLargeError(ctx.limit);
  if (raw.length <= SYNC_PARSE_BYTES) {
    // The usual /flags body: small, plain JSON. Anything else takes the steps below.
    if (!form && !compression && !ctx.contentEncoding && !isGzip(raw)) {
      try {
        return parseJsonBytesSync(raw, JSON_OPTIONS);
      } catch (err) {
        if (err instanceof JsonTooDeepError) throw tooDeep();
      }
    }
    try {
      return runSync(form ? decodeForm(raw, ctx, compression) : decodeJsonOrText(raw, ctx, compression));
    } catch (err) {
      if (err !== NEEDS_ASYNC) throw err;
    }
  }
  return runAsync(form ? decodeForm(raw, ctx, compression) : decodeJsonOrText(raw, ctx, compression));
}

// Module-level rather than a closure per request: tsx (esbuild keepNames) names each closure it
// creates with a defineProperty call, which costs more than the lookup itself.
function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Decodes a request's raw body by its Content-Type, Content-Encoding and `compression` query. */
export function decodeSdkRequest(
  raw: Buffer | undefined,
  headers: IncomingHttpHeaders,
  query: Record<string, unknown>,
  kind: SdkBodyKind,
): unknown | Promise<unknown> {
  return decodeSdkBody(raw, {
    contentType: single(headers, 'content-type'),
    contentEncoding: single(headers, 'content-encoding'),
    compression: typeof query.compression === 'string' ? query.compression : undefined,
    limit: SDK_DECODED_LIMITS[kind],
  });
}

/** Hands every body to SDK routes as raw bytes (up to the route's limit); they decode it with decodeSdkRequest. */
export function registerRawBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  addBufferParser(app, '*', (_request, body) => body);
}

/** The raw body limit of an SDK route: its decoded limit, within the server's limit. */
export function sdkBodyLimit(serverLimit: number, kind: SdkBodyKind): number {
  return Math.min(serverLimit, SDK_DECODED_LIMITS[kind]);
}

/** Browsers call SDK endpoints cross-origin (posthog-js on the app's own domain). */
export function allowBrowserOrigin(request: FastifyRequest, reply: FastifyReply): void {
  const headers = browserOriginHeaders(request.headers.origin);
  if (headers) reply.headers(headers);
}

/** The CORS answer headers for a request's Origin (undefined without one). */
export function browserOriginHeaders(origin: string | undefined): Record<string, string> | undefined {
  return origin ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' } : undefined;
}

/** CORS preflight for SDK endpoints: 204. */
export function preflight(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  allowBrowserOrigin(request, reply);
  return reply
    .code(204)
    .header('access-control-allow-methods', 'GET, POST, OPTIONS')
    .header('access-control-allow-headers', (request.headers['access-control-request-headers'] as string | undefined) ?? '*')
    .header('access-control-max-age', '86400')
    .send();
}

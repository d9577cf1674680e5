// Body decoding for SDK endpoints (/flags, /decide, capture), as PostHog's services do it:
// JSON or text (gzip by query, header or magic bytes; URL-encoded or base64 fallbacks; lenient
// NaN/Infinity) and form bodies (`data=<base64>`). The raw bytes reach this code untouched.
import type { IncomingHttpHeaders } from 'node:http';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '../lib/errors.ts';

/** Decompressed bodies are bounded too: a gzip bomb must not take the process down. */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

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
}

/** Stateless between calls (no `stream` option): one instance serves every request. */
const UTF8 = new TextDecoder();

const isGzip = (buf: Buffer) => buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;

function gunzip(buf: Buffer): Buffer {
  try {
    return zlib.gunzipSync(buf, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch {
    throw new SdkBodyError('Failed to decompress the gzip body.');
  }
}

/** Replaces NaN/Infinity/-Infinity tokens outside strings with null (Python-style JSON). */
function neutralizeNonFinite(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
    } else if (text.startsWith('NaN', i)) {
      out += 'null';
      i += 2;
    } else if (text.startsWith('-Infinity', i)) {
      out += 'null';
      i += 8;
    } else if (text.startsWith('Infinity', i)) {
      out += 'null';
      i += 7;
    } else out += c;
  }
  return out;
}

function parseJsonLenient(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(neutralizeNonFinite(text));
  }
}

function base64Decode(text: string): Buffer {
  const cleaned = text.trim().replace(/-/g, '+').replace(/_/g, '/').replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(cleaned)) throw new SdkBodyError('The body is not valid base64.');
  return Buffer.from(cleaned + '='.repeat((4 - (cleaned.length % 4)) % 4), 'base64');
}

function safeDecodeUri(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

function decodeJsonOrText(raw: Buffer, ctx: SdkBodyContext, compression: string | undefined): unknown {
  let bytes = raw;
  if (compression === 'gzip' || compression === 'gzip-js') bytes = gunzip(bytes);
  else if (ctx.contentEncoding?.toLowerCase().includes('gzip')) bytes = gunzip(bytes);
  else if (isGzip(bytes)) bytes = gunzip(bytes);
  // Invalid UTF-8 is replaced rather than rejected (TextDecoder's default).
  const text = UTF8.decode(bytes);
  try {
    return parseJsonLenient(text);
  } catch {
    // Fall through: some clients send URL-encoded and/or base64 text.
  }
  try {
    const decoded = safeDecodeUri(text);
    try {
      return parseJsonLenient(decoded);
    } catch {
      return parseJsonLenient(UTF8.decode(base64Decode(decoded)));
    }
  } catch {
    throw new SdkBodyError('Failed to parse the request body as JSON.');
  }
}

function decodeForm(raw: Buffer, compression: string | undefined): unknown {
  if (compression === 'gzip' || compression === 'gzip-js') throw new SdkBodyError('Form bodies cannot be gzip-compressed.');
  const text = raw.toString('utf8');
  const params = new URLSearchParams(text);
  const payload = params.has('data') ? params.get('data')! : safeDecodeUri(text);
  try {
    const decoded = base64Decode(payload);
    const inner = isGzip(decoded) ? gunzip(decoded) : decoded;
    return parseJsonLenient(UTF8.decode(inner));
  } catch (err) {
    if (err instanceof SdkBodyError && err.message !== 'The body is not valid base64.') throw err;
    try {
      return parseJsonLenient(payload);
    } catch {
      throw new SdkBodyError('Failed to decode the form body.');
    }
  }
}

/** Decodes an SDK request body; an empty body decodes to undefined. */
export function decodeSdkBody(raw: Buffer | undefined, ctx: SdkBodyContext): unknown {
  if (!raw || raw.length === 0) return undefined;
  const compression = ctx.compression?.toLowerCase();
  if (compression !== undefined && compression !== '' && !['gzip', 'gzip-js', 'base64'].includes(compression)) {
    throw new SdkBodyError(`Unsupported compression: ${ctx.compression}`);
  }
  const type = (ctx.contentType ?? '').split(';')[0].trim().toLowerCase();
  if (compression === 'base64' || type === 'application/x-www-form-urlencoded') return decodeForm(raw, compression);
  if (type === '' || type === 'application/json' || type === 'text/plain') return decodeJsonOrText(raw, ctx, compression);
  throw new SdkBodyError(`Unsupported content type: ${type}`);
}

// Module-level rather than a closure per request: tsx (esbuild keepNames) names each closure it
// creates with a defineProperty call, which costs more than the lookup itself.
function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Decodes a request's raw body by its Content-Type, Content-Encoding and `compression` query. */
export function decodeSdkRequest(raw: Buffer | undefined, headers: IncomingHttpHeaders, query: Record<string, unknown>): unknown {
  return decodeSdkBody(raw, {
    contentType: single(headers, 'content-type'),
    contentEncoding: single(headers, 'content-encoding'),
    compression: typeof query.compression === 'string' ? query.compression : undefined,
  });
}

/** Hands every body to SDK routes as raw bytes; they decode it with decodeSdkRequest. */
export function registerRawBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
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

// Reading a request body into one Buffer without one large copy at the end: Fastify's own reader
// keeps the chunks and concatenates them when the body ends, which for a 20 MB body is one
// uninterrupted copy of tens of milliseconds (hundreds on a busy machine) during which nothing
// else is served. Here each chunk is copied as it arrives into a buffer sized from Content-Length;
// a body without one (chunked transfer) is joined in slices, yielding between them.
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ParseError, PayloadTooLargeError } from '../errors.ts';

/** Bytes copied between two yields when joining the chunks of a body of unknown length. */
const JOIN_SLICE_BYTES = 1024 * 1024;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function joinInSlices(chunks: Buffer[], size: number): Promise<Buffer> {
  if (size <= JOIN_SLICE_BYTES) return Buffer.concat(chunks, size);
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  let sinceYield = 0;
  for (const chunk of chunks) {
    chunk.copy(out, offset);
    offset += chunk.length;
    sinceYield += chunk.length;
    if (sinceYield >= JOIN_SLICE_BYTES) {
      sinceYield = 0;
      await yieldToEventLoop();
    }
  }
  return out;
}

/** The whole body of `payload`, refused with 413 as soon as it is known to exceed `limit`. */
export function readBody(payload: Readable, contentLength: string | undefined, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = contentLength === undefined || contentLength === '' ? NaN : Number(contentLength);
    if (declared > limit) {
      reject(new PayloadTooLargeError(limit));
      return;
    }
    const known = Number.isSafeInteger(declared) && declared >= 0;
    let body: Buffer | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const mismatch = () => new ParseError('The request body does not match its Content-Length.');
    const cleanup = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
    };
    function onData(chunk: Buffer | string): void {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (size + bytes.length > limit || (known && size + bytes.length > declared)) {
        cleanup();
        reject(size + bytes.length > limit ? new PayloadTooLargeError(limit) : mismatch());
        return;
      }
      if (known) {
        body ??= Buffer.allocUnsafe(declared);
        bytes.copy(body, size);
      } else {
        chunks.push(bytes);
      }
      size += bytes.length;
    }
    function onEnd(): void {
      cleanup();
      if (!known) {
        joinInSlices(chunks, size).then(resolve, reject);
      } else if (size !== declared) {
        reject(mismatch());
      } else {
        resolve(body ?? Buffer.alloc(0));
      }
    }
    function onError(err: Error & { statusCode?: number }): void {
      cleanup();
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      reject(err);
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  });
}

/** The body limit of the request's route (its `bodyLimit` option, else the server's). */
export function routeBodyLimit(request: FastifyRequest, fallback: number): number {
  return request.routeOptions.bodyLimit ?? fallback;
}

/**
 * A content-type parser reading the body with readBody (at most the route's limit and `maxBytes`)
 * and handing the Buffer to `parse`, whose result (or promise) becomes the request body.
 */
export function addBufferParser(
  app: FastifyInstance,
  contentType: string | string[] | RegExp,
  parse: (request: FastifyRequest, body: Buffer) => unknown,
  maxBytes = Infinity,
): void {
  app.addContentTypeParser(contentType, async (request: FastifyRequest, payload: Readable) => {
    const limit = Math.min(maxBytes, routeBodyLimit(request, app.initialConfig.bodyLimit ?? 1024 * 1024));
    return parse(request, await readBody(payload, request.headers['content-length'], limit));
  });
}

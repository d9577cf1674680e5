// The SDK hot path below Fastify: flag definitions and /flags are answered straight from the
// node:http request, because Fastify's per-request machinery (router, hooks, request logger,
// schema-checked query) cost more than the work itself (bench/README.md). It answers only what it
// can decide from memory; anything else falls through to the Fastify routes, which share the same
// functions and stay the reference (and the documentation) for these endpoints.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Services } from '../app.ts';
import { sendCohortsRequested } from './snapshots.ts';
import { browserOriginHeaders, decodeSdkRequest, sdkBodyLimit } from './body.ts';
import { answerFlagsPost, type FlagsAnswerLog } from './flags-answer.ts';
import type { Endpoint } from './flags-response.ts';
import { PayloadTooLargeError } from '../platform/errors.ts';
import { toApiError } from '../platform/http/errors.ts';

const DEFINITION_PATHS = new Set(['/flags/definitions', '/flags/definitions/', '/api/feature_flag/local_evaluation', '/api/feature_flag/local_evaluation/']);
const FLAG_PATHS = new Map<string, Endpoint>([
  ['/flags', 'flags'],
  ['/flags/', 'flags'],
  ['/decide', 'decide'],
  ['/decide/', 'decide'],
]);

/** A query string as name → last value; `+` and %-escapes decoded. */
export function parseQuery(qs: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!qs) return out;
  for (const part of qs.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    out[decode(rawName)] = decode(rawValue);
  }
  return out;
}

function decode(text: string): string {
  if (text.indexOf('%') < 0 && text.indexOf('+') < 0) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const JSON_HEADERS = ['content-type', 'application/json; charset=utf-8'];

function corsHeaders(req: IncomingMessage): Record<string, string> {
  return browserOriginHeaders(req.headers.origin) ?? NO_HEADERS;
}

/**
 * Answers finished in one event-loop turn are written together when the turn's I/O is done
 * (setImmediate runs after the poll phase). On loopback and in VMs most of a write's kernel cost
 * is waking the idle client; writing a turn's answers back to back wakes it once instead of once
 * per answer (bench/README.md: −40 % system time per /flags request under load). Under light load
 * a turn holds one answer and the delay is one event-loop hop.
 */
class WriteBatch {
  private pending: Array<{ res: ServerResponse; headers: Record<string, string> | string[]; body: Buffer | string }> = [];
  private scheduled = false;
  private readonly flush = (): void => {
    this.scheduled = false;
    const pending = this.pending;
    this.pending = [];
    for (let i = 0; i < pending.length; i++) {
      const { res, headers, body } = pending[i];
      if (res.destroyed) continue;
      try {
        res.writeHead(200, headers);
        res.end(body);
      } catch {
        // One broken socket must not cost the rest of the batch their answers.
        res.destroy();
      }
    }
  };

  write(res: ServerResponse, headers: Record<string, string> | string[], body: Buffer | string): void {
    this.pending.push({ res, headers, body });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }
}

function writeError(res: ServerResponse, err: unknown, headers: Record<string, string>, bodyLimit: number, log: FastifyBaseLogger): void {
  const apiError = toApiError(err, bodyLimit);
  if (!apiError) {
    log.error({ err }, 'unhandled error');
    res.writeHead(500, { ...headers, 'content-type': 'application/json; charset=utf-8' });
    res.end('{"type":"server_error","code":"error","detail":"A server error occurred.","attr":null}');
    return;
  }
  const body = apiError.body === null || apiError.body === undefined ? '' : JSON.stringify(apiError.body);
  res.writeHead(apiError.statusCode, { ...headers, ...apiError.headers, ...(body ? { 'content-type': 'application/json; charset=utf-8' } : {}) });
  res.end(body);
}

/** How /flags answers log what went wrong beside them (shared with the Fastify route). */
export function flagsAnswerLog(log: FastifyBaseLogger): FlagsAnswerLog {
  return {
    groupTypeRegistrationFailed: (err) => log.warn({ err }, 'group type registration failed'),
    storedDataUnavailable: (reason) => log.warn({ reason }, 'flags: stored person data could not be read; the flags that need it are answered as failed'),
  };
}

export function createHotPath(services: Services, log: FastifyBaseLogger): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { ctx, snapshots, authenticator, rateLimits } = services;
  const bodyLimit = ctx.config.bodyLimitBytes;
  // A /flags body is refused as soon as it outgrows what its decoded form may be.
  const flagsBodyLimit = sdkBodyLimit(bodyLimit, 'flags');
  const batch = new WriteBatch();
  const answerLog = flagsAnswerLog(log);

  /** GET definitions from cached credentials and a built snapshot; false: let Fastify answer. */
  function definitions(req: IncomingMessage, res: ServerResponse, qs: string): boolean {
    const authorization = req.headers.authorization;
    if (!authorization || !authorization.startsWith('Bearer ')) return false;
    const credential = authorization.slice(7).trim();
    const query = parseQuery(qs);
    const token = query.token;
    if (!token || !credential) return false;
    const snapshot = snapshots.peekForToken(token);
    if (!snapshot || !authenticator.peekDefinitionsAccess(credential, snapshot.project, snapshot.organization)) return false;
    try {
      rateLimits.checkDefinitions(snapshot.project.id);
    } catch (err) {
      writeError(res, err, {}, bodyLimit, log);
      return true;
    }
    const body = snapshot.definitions(sendCohortsRequested(query));
    if (body.notModified(req.headers['if-none-match'])) {
      res.writeHead(304, body.headers304);
      res.end();
      return true;
    }
    if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      const gz = body.gzip();
      res.writeHead(200, [...body.headers200, 'content-encoding', 'gzip', 'content-length', String(gz.length)]);
      res.end(gz);
    } else {
      res.writeHead(200, [...body.headers200, 'content-length', String(body.json.length)]);
      res.end(body.json);
    }
    return true;
  }

  function flags(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, qs: string): void {
    const chunks: Buffer[] = [];
    let size = 0;
    const headers = corsHeaders(req);
    // Too large (declared, or once it is): answered at once. The rest of the body is read and
    // dropped until Node closes the connection after the answer; destroying the socket instead
    // would reset it under the client before it can read the answer.
    let refused = Number(req.headers['content-length']) > flagsBodyLimit;
    if (refused) writeError(res, new PayloadTooLargeError(flagsBodyLimit), { ...headers, connection: 'close' }, bodyLimit, log);
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > flagsBodyLimit) {
        refused = true;
        chunks.length = 0;
        writeError(res, new PayloadTooLargeError(flagsBodyLimit), { ...headers, connection: 'close' }, bodyLimit, log);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {});
    req.on('end', () => {
      if (refused) return;
      const raw = chunks.length === 1 ? chunks[0] : chunks.length ? Buffer.concat(chunks, size) : undefined;
      const query = parseQuery(qs);
      let answer: Buffer | string | Promise<Buffer | string>;
      try {
        const body = decodeSdkRequest(raw, req.headers, query, 'flags');
        // A large body is decoded in pieces (a promise); the usual small one synchronously.
        answer =
          body instanceof Promise
            ? body.then((decoded) => answerFlagsPost(ctx, snapshots, { endpoint, body: decoded, query, headers: req.headers }, answerLog))
            : answerFlagsPost(ctx, snapshots, { endpoint, body, query, headers: req.headers }, answerLog);
      } catch (err) {
        writeError(res, err, headers, bodyLimit, log);
        return;
      }
      const answerHeaders = headers === NO_HEADERS ? JSON_HEADERS : { ...headers, 'content-type': 'application/json; charset=utf-8' };
      // Usually synchronous: a promise only when the snapshot or stored person data must be loaded.
      if (answer instanceof Promise) answer.then((a) => batch.write(res, answerHeaders, a), (err) => writeError(res, err, headers, bodyLimit, log));
      else batch.write(res, answerHeaders, answer);
    });
  }

  return (req, res) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const qs = q < 0 ? '' : url.slice(q + 1);
    if (req.method === 'GET') return DEFINITION_PATHS.has(path) && definitions(req, res, qs);
    if (req.method === 'POST') {
      const endpoint = FLAG_PATHS.get(path);
      if (!endpoint) return false;
      flags(req, res, endpoint, qs);
      return true;
    }
    return false;
  };
}

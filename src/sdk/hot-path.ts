// The SDK hot path below Fastify: flag definitions and /flags are answered straight from the
// node:http request, because Fastify's per-request machinery (router, hooks, request logger)
// costs more than the work itself (bench/README.md). It decides only what it can answer from
// memory and how the bytes are written; every other decision (query, authorization, rate limit,
// body decoding, answers, errors) is a shared function in src/sdk/decisions.ts that the Fastify
// routes call too (test/sdk/parity.test.ts). A definitions request that needs the database
// falls through to Fastify; /flags is read here whole.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { releaseAnswer } from './answer-buffers.ts';
import { browserOriginHeaders, sdkBodyLimit } from './body.ts';
import { DEFINITIONS_ACCESS, flagsAnswerLog, parseSdkQuery, type SdkDecisions } from './decisions.ts';
import type { Endpoint } from './flags-response.ts';
import type { DefinitionsAnswer } from './snapshots.ts';
import { NOT_IN_MEMORY, type AccessRequest } from '../access/authorization.ts';
import { PayloadTooLargeError } from '../platform/errors.ts';
import { errorAnswer } from '../platform/http/errors.ts';

const DEFINITION_PATHS = new Set(['/flags/definitions', '/flags/definitions/', '/api/feature_flag/local_evaluation', '/api/feature_flag/local_evaluation/']);
const FLAG_PATHS = new Map<string, Endpoint>([
  ['/flags', 'flags'],
  ['/flags/', 'flags'],
  ['/decide', 'decide'],
  ['/decide/', 'decide'],
]);

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_PARAMS: Record<string, string | undefined> = Object.freeze({});
const JSON_HEADERS = ['content-type', 'application/json; charset=utf-8'];
/** Definitions are GETs, a safe method: a session's CSRF check never refuses one (src/access/sign-in/csrf.ts). */
const noCsrfOnGet = (): void => {
  // nothing to check
};

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
  private pending: Array<{ res: ServerResponse; status: number; headers: Record<string, string> | readonly string[]; body: Buffer | string | undefined }> = [];
  private scheduled = false;
  private readonly flush = (): void => {
    this.scheduled = false;
    const pending = this.pending;
    this.pending = [];
    for (let i = 0; i < pending.length; i++) {
      const { res, status, headers, body } = pending[i];
      if (res.destroyed) continue;
      try {
        res.writeHead(status, headers as Record<string, string> | string[]);
        // Once the bytes are handed to the kernel, a /flags answer's memory can hold a later answer
        // (definitions bodies belong to their snapshot: releaseAnswer ignores them).
        if (body === undefined) res.end();
        else res.end(body, () => releaseAnswer(body));
      } catch {
        // One broken socket must not cost the rest of the batch their answers.
        res.destroy();
      }
    }
  };

  write(res: ServerResponse, status: number, headers: Record<string, string> | readonly string[], body: Buffer | string | undefined): void {
    this.pending.push({ res, status, headers, body });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }
}

export interface HotPathDeps {
  decisions: SdkDecisions;
  log: FastifyBaseLogger;
}

/** The server's first look at each request: true when it answered (or will answer) it, false to hand it to Fastify. */
export function createHotPath({ decisions, log }: HotPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const bodyLimit = decisions.bodyLimit;
  // A /flags body is refused as soon as it outgrows what its decoded form may be.
  const flagsBodyLimit = sdkBodyLimit(bodyLimit, 'flags');
  const batch = new WriteBatch();
  const answerLog = flagsAnswerLog(log);

  function writeError(res: ServerResponse, err: unknown, headers: Record<string, string>): void {
    const answer = errorAnswer(err, bodyLimit);
    if (answer.unexpected) log.error({ err }, 'unhandled error');
    res.writeHead(answer.statusCode, headers === NO_HEADERS ? answer.headers : { ...headers, ...answer.headers });
    res.end(answer.body);
  }

  function writeDefinitions(res: ServerResponse, answer: DefinitionsAnswer): void {
    // Batched like /flags answers: a server SDK's 304 is as small as the write's kernel cost is not.
    batch.write(res, answer.status, answer.headers, answer.body);
  }

  /** A definitions GET answered from memory; false: something must be read first, Fastify answers. */
  function definitions(req: IncomingMessage, res: ServerResponse, qs: string): boolean {
    let answer: ReturnType<SdkDecisions['definitions']>;
    try {
      const request: AccessRequest = {
        method: 'GET',
        headers: req.headers,
        query: parseSdkQuery(qs),
        body: undefined,
        params: NO_PARAMS,
        checkCsrf: noCsrfOnGet,
      };
      answer = decisions.definitions(request, DEFINITIONS_ACCESS, true);
    } catch (err) {
      writeError(res, err, NO_HEADERS);
      return true;
    }
    if (answer === NOT_IN_MEMORY) return false;
    if (answer instanceof Promise)
      answer.then(
        (a) => writeDefinitions(res, a),
        (err) => writeError(res, err, NO_HEADERS),
      );
    else writeDefinitions(res, answer);
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
    if (refused) writeError(res, new PayloadTooLargeError(flagsBodyLimit), { ...headers, connection: 'close' });
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > flagsBodyLimit) {
        refused = true;
        chunks.length = 0;
        writeError(res, new PayloadTooLargeError(flagsBodyLimit), { ...headers, connection: 'close' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      // An aborted upload: the socket is gone, so there is nobody to answer and nothing to log.
    });
    req.on('end', () => {
      if (refused) return;
      const raw = chunks.length === 1 ? chunks[0] : chunks.length ? Buffer.concat(chunks, size) : undefined;
      let answer: Buffer | string | Promise<Buffer | string>;
      try {
        answer = decisions.flags(endpoint, raw, req.headers, qs, answerLog);
      } catch (err) {
        writeError(res, err, headers);
        return;
      }
      const answerHeaders = headers === NO_HEADERS ? JSON_HEADERS : { ...headers, 'content-type': 'application/json; charset=utf-8' };
      // Usually synchronous: a promise only when the snapshot or stored person data must be loaded.
      if (answer instanceof Promise)
        answer.then(
          (a) => batch.write(res, 200, answerHeaders, a),
          (err) => writeError(res, err, headers),
        );
      else batch.write(res, 200, answerHeaders, answer);
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

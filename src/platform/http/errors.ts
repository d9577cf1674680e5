// One error handler for every route: PostHog's envelope for API errors, parse errors, oversized
// bodies, unknown routes (404) and wrong methods (405); anything unexpected is logged and hidden.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { z } from 'zod';
import {
  ApiError,
  MethodNotAllowedError,
  NotFoundError,
  ParseError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../errors.ts';
import { databaseFailure, pgErrorCode, racedCheckError } from '../db/errors.ts';
import { validationErrorFromZod } from './drf.ts';

export function sendApiError(reply: FastifyReply, error: ApiError): FastifyReply {
  return sendErrorAnswer(reply, apiErrorAnswer(error));
}

/** An error as written to the client: the same bytes from Fastify and from the SDK hot path. */
export interface ErrorAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const SERVER_ERROR: ErrorAnswer = {
  statusCode: 500,
  headers: { 'content-type': JSON_TYPE },
  body: '{"type":"server_error","code":"error","detail":"A server error occurred.","attr":null}',
};

function apiErrorAnswer(error: ApiError): ErrorAnswer {
  if (error.body === null || error.body === undefined) return { statusCode: error.statusCode, headers: error.headers, body: '' };
  return { statusCode: error.statusCode, headers: { ...error.headers, 'content-type': JSON_TYPE }, body: JSON.stringify(error.body) };
}

/** The answer to any thrown value; `unexpected` ones (a 500) are for the caller to log. */
export function errorAnswer(error: unknown, bodyLimit: number, contentType?: string): ErrorAnswer & { unexpected: boolean } {
  const apiError = toApiError(error, bodyLimit, contentType);
  return apiError ? { ...apiErrorAnswer(apiError), unexpected: false } : { ...SERVER_ERROR, unexpected: true };
}

function sendErrorAnswer(reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  reply.code(answer.statusCode).headers(answer.headers);
  return answer.body ? reply.send(answer.body) : reply.send();
}

/** The request's content type as DRF names it in a 415 (the whole header, bounded). */
const mediaTypeOf = (contentType: string | undefined): string => (contentType ? contentType.slice(0, 200) : 'unknown');

/** Maps any thrown value to the ApiError the client sees; `contentType` is the request's header. */
export function toApiError(error: unknown, bodyLimit: number, contentType?: string): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof z.ZodError) return validationErrorFromZod(error);
  const fe = error as FastifyError & { validation?: unknown };
  if (fe.validation && fe.statusCode === 400) {
    return new ValidationError(fe.message, 'invalid_input');
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ParseError(
        `JSON parse error - ${fe.message.replace(/^Body is not valid JSON but content-type is set to 'application\/json'$/, 'invalid JSON')}`,
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError(bodyLimit);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new UnsupportedMediaTypeError(mediaTypeOf(contentType));
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new NotFoundError();
    default:
      break;
  }
  if (error instanceof SyntaxError && fe.statusCode === 400) return new ParseError(`JSON parse error - ${error.message}`);
  // The database is down, hung or too slow: a 503 the client may retry, not a 500 that hides it.
  const failure = databaseFailure(error);
  if (failure) {
    return new ServiceUnavailableError(
      failure.kind === 'timeout' ? 'The database did not answer in time. Please retry.' : 'The database is unavailable right now. Please retry.',
    );
  }
  const dbCode = pgErrorCode(error);
  if (dbCode && (/^22/.test(dbCode) || dbCode === '54000')) {
    // Data exceptions (bad text encoding, out-of-range numbers) and values too large to index
    // come from client input.
    return new ValidationError('Invalid input: the value could not be stored.', 'invalid_input');
  }
  const raced = racedCheckError(error);
  if (raced) return raced;
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ValidationError(fe.message, 'invalid_input');
  }
  return undefined;
}

export async function errorsPlugin(app: FastifyInstance, opts: { bodyLimit: number }): Promise<void> {
  app.setErrorHandler((error, request, reply) => {
    const answer = errorAnswer(error, opts.bodyLimit, request.headers['content-type']);
    if (answer.unexpected) request.log.error({ err: error }, 'unhandled error');
    return sendErrorAnswer(reply, answer);
  });

  app.setNotFoundHandler((_request, reply) => sendApiError(reply, new NotFoundError()));
}

const ALL_METHODS: HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Collects every route's methods, then (via `install`) answers the missing methods of each path
 * with 405 in PostHog's envelope; fastify itself would answer 404.
 */
export function methodNotAllowedRoutes(app: FastifyInstance) {
  const methodsByUrl = new Map<string, Set<string>>();
  let installing = false;
  app.addHook('onRoute', (route) => {
    if (installing) return;
    const set = methodsByUrl.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) set.add(String(m).toUpperCase());
    methodsByUrl.set(route.url, set);
  });
  return async function install(instance: FastifyInstance): Promise<void> {
    installing = true;
    for (const [url, methods] of methodsByUrl) {
      if (url === '*' || url.endsWith('*')) continue;
      const missing = ALL_METHODS.filter((m) => !methods.has(m));
      if (!missing.length) continue;
      const allow = [...methods]
        .filter((m) => m !== 'HEAD')
        .concat(methods.has('GET') ? ['HEAD'] : [])
        .join(', ');
      instance.route({
        method: missing,
        url,
        schema: { hide: true },
        handler: async (request: FastifyRequest, reply: FastifyReply) => {
          if (request.method === 'OPTIONS') return reply.code(200).header('allow', `${allow}, OPTIONS`).send();
          throw new MethodNotAllowedError(request.method);
        },
      });
    }
  };
}

// OFREP endpoints: POST /ofrep/v1/evaluate/flags/{key} (one flag) and /ofrep/v1/evaluate/flags
// (all flags, with an ETag), authenticated with the project token and answered by the /flags
// engine from the project snapshot (docs/compatibility.md#ofrep). Errors use OFREP's bodies.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { allowBrowserOrigin, decodeSdkRequest, preflight, SdkBodyError, sdkBodyLimit } from './body.ts';
import { serviceValidated } from '../platform/http/openapi.ts';
import { toApiError } from '../platform/http/errors.ts';
import { AuthenticationFailedError, MethodNotAllowedError, NotAuthenticatedError } from '../platform/errors.ts';
import { bulkAnswer, disabledResult, etagMatches, OfrepError, ofrepResult, parseOfrepRequest } from './ofrep.ts';
import { evaluateRemote, unseenGroupTypes, type ParsedFlagsRequest } from './remote-evaluation.ts';
import type { ProjectSnapshot, SnapshotStore } from './snapshots.ts';
import type { AppContext } from '../platform/context.ts';
import type { FlagEvaluation } from '../evaluation/index.ts';
import { ensureGroupTypes } from '../groups/service.ts';
import { flagsAnswerLog } from './decisions.ts';

const Context = z
  .looseObject({
    targetingKey: z.string().meta({ description: 'The distinct id' }),
    groups: z
      .record(z.string(), z.union([z.string(), z.number()]))
      .optional()
      .meta({ description: 'Group type → group key, as /flags `groups`' }),
    groupProperties: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .optional()
      .meta({ description: 'Group type → properties, as /flags `group_properties`' }),
  })
  .meta({ description: 'Every other field is a person property.' });
const EvaluationRequest = z.object({ context: Context }).meta({ id: 'OfrepEvaluationRequest' });
const Metadata = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const Success = z
  .object({
    key: z.string(),
    value: z.union([z.boolean(), z.string()]).meta({ description: 'The variant of a multivariate flag, else true; false when off' }),
    reason: z.enum(['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'DEFAULT']),
    variant: z.string().optional(),
    metadata: Metadata,
  })
  .meta({ id: 'OfrepEvaluationSuccess' });
const Failure = z
  .object({
    key: z.string(),
    errorCode: z.enum(['PARSE_ERROR', 'TARGETING_KEY_MISSING', 'INVALID_CONTEXT', 'GENERAL', 'FLAG_NOT_FOUND']),
    errorDetails: z.string(),
    metadata: Metadata.optional(),
  })
  .meta({ id: 'OfrepEvaluationFailure' });
const BulkFailure = z.object({ errorCode: z.string(), errorDetails: z.string() }).meta({ id: 'OfrepBulkEvaluationFailure' });
const GeneralError = z.object({ errorDetails: z.string() }).meta({ id: 'OfrepGeneralError' });
const Headers = serviceValidated(
  z.looseObject({
    authorization: z.string().optional().meta({ description: 'Bearer <project API token (phc_…)>' }),
    'x-api-key': z.string().optional().meta({ description: 'The project API token, when Authorization is not sent' }),
  }),
);
const BulkHeaders = serviceValidated(
  z.looseObject({
    authorization: z.string().optional().meta({ description: 'Bearer <project API token (phc_…)>' }),
    'x-api-key': z.string().optional().meta({ description: 'The project API token, when Authorization is not sent' }),
    'if-none-match': z.string().optional().meta({ description: 'The ETag of an earlier answer: 304 while it is still the answer' }),
  }),
);
const Key = z.object({ key: z.string().meta({ description: 'Flag key' }) });

const single = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** The project token from `Authorization: Bearer …` or `X-API-Key` (the providers send whichever headers they are given). */
function tokenOf(request: FastifyRequest): string {
  const authorization = single(request.headers.authorization)?.trim();
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = bearer ?? single(request.headers['x-api-key'])?.trim();
  if (!token) throw new NotAuthenticatedError('Send the project API token as "Authorization: Bearer <token>" or "X-API-Key: <token>".');
  return token;
}

const unknownToken = () => new AuthenticationFailedError('Project API key invalid. You can find your project API key in your PostHog project settings.');

interface Evaluated {
  snapshot: ProjectSnapshot;
  results: FlagEvaluation[];
}

/** OFREP renders every error itself: its bodies, not PostHog's envelope. */
function ofrepErrorHandler(withKey: boolean) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    allowBrowserOrigin(request, reply);
    const key = withKey ? (request.params as { key?: string }).key : undefined;
    if (error instanceof OfrepError) {
      const body = { errorCode: error.errorCode, errorDetails: error.errorDetails };
      return reply.code(error.statusCode).send(key === undefined ? body : { key, ...body });
    }
    if (error instanceof SdkBodyError) {
      const body = { errorCode: 'PARSE_ERROR', errorDetails: error.message };
      return reply.code(400).send(key === undefined ? body : { key, ...body });
    }
    const apiError = toApiError(error, 0);
    if (apiError) return reply.code(apiError.statusCode).headers(apiError.headers).send({ errorDetails: apiError.message });
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ errorDetails: 'An internal error occurred while evaluating flags.' });
  };
}

export async function ofrepRoutes(app: FastifyInstance, opts: { ctx: AppContext; snapshots: SnapshotStore }): Promise<void> {
  const { ctx, snapshots } = opts;
  const bodyLimit = sdkBodyLimit(ctx.config.bodyLimitBytes, 'flags');

  /** Authenticates, decodes and evaluates, through the same functions as /flags. */
  async function evaluate(request: FastifyRequest, flagKey: string | undefined): Promise<Evaluated & { parsed: ParsedFlagsRequest }> {
    const token = tokenOf(request);
    const snapshot = snapshots.peekForToken(token) ?? (await snapshots.forToken(token));
    if (!snapshot) throw unknownToken();
    const decoded = await decodeSdkRequest(request.body as Buffer | undefined, request.headers, {}, 'flags');
    const headers = request.headers;
    const parsed = parseOfrepRequest(decoded, flagKey, {
      query: {},
      userAgent: single(headers['user-agent']),
      hasBrowserHeaders: Boolean(headers.origin || headers.referer || headers['sec-fetch-mode'] || headers['sec-fetch-site']),
    });
    const log = flagsAnswerLog(request.log);
    const unseen = unseenGroupTypes(snapshot, parsed.evaluation);
    if (unseen.length) ensureGroupTypes(ctx, snapshot.project.id, unseen).catch((err: unknown) => log.groupTypeRegistrationFailed(err));
    const results = await evaluateRemote(ctx, snapshot, parsed.evaluation, (code) => log.storedDataUnavailable(code));
    snapshot.usage.flagsEvaluated += results.length;
    return { snapshot, results, parsed };
  }

  const cors = async (request: FastifyRequest, reply: FastifyReply) => allowBrowserOrigin(request, reply);
  const tags = ['ofrep'];
  const security: Array<Record<string, string[]>> = [{ OfrepBearer: [] }, { OfrepApiKey: [] }];

  app.post(
    '/ofrep/v1/evaluate/flags/:key',
    {
      bodyLimit,
      onRequest: cors,
      errorHandler: ofrepErrorHandler(true),
      schema: {
        tags,
        summary: 'Evaluate one flag (OpenFeature Remote Evaluation Protocol)',
        params: Key,
        headers: Headers,
        body: serviceValidated(EvaluationRequest),
        security,
        response: { 200: Success, 400: Failure, 401: GeneralError, 404: Failure, 413: GeneralError, 503: Failure },
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const { snapshot, results } = await evaluate(request, key);
      const result = results.find((r) => r.key === key);
      // A flag whose stored data could not be read: OFREP's failure body with 503, a server-side
      // failure to retry, as the rest of the API answers a database outage (docs/compatibility.md#ofrep-7).
      if (result) return reply.code(result.failed ? 503 : 200).send(ofrepResult(result, snapshot));
      const index = snapshot.compiled.flagIndexByKey.get(key);
      const flag = index === undefined ? undefined : snapshot.compiled.flags[index];
      if (flag && !flag.active) return reply.send(disabledResult(flag));
      throw new OfrepError('FLAG_NOT_FOUND', `Flag '${key}' was not found.`);
    },
  );

  app.post(
    '/ofrep/v1/evaluate/flags',
    {
      bodyLimit,
      onRequest: cors,
      errorHandler: ofrepErrorHandler(false),
      schema: {
        tags,
        summary: 'Evaluate every flag (OpenFeature Remote Evaluation Protocol); 304 while If-None-Match names the answer',
        headers: BulkHeaders,
        body: serviceValidated(EvaluationRequest),
        security,
        response: {
          200: z.object({ flags: z.array(z.union([Success, Failure])) }).meta({ id: 'OfrepBulkEvaluationSuccess' }),
          304: z.null().meta({ description: 'Not modified: the ETag named by If-None-Match is still the answer' }),
          400: BulkFailure,
          401: GeneralError,
          413: GeneralError,
        },
      },
    },
    async (request, reply) => {
      const { snapshot, results } = await evaluate(request, undefined);
      const { body, etag } = bulkAnswer(results, snapshot);
      reply.header('etag', etag).header('access-control-expose-headers', 'ETag');
      if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );

  for (const url of ['/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/:key']) {
    app.options(url, { schema: { hide: true } }, async (request, reply) => preflight(request, reply));
    app.route({
      method: ['GET', 'PUT', 'PATCH', 'DELETE'],
      url,
      schema: { hide: true },
      handler: async (request) => {
        throw new MethodNotAllowedError(request.method);
      },
    });
  }
}

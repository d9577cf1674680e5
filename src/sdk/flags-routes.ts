// Remote evaluation endpoints: /flags (v2 and legacy shapes) and /decide v1–v4, with PostHog's
// GET/HEAD/OPTIONS behaviour, body decoding and config keys. No database on the common path.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { allowBrowserOrigin, preflight, sdkBodyLimit } from './body.ts';
import { serviceValidated } from '../platform/http/openapi.ts';
import { answerFlagsGet } from './flags-answer.ts';
import { flagsAnswerLog, parseSdkQuery, queryStringOf, type SdkDecisions } from './decisions.ts';
import type { Endpoint } from './flags-response.ts';
import { MethodNotAllowedError } from '../platform/errors.ts';

// Documentation only: src/sdk/decisions.ts parses the query on both paths.
const FlagsQuery = serviceValidated(
  z.looseObject({
    v: z.string().optional().meta({ description: 'Response version: 2 (default) or 1 for the legacy shape' }),
    config: z.string().optional().meta({ description: 'Include remote-config keys' }),
    compression: z.string().optional().meta({ description: 'gzip, gzip-js or base64' }),
    only_evaluate_survey_feature_flags: z.string().optional(),
  }),
);

const FlagsBodyDoc = z
  .object({
    token: z.string().optional(),
    api_key: z.string().optional(),
    distinct_id: z.union([z.string(), z.number()]),
    groups: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    person_properties: z.record(z.string(), z.unknown()).optional(),
    group_properties: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    flag_keys_to_evaluate: z.array(z.string()).optional(),
    $anon_distinct_id: z.string().optional(),
    $device_id: z.string().optional(),
    evaluation_contexts: z.array(z.string()).optional(),
    evaluation_runtime: z.enum(['server', 'client']).optional(),
    disable_flags: z.boolean().optional(),
    geoip_disable: z.boolean().optional(),
  })
  .meta({ id: 'FlagsRequest', description: 'Also accepted gzip-compressed, base64 and as a form field `data=`.' });

export async function sdkFlagsRoutes(app: FastifyInstance, opts: { decisions: SdkDecisions }): Promise<void> {
  const { decisions } = opts;

  // src/sdk/hot-path.ts answers these POSTs on a listening server; app.inject() reaches this
  // route, which calls the same decisions and documents the endpoint.
  const handlePost = (endpoint: Endpoint) => async (request: FastifyRequest, reply: FastifyReply) => {
    const text = await decisions.flags(endpoint, request.body as Buffer | undefined, request.headers, queryStringOf(request.url), flagsAnswerLog(request.log));
    return reply.type('application/json; charset=utf-8').send(text);
  };

  const handleGet = (endpoint: Endpoint) => async (request: FastifyRequest, reply: FastifyReply) => {
    const query = parseSdkQuery(queryStringOf(request.url));
    return reply.type('application/json; charset=utf-8').send(answerFlagsGet(endpoint, query, request.headers));
  };

  // Before anything can fail (a body over the limit included): a browser must be able to read error answers too.
  const cors = async (request: FastifyRequest, reply: FastifyReply) => allowBrowserOrigin(request, reply);

  for (const endpoint of ['flags', 'decide'] as const) {
    const url = `/${endpoint}`;
    const tags = ['sdk'];
    app.post(
      url,
      {
        bodyLimit: sdkBodyLimit(decisions.bodyLimit, 'flags'),
        onRequest: cors,
        schema: {
          tags,
          summary: endpoint === 'flags' ? 'Evaluate flags for a person (PostHog /flags)' : 'Legacy remote evaluation (PostHog /decide)',
          querystring: FlagsQuery,
          body: serviceValidated(FlagsBodyDoc),
          security: [],
        },
      },
      handlePost(endpoint),
    );
    app.get(url, { onRequest: cors, schema: { tags, summary: 'Minimal config with no flags', querystring: FlagsQuery, security: [] } }, handleGet(endpoint));
    app.options(url, { schema: { hide: true } }, async (request, reply) => preflight(request, reply));
    app.route({
      method: ['PUT', 'PATCH', 'DELETE'],
      url,
      schema: { hide: true },
      handler: async (request) => {
        throw new MethodNotAllowedError(request.method);
      },
    });
  }
}

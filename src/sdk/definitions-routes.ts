// Local-evaluation definitions for server SDKs: /flags/definitions, /api/feature_flag/local_evaluation
// and /api/projects/:id/feature_flags/local_evaluation. Served from the in-memory snapshot as a
// pre-serialised Buffer (or its gzip) with a weak ETag; a matching If-None-Match gets 304.
// src/sdk/hot-path.ts answers what it can from memory before Fastify; both call src/sdk/decisions.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { accessRequest as fastifyAccessRequest } from '../access/auth-hook.ts';
import type { RouteAccess } from '../access/authorization.ts';
import { serviceValidated } from '../platform/http/openapi.ts';
import { preflight } from './body.ts';
import { DEFINITIONS_ACCESS, parseSdkQuery, PROJECT_DEFINITIONS_ACCESS, queryStringOf, type SdkDecisions } from './decisions.ts';
import type { DefinitionsAnswer } from './snapshots.ts';

const DefinitionsQuery = serviceValidated(
  z.looseObject({
    token: z.string().optional().meta({ description: 'Project API token (phc_…)' }),
    send_cohorts: z.string().optional().meta({ description: 'Present (even empty) to receive cohort definitions instead of expanded conditions' }),
  }),
);

const DefinitionsSchema = z
  .object({
    flags: z.array(z.record(z.string(), z.unknown())),
    group_type_mapping: z.record(z.string(), z.string()),
    cohorts: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'LocalEvaluationDefinitions' });

export async function sdkDefinitionsRoutes(app: FastifyInstance, opts: { decisions: SdkDecisions }): Promise<void> {
  const { authenticator } = app.services;
  const { decisions } = opts;

  const handler = (access: RouteAccess) => async (request: FastifyRequest, reply: FastifyReply) => {
    // GET bodies carry no credentials; the query is the SDK endpoints' own parse (src/sdk/decisions.ts).
    const query = parseSdkQuery(queryStringOf(request.url));
    const accessRequest = { ...fastifyAccessRequest(request, authenticator.publicUrl), query, body: undefined };
    const answer = (await decisions.definitions(accessRequest, access, false)) as DefinitionsAnswer;
    reply.code(answer.status);
    for (let i = 0; i < answer.headers.length; i += 2) reply.header(answer.headers[i], answer.headers[i + 1]);
    return reply.send(answer.body);
  };

  const schema = (summary: string, params?: z.ZodType) => ({
    tags: ['sdk'],
    summary,
    querystring: DefinitionsQuery,
    ...(params ? { params } : {}),
    response: { 200: DefinitionsSchema, 304: z.null().meta({ description: 'Not modified (If-None-Match matched the ETag)' }) },
  });

  for (const url of ['/flags/definitions', '/api/feature_flag/local_evaluation']) {
    app.get(url, { schema: schema('Flag definitions for local evaluation (project secret or personal API key)') }, handler(DEFINITIONS_ACCESS));
    app.options(url, { schema: { hide: true } }, async (request, reply) => preflight(request, reply));
  }
  app.get(
    '/api/projects/:project_id/feature_flags/local_evaluation',
    {
      schema: schema('Flag definitions for local evaluation of one project', z.object({ project_id: z.string() })),
    },
    handler(PROJECT_DEFINITIONS_ACCESS),
  );
}

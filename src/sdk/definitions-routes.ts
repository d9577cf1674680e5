// Local-evaluation definitions for server SDKs: /flags/definitions, /api/feature_flag/local_evaluation
// and /api/projects/:id/feature_flags/local_evaluation. Served from the in-memory snapshot as a
// pre-serialised Buffer (or its gzip) with a weak ETag; a matching If-None-Match gets 304.
// src/sdk/hot-path.ts answers the common case before Fastify; this route does everything else.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authenticate } from '../access/auth-hook.ts';
import { preflight } from './body.ts';
import { sendCohortsRequested, type ProjectSnapshot, type SnapshotStore } from './snapshots.ts';
import { AuthenticationFailedError, NotFoundError } from '../platform/errors.ts';

type Json = Record<string, unknown>;

const DefinitionsQuery = z.looseObject({
  token: z.string().optional().meta({ description: 'Project API token (phc_…)' }),
  send_cohorts: z.string().optional().meta({ description: 'Present (even empty) to receive cohort definitions instead of expanded conditions' }),
});

const DefinitionsSchema = z
  .object({
    flags: z.array(z.record(z.string(), z.unknown())),
    group_type_mapping: z.record(z.string(), z.string()),
    cohorts: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'LocalEvaluationDefinitions' });

export async function sdkDefinitionsRoutes(app: FastifyInstance, opts: { snapshots: SnapshotStore }): Promise<void> {
  const { authenticator, rateLimits } = app.services;
  const { snapshots } = opts;

  async function snapshotFor(request: FastifyRequest, principal: Awaited<ReturnType<typeof authenticate>>): Promise<ProjectSnapshot> {
    const query = request.query as Json;
    const token = typeof query.token === 'string' && query.token !== '' ? query.token : undefined;
    if (token) {
      const snapshot = await snapshots.forToken(token);
      if (!snapshot) throw new AuthenticationFailedError('Incorrect authentication credentials.');
      return snapshot;
    }
    const param = (request.params as { project_id?: string }).project_id;
    let projectId: number | undefined;
    if (param !== undefined && param !== '@current') {
      if (!/^\d{1,9}$/.test(param)) throw new NotFoundError('Project not found.');
      projectId = Number(param);
    } else if (principal.kind === 'project_secret') {
      projectId = principal.project.id;
    } else {
      projectId = principal.user.currentProjectId ?? undefined;
      if (projectId === undefined) throw new AuthenticationFailedError('This endpoint requires a current project to be set on your account.');
    }
    const snapshot = await snapshots.forProject(projectId);
    if (!snapshot) throw new NotFoundError('Project not found.');
    return snapshot;
  }

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = await authenticate(authenticator, request);
    const snapshot = await snapshotFor(request, principal);
    await authenticator.authorizeProject(principal, snapshot.project, snapshot.organization, { scope: 'feature_flag:read', projectSecret: true });
    rateLimits.checkDefinitions(snapshot.project.id);
    const body = snapshot.definitions(sendCohortsRequested(request.query as Json));
    reply.header('etag', body.weakEtag).header('cache-control', 'private, must-revalidate').header('vary', 'Accept-Encoding');
    if (body.notModified(request.headers['if-none-match'])) return reply.code(304).send();
    reply.type('application/json');
    if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
      return reply.header('content-encoding', 'gzip').send(body.gzip());
    }
    return reply.send(body.json);
  };

  const schema = (summary: string, params?: z.ZodType) => ({
    tags: ['sdk'],
    summary,
    querystring: DefinitionsQuery,
    ...(params ? { params } : {}),
    response: { 200: DefinitionsSchema, 304: z.null().meta({ description: 'Not modified (If-None-Match matched the ETag)' }) },
  });

  for (const url of ['/flags/definitions', '/api/feature_flag/local_evaluation']) {
    app.get(url, { schema: schema('Flag definitions for local evaluation (project secret or personal API key)') }, handler);
    app.options(url, { schema: { hide: true } }, async (request, reply) => preflight(request, reply));
  }
  app.get('/api/projects/:project_id/feature_flags/local_evaluation', {
    schema: schema('Flag definitions for local evaluation of one project', z.object({ project_id: z.string() })),
  }, handler);
}

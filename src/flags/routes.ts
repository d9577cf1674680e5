// /api/projects/:project_id/feature_flags/… and the legacy /api/feature_flag/…: list, create,
// retrieve, update, soft delete (DELETE is 405), activity, status, bulk_keys; the tools in tools-routes.ts.
// Writes take JSON, urlencoded or multipart bodies.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { addBufferParser } from '../platform/http/raw-body.ts';
import { parseMultipart } from '../platform/http/multipart.ts';
import { isFormContentType } from '../platform/http/body-parsers.ts';
import { FORM_LIST_FIELDS } from './legacy-body.ts';
import type { RouteAccess } from '../access/auth-hook.ts';
import { FeatureFlagSchema } from './schemas.ts';
import { FeatureFlagWriteBody } from './write-schema.ts';
import { ProjectParams, paginatedSchema, idParam } from '../platform/http/common-schemas.ts';
import { createFlag, getFlag, updateFlagById } from './service.ts';
import { listFlagsPage } from './list.ts';
import { bulkKeys, remoteConfigPayload, statusOfFlag } from './actions.ts';
import { evaluationReasons } from './evaluation-reasons.ts';
import { ActivityPageSchema, ActivityQuerySchema, activityPage } from '../activity/service.ts';
import { findFlag } from './repository.ts';
import { absoluteUrl, absolutePathUrl } from '../platform/pagination.ts';
import { serviceValidated, type ZodFastify } from '../platform/http/openapi.ts';
import { requireProject } from '../access/require-auth.ts';
import { RawError } from '../platform/errors.ts';
import { flagToolRoutes } from './tools-routes.ts';

export interface FlagRoutesOptions {
  /** Path the routes hang from (not `prefix`: Fastify reserves that option). */
  base: string;
  project: RouteAccess['project'];
}

const ListQuery = z.looseObject({
  active: z.string().optional().meta({ description: '"true", "false" or "STALE"' }),
  created_by_id: z.string().optional(),
  search: z.string().optional().meta({ description: 'Case-insensitive substring of key or name' }),
  type: z.string().optional().meta({ description: 'boolean, multivariant, experiment or remote_config' }),
  evaluation_runtime: z.string().optional(),
  tags: z.string().optional().meta({ description: 'JSON array of tag names (any of)' }),
  excluded_properties: z.string().optional().meta({ description: 'JSON array of flag keys to exclude' }),
  has_evaluation_tags: z.string().optional(),
  order: z.string().optional().meta({ description: 'Field to order by, "-" prefix for descending (default -created_at)' }),
  limit: z.string().optional(),
  offset: z.string().optional(),
});

const IdParams = z.object({ id: z.string().meta({ description: 'Feature flag id' }) });
const StatusSchema = z.object({ status: z.enum(['active', 'stale', 'deleted', 'unknown']), reason: z.string() }).meta({ id: 'FeatureFlagStatus' });
const BulkKeysBody = z.object({ ids: z.array(z.union([z.number().int(), z.string()])).optional() });
const EvaluationReasonsSchema = z
  .record(
    z.string(),
    z.object({ value: z.union([z.boolean(), z.string()]), evaluation: z.object({ reason: z.string(), condition_index: z.number().int().nullable() }) }),
  )
  .meta({ id: 'EvaluationReasons' });
const BulkKeysSchema = z.object({ keys: z.record(z.string(), z.string()), warning: z.string().optional() });

/** Writes accept form data as DRF does: JSON fields as text (docs/compatibility.md#api-1.3). */
const formOf = (request: FastifyRequest) => ({ form: isFormContentType(request.headers['content-type']) });
const MULTIPART_FIELDS = { listFields: new Set<string>(FORM_LIST_FIELDS), fileFields: new Set<string>() };

export async function featureFlagRoutes(app: ZodFastify, opts: FlagRoutesOptions): Promise<void> {
  const { ctx } = app.services;
  addBufferParser(app, 'multipart/form-data', (request, body) => parseMultipart(body, request.headers['content-type'] ?? '', MULTIPART_FIELDS));
  // Fastify warns about a `params` key holding undefined: leave the key out on the legacy path.
  const params = opts.project === 'param' ? { params: ProjectParams } : {};
  const withId = opts.project === 'param' ? ProjectParams.extend(IdParams.shape) : IdParams;
  const access = (scope: string | null, extra: Partial<RouteAccess> = {}): { access: RouteAccess } => ({
    access: { scope, project: opts.project, ...extra },
  });
  const tags = [opts.project === 'param' ? 'feature_flags' : 'feature_flags (legacy path)'];
  const base = opts.base;
  await flagToolRoutes(app, opts);

  app.get(
    `${base}`,
    {
      config: access('feature_flag:read'),
      schema: { tags, summary: 'List feature flags', ...params, querystring: ListQuery, response: { 200: paginatedSchema(FeatureFlagSchema) } },
    },
    async (request) => listFlagsPage(ctx, request.auth, request.query, absoluteUrl(request, ctx.config.publicUrl)),
  );

  app.post(
    `${base}`,
    {
      config: access('feature_flag:write'),
      schema: { tags, summary: 'Create a feature flag', ...params, body: FeatureFlagWriteBody, response: { 201: FeatureFlagSchema } },
    },
    async (request, reply) => reply.code(201).send(await createFlag(ctx, request.auth, request.body, formOf(request))),
  );

  app.get(
    `${base}/activity`,
    {
      config: access('activity_log:read'),
      schema: { tags, summary: 'Activity of every flag in the project', ...params, querystring: ActivityQuerySchema, response: { 200: ActivityPageSchema } },
    },
    async (request) =>
      activityPage(ctx, { projectId: requireProject(request.auth).id, scope: 'FeatureFlag' }, request.query, absolutePathUrl(request, ctx.config.publicUrl)),
  );

  app.post(
    `${base}/bulk_keys`,
    {
      config: access(null),
      schema: { tags, summary: 'Map flag ids to keys', ...params, body: serviceValidated(BulkKeysBody), response: { 200: BulkKeysSchema } },
    },
    async (request) => bulkKeys(ctx, requireProject(request.auth).id, request.body),
  );

  app.get(
    `${base}/evaluation_reasons`,
    {
      config: access(null),
      schema: {
        tags,
        summary: 'Evaluate every flag for one distinct id, with reasons',
        ...params,
        querystring: z.looseObject({
          distinct_id: z.string().optional(),
          groups: z.string().optional().meta({ description: 'JSON object of group type → key' }),
        }),
        response: { 200: EvaluationReasonsSchema },
      },
    },
    async (request) => evaluationReasons(ctx, app.services.snapshots, requireProject(request.auth).id, request.query),
  );

  app.get(
    `${base}/:id/remote_config`,
    {
      config: access('feature_flag:read', { projectSecret: true, rateLimit: 'remote_config' }),
      schema: {
        tags,
        summary: 'The decrypted payload of a remote-configuration flag (by id or key)',
        params: withId,
        response: { 200: z.unknown().meta({ description: 'The stored "true" payload: usually a JSON string' }) },
      },
    },
    async (request, reply) => {
      const payload = await remoteConfigPayload(ctx, requireProject(request.auth).id, request.params.id);
      return reply.type('application/json').send(JSON.stringify(payload));
    },
  );

  app.get(
    `${base}/:id`,
    {
      config: access('feature_flag:read'),
      schema: { tags, summary: 'Retrieve a feature flag (soft-deleted ones too)', params: withId, response: { 200: FeatureFlagSchema } },
    },
    async (request) => getFlag(ctx, request.auth, idParam(request.params.id)),
  );

  app.patch(
    `${base}/:id`,
    {
      config: access('feature_flag:write'),
      schema: {
        tags,
        summary: 'Update a feature flag; {"deleted": true} soft-deletes, {"deleted": false} restores',
        params: withId,
        body: FeatureFlagWriteBody,
        response: { 200: FeatureFlagSchema },
      },
    },
    async (request) => updateFlagById(ctx, request.auth, idParam(request.params.id), request.body, 'partial_update', formOf(request)),
  );

  app.put(
    `${base}/:id`,
    {
      config: access('feature_flag:write'),
      schema: { tags, summary: 'Replace a feature flag', params: withId, body: FeatureFlagWriteBody, response: { 200: FeatureFlagSchema } },
    },
    async (request) => updateFlagById(ctx, request.auth, idParam(request.params.id), request.body, 'update', formOf(request)),
  );

  app.delete(
    `${base}/:id`,
    {
      config: access('feature_flag:write'),
      schema: { tags, summary: 'Not allowed: soft-delete with PATCH {"deleted": true}', params: withId, response: { 405: z.null() } },
    },
    async () => {
      // PostHog refuses hard deletes with a bare 405 after the usual permission checks.
      throw new RawError(405, null);
    },
  );

  app.get(
    `${base}/:id/activity`,
    {
      config: access('activity_log:read'),
      schema: { tags, summary: 'Activity of one flag', params: withId, querystring: ActivityQuerySchema, response: { 200: ActivityPageSchema } },
    },
    async (request) => {
      const raw = request.params.id;
      const projectId = requireProject(request.auth).id;
      const flag = /^\d{1,9}$/.test(raw) ? await findFlag(ctx.db, projectId, Number(raw)) : undefined;
      if (!flag) throw new RawError(404, null);
      return activityPage(ctx, { projectId, scope: 'FeatureFlag', itemId: String(flag.id) }, request.query, absolutePathUrl(request, ctx.config.publicUrl));
    },
  );

  app.get(
    `${base}/:id/status`,
    {
      config: access('feature_flag:read'),
      schema: { tags, summary: 'Staleness status of a flag', params: withId, response: { 200: StatusSchema, 404: StatusSchema } },
    },
    async (request, reply) => {
      const result = await statusOfFlag(ctx, requireProject(request.auth).id, request.params.id);
      return reply.code(result.status === 'unknown' ? 404 : 200).send(result);
    },
  );
}

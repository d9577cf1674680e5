// /api/projects/:project_id/cohorts/… and the legacy /api/cohort/…: list, create, retrieve, update,
// soft delete (DELETE is 405), activity; plus the multipart/form-data (CSV upload) and text/csv
// body parsers these routes accept.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RouteAccess } from '../access/auth-hook.ts';
import { addBufferParser } from '../platform/http/raw-body.ts';
import { ProjectParams, paginatedSchema, idParam } from '../platform/http/common-schemas.ts';
import { CohortSchema, CohortWriteBody, UploadedFile } from './schemas.ts';
import { createCohort, getCohort, listCohortsPage, updateCohortById } from './service.ts';
import { ActivityPageSchema, ActivityQuerySchema, activityPage } from '../activity/service.ts';
import { findCohort } from './repository.ts';
import { absoluteUrl, absolutePathUrl } from '../platform/pagination.ts';
import { serviceValidated, type ZodFastify } from '../platform/http/openapi.ts';
import { requireProject } from '../access/require-auth.ts';
import { RawError } from '../platform/errors.ts';
import { parseMultipart } from '../platform/http/multipart.ts';
import { isFormContentType } from '../platform/http/body-parsers.ts';
import { checkKeyScopes } from '../access/authorization.ts';
import { listCohortPersons } from './persons.ts';
import { CohortPersonsPageSchema, CohortPersonsQuery } from './persons-schemas.ts';

const isFormRequest = (request: FastifyRequest): boolean => isFormContentType(request.headers['content-type']);

/** Fields that repeat to form a list (DRF reads them with QueryDict.getlist), and file fields. */
const MULTIPART_FIELDS = {
  listFields: new Set(['distinct_ids', '_create_static_person_ids']),
  fileFields: new Set(['csv']),
  file: (filename: string, type: string, data: Buffer) => new UploadedFile(filename, type, data),
};

function registerUploadParsers(app: FastifyInstance): void {
  addBufferParser(app, 'multipart/form-data', (request, body) => parseMultipart(body, request.headers['content-type'] ?? '', MULTIPART_FIELDS));
  // A bare CSV body: the file alone, for adding members to an existing static cohort.
  addBufferParser(app, ['text/csv', 'application/csv'], (request, body) => ({
    csv: new UploadedFile('upload.csv', request.headers['content-type'] ?? 'text/csv', body),
  }));
}

// ---------------------------------------------------------------------------------------------

const ListQuery = z.looseObject({
  type: z.string().optional().meta({ description: '"static" or "dynamic"' }),
  created_by_id: z.string().optional(),
  search: z.string().optional().meta({ description: 'Case-insensitive substring of the name' }),
  hide_behavioral_cohorts: z.string().optional().meta({ description: '"true" hides cohorts with event criteria (directly or through other cohorts)' }),
  limit: z.string().optional(),
  offset: z.string().optional(),
});

const IdParams = z.object({ id: z.string().meta({ description: 'Cohort id' }) });

const WRITE_NOTE =
  'JSON, form-urlencoded, or multipart/form-data with a `csv` file (one column of distinct ids, or a person_id / distinct_id / email column); ' +
  'text/csv bodies add members to a static cohort.';

function cohortRoutesAt(app: ZodFastify, base: string, project: RouteAccess['project']): void {
  const { ctx } = app.services;
  // Fastify warns about a `params` key holding undefined: leave the key out on the legacy path.
  const params = project === 'param' ? { params: ProjectParams } : {};
  const withId = project === 'param' ? ProjectParams.extend(IdParams.shape) : IdParams;
  const access = (scope: string): { access: RouteAccess } => ({ access: { scope, project } });
  const tags = [project === 'param' ? 'cohorts' : 'cohorts (legacy path)'];

  app.get(
    base,
    {
      config: access('cohort:read'),
      schema: {
        tags,
        summary: 'List cohorts (not deleted), newest first',
        ...params,
        querystring: ListQuery,
        response: { 200: paginatedSchema(CohortSchema) },
      },
    },
    async (request) => listCohortsPage(ctx, requireProject(request.auth).id, request.query, absoluteUrl(request, ctx.config.publicUrl)),
  );

  app.post(
    base,
    {
      config: access('cohort:write'),
      schema: {
        tags,
        summary: 'Create a cohort',
        description: WRITE_NOTE,
        ...params,
        body: serviceValidated(CohortWriteBody),
        response: { 201: CohortSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await createCohort(ctx, request.auth, request.body, { form: isFormRequest(request) })),
  );

  app.get(
    `${base}/activity`,
    {
      config: access('activity_log:read'),
      schema: { tags, summary: 'Activity of every cohort in the project', ...params, querystring: ActivityQuerySchema, response: { 200: ActivityPageSchema } },
    },
    async (request) =>
      activityPage(ctx, { projectId: requireProject(request.auth).id, scope: 'Cohort' }, request.query, absolutePathUrl(request, ctx.config.publicUrl)),
  );

  app.get(
    `${base}/:id`,
    {
      config: access('cohort:read'),
      schema: { tags, summary: 'Retrieve a cohort (soft-deleted ones too)', params: withId, response: { 200: CohortSchema } },
    },
    async (request) => getCohort(ctx, requireProject(request.auth).id, idParam(request.params.id)),
  );

  for (const method of ['patch', 'put'] as const) {
    app[method](
      `${base}/:id`,
      {
        config: access('cohort:write'),
        schema: {
          tags,
          summary:
            method === 'patch' ? 'Update a cohort; {"deleted": true} soft-deletes, {"deleted": false} restores' : 'Update a cohort (same rules as PATCH)',
          description: WRITE_NOTE,
          params: withId,
          body: serviceValidated(CohortWriteBody),
          response: { 200: CohortSchema },
        },
      },
      async (request) => updateCohortById(ctx, request.auth, idParam(request.params.id), request.body, { form: isFormRequest(request) }),
    );
  }

  app.delete(
    `${base}/:id`,
    {
      config: access('cohort:write'),
      schema: { tags, summary: 'Not allowed: soft-delete with PATCH {"deleted": true}', params: withId, response: { 405: z.null() } },
    },
    async () => {
      // PostHog's ForbidDestroyModel: a bare 405 after the permission checks.
      throw new RawError(405, null);
    },
  );

  app.get(
    `${base}/:id/persons`,
    {
      // PostHog requires both scopes (cohort:read, then person:read); the second is checked below.
      config: access('cohort:read'),
      schema: {
        tags,
        summary: 'Members of a cohort, newest first (needs the cohort:read and person:read scopes)',
        description:
          'Static cohorts: their stored members. Dynamic cohorts: persons whose stored properties match the criteria now, ' +
          'found among the 50,000 newest persons of the project. Pages of `limit` (default 100, at most 1000) from `offset`.',
        params: withId,
        querystring: CohortPersonsQuery,
        response: { 200: CohortPersonsPageSchema },
      },
    },
    async (request) => {
      const project = requireProject(request.auth);
      const { principal } = request.auth;
      if (principal.kind === 'user') checkKeyScopes(principal.key, 'person:read', project);
      return listCohortPersons(ctx, project, idParam(request.params.id), request.query, absoluteUrl(request, ctx.config.publicUrl));
    },
  );

  app.get(
    `${base}/:id/activity`,
    {
      config: access('activity_log:read'),
      schema: { tags, summary: 'Activity of one cohort', params: withId, querystring: ActivityQuerySchema, response: { 200: ActivityPageSchema } },
    },
    async (request) => {
      const raw = request.params.id;
      const projectId = requireProject(request.auth).id;
      const cohort = /^\d{1,9}$/.test(raw) ? await findCohort(ctx.db, projectId, Number(raw)) : undefined;
      if (!cohort) throw new RawError(404, null);
      return activityPage(ctx, { projectId, scope: 'Cohort', itemId: String(cohort.id) }, request.query, absolutePathUrl(request, ctx.config.publicUrl));
    },
  );
}

export async function cohortRoutes(app: ZodFastify): Promise<void> {
  registerUploadParsers(app);
  cohortRoutesAt(app, '/api/projects/:project_id/cohorts', 'param');
  cohortRoutesAt(app, '/api/cohort', 'legacy');
}

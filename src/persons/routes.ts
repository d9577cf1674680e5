// /api/projects/:project_id/persons/ and the legacy /api/person/: list (search by distinct id or
// email), retrieve and delete, in PostHog's shape. Persons are created and changed by ingestion.
import { z } from 'zod';
import type { RouteAccess } from '../access/auth-hook.ts';
import { ProjectParams } from '../platform/http/common-schemas.ts';
import { PersonListQuery, PersonSchema, PersonsPageSchema } from './schemas.ts';
import { deletePerson, getPerson, listPersonsPage } from './service.ts';
import { absoluteUrl } from '../platform/pagination.ts';
import type { ZodFastify } from '../platform/http/openapi.ts';
import { requireProject } from '../access/require-auth.ts';

const IdParams = z.object({ id: z.string().meta({ description: 'Person id or uuid' }) });

function personRoutesAt(app: ZodFastify, base: string, project: RouteAccess['project']): void {
  const { ctx } = app.services;
  const params = project === 'param' ? { params: ProjectParams } : {};
  const withId = project === 'param' ? ProjectParams.extend(IdParams.shape) : IdParams;
  const access = (scope: string): { access: RouteAccess } => ({ access: { scope, project } });
  const tags = [project === 'param' ? 'persons' : 'persons (legacy path)'];

  app.get(
    base,
    {
      config: access('person:read'),
      schema: { tags, summary: 'List persons, newest first', ...params, querystring: PersonListQuery, response: { 200: PersonsPageSchema } },
    },
    async (request) => listPersonsPage(ctx, requireProject(request.auth).id, request.query, absoluteUrl(request, ctx.config.publicUrl)),
  );

  app.get(
    `${base}/:id`,
    {
      config: access('person:read'),
      schema: { tags, summary: 'Retrieve a person by id or uuid', params: withId, response: { 200: PersonSchema } },
    },
    async (request) => getPerson(ctx, requireProject(request.auth).id, request.params.id),
  );

  app.delete(
    `${base}/:id`,
    {
      config: access('person:write'),
      schema: {
        tags,
        summary: 'Delete a person with its distinct ids, continuity overrides and static-cohort memberships',
        params: withId,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await deletePerson(ctx, requireProject(request.auth).id, request.params.id);
      return reply.code(204).send(null);
    },
  );
}

export async function personRoutes(app: ZodFastify): Promise<void> {
  personRoutesAt(app, '/api/projects/:project_id/persons', 'param');
  personRoutesAt(app, '/api/person', 'legacy');
}

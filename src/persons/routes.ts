// /api/projects/:project_id/persons/ and the legacy /api/person/: list (search by distinct id or
// email), retrieve and delete, in PostHog's shape. Persons are created and changed by ingestion.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { RouteAccess } from '../access/auth-hook.ts';
import { ProjectParams } from '../platform/http/common-schemas.ts';
import { PersonListQuery, PersonSchema, PersonsPageSchema } from './schemas.ts';
import { deletePerson, getPerson, listPersonsPage } from './service.ts';
import { absoluteUrl } from '../platform/pagination.ts';

const IdParams = z.object({ id: z.string().meta({ description: 'Person id or uuid' }) });

function personRoutesAt(app: FastifyInstance, base: string, project: RouteAccess['project']): void {
  const { ctx } = app.services;
  const params = project === 'param' ? { params: ProjectParams } : {};
  const withId = project === 'param' ? ProjectParams.extend(IdParams.shape) : IdParams;
  const access = (scope: string): { access: RouteAccess } => ({ access: { scope, project } });
  const tags = [project === 'param' ? 'persons' : 'persons (legacy path)'];
  const idOf = (params: unknown) => (params as { id: string }).id;

  app.get(base, {
    config: access('person:read'),
    schema: { tags, summary: 'List persons, newest first', ...params, querystring: PersonListQuery, response: { 200: PersonsPageSchema } },
  }, async (request) => listPersonsPage(ctx, request.auth.project!.id, request.query as Record<string, unknown>, absoluteUrl(request, ctx.config.publicUrl)));

  app.get(`${base}/:id`, {
    config: access('person:read'),
    schema: { tags, summary: 'Retrieve a person by id or uuid', params: withId, response: { 200: PersonSchema } },
  }, async (request) => getPerson(ctx, request.auth.project!.id, idOf(request.params)));

  app.delete(`${base}/:id`, {
    config: access('person:write'),
    schema: {
      tags,
      summary: 'Delete a person with its distinct ids, continuity overrides and static-cohort memberships',
      params: withId,
      response: { 204: z.null() },
    },
  }, async (request, reply) => {
    await deletePerson(ctx, request.auth.project!.id, idOf(request.params));
    return reply.code(204).send();
  });
}

export async function personRoutes(app: FastifyInstance): Promise<void> {
  personRoutesAt(app, '/api/projects/:project_id/persons', 'param');
  personRoutesAt(app, '/api/person', 'legacy');
}

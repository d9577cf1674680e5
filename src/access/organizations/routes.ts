// GET /api/users/@me/, /api/projects/, /api/projects/:id/, /api/organizations/@current/.
import { z } from 'zod';
import { MeSchema, OrganizationSchema, ProjectBasicSchema, ProjectSchema, toProject, toProjectBasic } from './schemas.ts';
import { currentOrganizationOf, describeMe, describeOrganization, projectsVisibleTo } from './service.ts';
import { absoluteUrl, limitOffsetLinks, parseLimitOffset } from '../../platform/pagination.ts';
import { NotFoundError } from '../../platform/errors.ts';
import { paginatedSchema, ProjectParams } from '../../platform/http/common-schemas.ts';
import type { ZodFastify } from '../../platform/http/openapi.ts';
import { requireProject, requireUser } from '../require-auth.ts';

export async function identityRoutes(app: ZodFastify): Promise<void> {
  const { ctx } = app.services;

  app.get(
    '/api/users/@me',
    {
      config: { access: { scope: 'user:read', project: 'none' } },
      schema: { tags: ['identity'], summary: 'The authenticated user', response: { 200: MeSchema } },
    },
    async (request) => describeMe(ctx, requireUser(request.auth)),
  );

  app.get(
    '/api/projects',
    {
      config: { access: { scope: 'project:read', project: 'none' } },
      schema: {
        tags: ['identity'],
        summary: 'Projects the caller can access',
        querystring: z.looseObject({ limit: z.string().optional(), offset: z.string().optional() }),
        response: { 200: paginatedSchema(ProjectBasicSchema) },
      },
    },
    async (request) => {
      const auth = request.auth;
      const key = auth.principal.kind === 'user' ? auth.principal.key : undefined;
      const all = await projectsVisibleTo(ctx, requireUser(auth), key?.scopedTeams ?? null);
      const { limit, offset } = parseLimitOffset(request.query);
      const links = limitOffsetLinks(absoluteUrl(request, ctx.config.publicUrl), all.length, limit, offset);
      return { count: all.length, ...links, results: all.slice(offset, offset + limit).map(toProjectBasic) };
    },
  );

  app.get(
    '/api/projects/:project_id',
    {
      config: { access: { scope: 'project:read', project: 'param' } },
      schema: { tags: ['identity'], summary: 'One project', params: ProjectParams, response: { 200: ProjectSchema } },
    },
    async (request) => toProject(requireProject(request.auth), request.auth.membership),
  );

  app.get(
    '/api/organizations/@current',
    {
      config: { access: { scope: 'organization:read', project: 'none' } },
      schema: { tags: ['identity'], summary: "The caller's current organization", response: { 200: OrganizationSchema } },
    },
    async (request) => {
      const current = await currentOrganizationOf(ctx, requireUser(request.auth));
      if (!current) throw new NotFoundError();
      return describeOrganization(ctx, current.org, current.membership);
    },
  );
}

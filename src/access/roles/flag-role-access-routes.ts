// /api/projects/:project_id/feature_flags/:id/role_access/…: the roles a flag is shared with.
import { z } from 'zod';
import type { RouteAccess } from '../auth-hook.ts';
import { ProjectParams, paginatedSchema } from '../../platform/http/common-schemas.ts';
import { FlagRoleAccessBody, FlagRoleAccessSchema } from './schemas.ts';
import { serviceValidated, type ZodFastify } from '../../platform/http/openapi.ts';
import { addRoleAccess, getRoleAccess, listRoleAccess, removeRoleAccess } from './flag-role-access.ts';
import { absoluteUrl } from '../../platform/pagination.ts';

const FlagParams = ProjectParams.extend({ id: z.string().meta({ description: 'Feature flag id' }) });
const AccessParams = FlagParams.extend({ access_id: z.string().meta({ description: 'Role access id' }) });

export async function featureFlagRoleAccessRoutes(app: ZodFastify): Promise<void> {
  const { ctx } = app.services;
  const tags = ['access control'];
  const access = (scope: string): { access: RouteAccess } => ({ access: { scope, project: 'param' } });
  const base = '/api/projects/:project_id/feature_flags/:id/role_access';

  app.get(
    base,
    {
      config: access('feature_flag:read'),
      schema: {
        tags,
        summary: 'Roles this flag is shared with',
        params: FlagParams,
        querystring: z.looseObject({ limit: z.string().optional(), offset: z.string().optional() }),
        response: { 200: paginatedSchema(FlagRoleAccessSchema) },
      },
    },
    async (request) => listRoleAccess(ctx, request.auth, request.params.id, request.query, absoluteUrl(request, ctx.config.publicUrl)),
  );

  app.post(
    base,
    {
      config: access('feature_flag:write'),
      schema: {
        tags,
        summary: 'Share the flag with a role: its members can edit it even when they can otherwise only view flags',
        description:
          "Allowed to organization admins, the flag's creator, members of a role that can always edit flags, and everyone while the organization lets members edit flags.",
        params: FlagParams,
        body: serviceValidated(FlagRoleAccessBody),
        response: { 201: FlagRoleAccessSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await addRoleAccess(ctx, request.auth, request.params.id, request.body)),
  );

  app.get(
    `${base}/:access_id`,
    {
      config: access('feature_flag:read'),
      schema: { tags, summary: 'Retrieve one role access of the flag', params: AccessParams, response: { 200: FlagRoleAccessSchema } },
    },
    async (request) => getRoleAccess(ctx, request.auth, request.params.id, request.params.access_id),
  );

  app.delete(
    `${base}/:access_id`,
    {
      config: access('feature_flag:write'),
      schema: { tags, summary: 'Stop sharing the flag with a role', params: AccessParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await removeRoleAccess(ctx, request.auth, request.params.id, request.params.access_id);
      return reply.code(204).send(null);
    },
  );
}

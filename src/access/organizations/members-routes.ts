// GET /api/organizations/:organization_id/members/ (also @current): the organization's active members.
import { z } from 'zod';
import { OrganizationMemberSchema, OrganizationParams } from '../roles/schemas.ts';
import { paginatedSchema } from '../../platform/http/common-schemas.ts';
import { listOrganizationMembers } from '../roles/service.ts';
import { absoluteUrl } from '../../platform/pagination.ts';
import type { ZodFastify } from '../../platform/http/openapi.ts';

export async function organizationMemberRoutes(app: ZodFastify): Promise<void> {
  const { ctx } = app.services;
  app.get(
    '/api/organizations/:organization_id/members',
    {
      config: { access: { scope: 'organization_member:read', project: 'none', organization: 'param' } },
      schema: {
        tags: ['access control'],
        summary: 'Members of an organization, by level then newest first',
        params: OrganizationParams,
        querystring: z.looseObject({ limit: z.string().optional(), offset: z.string().optional() }),
        response: { 200: paginatedSchema(OrganizationMemberSchema) },
      },
    },
    async (request) => listOrganizationMembers(ctx, request.auth, request.query, absoluteUrl(request, ctx.config.publicUrl)),
  );
}

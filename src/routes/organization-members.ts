// GET /api/organizations/:organization_id/members/ (also @current): the organization's active members.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { OrganizationMemberSchema, OrganizationParams } from '../schemas/roles.ts';
import { paginatedSchema } from '../schemas/common.ts';
import { listOrganizationMembers } from '../services/roles.ts';
import { absoluteUrl } from '../lib/pagination.ts';

export async function organizationMemberRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app.services;
  app.get('/api/organizations/:organization_id/members', {
    config: { access: { scope: 'organization_member:read', project: 'none', organization: 'param' } },
    schema: {
      tags: ['access control'],
      summary: 'Members of an organization, by level then newest first',
      params: OrganizationParams,
      querystring: z.looseObject({ limit: z.string().optional(), offset: z.string().optional() }),
      response: { 200: paginatedSchema(OrganizationMemberSchema) },
    },
  }, async (request) => listOrganizationMembers(ctx, request.auth, request.query as Record<string, unknown>, absoluteUrl(request, ctx.config.publicUrl)));
}

// /api/organizations/:organization_id/members/ (also @current): the organization's active members;
// PATCH changes one's level, DELETE removes one (or lets a member leave).
import { z } from 'zod';
import { OrganizationMemberSchema, OrganizationParams } from '../roles/schemas.ts';
import { paginatedSchema } from '../../platform/http/common-schemas.ts';
import { listOrganizationMembers } from '../roles/service.ts';
import { removeOrganizationMember, updateOrganizationMember } from './members.ts';
import { drfInteger, fail } from '../../platform/http/drf.ts';
import { absoluteUrl } from '../../platform/pagination.ts';
import type { ZodFastify } from '../../platform/http/openapi.ts';

const MemberParams = OrganizationParams.extend({ user_uuid: z.string().meta({ description: "The member's user uuid" }) });

const LEVELS = [1, 8, 15];
const MemberUpdateBody = z
  .looseObject({
    level: drfInteger()
      .superRefine((level, ctx) => {
        if (!LEVELS.includes(level)) fail(ctx, `"${level}" is not a valid choice.`, 'invalid_choice');
      })
      .optional()
      .meta({ description: '1 member, 8 admin, 15 owner' }),
  })
  .meta({ id: 'OrganizationMemberUpdate' });

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

  const write = { access: { scope: 'organization_member:write', project: 'none' as const, organization: 'param' as const } };
  app.patch(
    '/api/organizations/:organization_id/members/:user_uuid',
    {
      config: write,
      schema: {
        tags: ['access control'],
        summary: "Change a member's level (admins, never above their own; only an owner makes owners)",
        params: MemberParams,
        body: MemberUpdateBody,
        response: { 200: OrganizationMemberSchema },
      },
    },
    async (request) => updateOrganizationMember(ctx, request.auth, request.params.user_uuid, request.body),
  );

  app.delete(
    '/api/organizations/:organization_id/members/:user_uuid',
    {
      config: write,
      schema: {
        tags: ['access control'],
        summary: 'Remove a member (admins), or leave the organization (your own uuid); the last owner cannot leave',
        params: MemberParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await removeOrganizationMember(ctx, request.auth, request.params.user_uuid);
      return reply.code(204).send(null);
    },
  );
}

// /api/organizations/:organization_id/roles/… (roles and their memberships) and …/resource_access/…
// (the organization's level per resource). Everyone in the organization reads; admins write.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RouteAccess } from '../auth-hook.ts';
import {
  OrganizationParams,
  ResourceAccessCreateBody,
  ResourceAccessSchema,
  ResourceAccessUpdateBody,
  RoleCreateBody,
  RoleMembershipBody,
  RoleMembershipSchema,
  RoleSchema,
  RoleUpdateBody,
} from './schemas.ts';
import { paginatedSchema } from '../../platform/http/common-schemas.ts';
import {
  addRoleMember,
  createResourceAccess,
  createRole,
  deleteResourceAccessById,
  deleteRoleById,
  getResourceAccess,
  getRole,
  listResourceAccessPage,
  listRoleMemberships,
  listRolesPage,
  removeRoleMember,
  updateResourceAccessById,
  updateRoleById,
} from './service.ts';
import { absoluteUrl } from '../../platform/pagination.ts';
import type { ZodFastify } from '../../platform/http/openapi.ts';

/** PostHog's RolePermissions message (the 2023–2024 builds that have flag access levels). */
export const ADMIN_WRITES = 'You need to have admin level or higher.';

const PageQuery = z.looseObject({ limit: z.string().optional(), offset: z.string().optional() });
const RoleParams = OrganizationParams.extend({ role_id: z.string().meta({ description: 'Role id (a UUID)' }) });
const MembershipParams = RoleParams.extend({ membership_id: z.string().meta({ description: 'Role membership id' }) });
const ResourceParams = OrganizationParams.extend({ id: z.string().meta({ description: 'Resource access id' }) });

export async function roleRoutes(app: ZodFastify): Promise<void> {
  const { ctx } = app.services;
  const tags = ['access control'];
  const access = (scope: string): { access: RouteAccess } => ({ access: { scope, project: 'none', organization: 'param', adminWrites: ADMIN_WRITES } });
  const url = (request: FastifyRequest) => absoluteUrl(request, ctx.config.publicUrl);
  const base = '/api/organizations/:organization_id/roles';

  app.get(
    base,
    {
      config: access('organization:read'),
      schema: {
        tags,
        summary: 'Roles of the organization, oldest first',
        params: OrganizationParams,
        querystring: PageQuery,
        response: { 200: paginatedSchema(RoleSchema) },
      },
    },
    async (request) => listRolesPage(ctx, request.auth, request.query, url(request)),
  );

  app.post(
    base,
    {
      config: access('organization:write'),
      schema: { tags, summary: 'Create a role (organization admins)', params: OrganizationParams, body: RoleCreateBody, response: { 201: RoleSchema } },
    },
    async (request, reply) => reply.code(201).send(await createRole(ctx, request.auth, request.body)),
  );

  app.get(
    `${base}/:role_id`,
    {
      config: access('organization:read'),
      schema: { tags, summary: 'Retrieve a role', params: RoleParams, response: { 200: RoleSchema } },
    },
    async (request) => getRole(ctx, request.auth, request.params.role_id),
  );

  app.patch(
    `${base}/:role_id`,
    {
      config: access('organization:write'),
      schema: {
        tags,
        summary: 'Rename a role or change its feature_flags_access_level (organization admins)',
        params: RoleParams,
        body: RoleUpdateBody,
        response: { 200: RoleSchema },
      },
    },
    async (request) => updateRoleById(ctx, request.auth, request.params.role_id, request.body),
  );

  app.put(
    `${base}/:role_id`,
    {
      config: access('organization:write'),
      schema: { tags, summary: 'Replace a role (organization admins)', params: RoleParams, body: RoleCreateBody, response: { 200: RoleSchema } },
    },
    async (request) => updateRoleById(ctx, request.auth, request.params.role_id, request.body),
  );

  app.delete(
    `${base}/:role_id`,
    {
      config: access('organization:write'),
      schema: { tags, summary: 'Delete a role with its memberships and flag access (organization admins)', params: RoleParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await deleteRoleById(ctx, request.auth, request.params.role_id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    `${base}/:role_id/role_memberships`,
    {
      config: access('organization:read'),
      schema: { tags, summary: 'Members of a role', params: RoleParams, querystring: PageQuery, response: { 200: paginatedSchema(RoleMembershipSchema) } },
    },
    async (request) => listRoleMemberships(ctx, request.auth, request.params.role_id, request.query, url(request)),
  );

  app.post(
    `${base}/:role_id/role_memberships`,
    {
      config: access('organization:write'),
      schema: {
        tags,
        summary: 'Add a member of the organization to a role (organization admins)',
        params: RoleParams,
        body: RoleMembershipBody,
        response: { 201: RoleMembershipSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await addRoleMember(ctx, request.auth, request.params.role_id, request.body.user_uuid)),
  );

  app.delete(
    `${base}/:role_id/role_memberships/:membership_id`,
    {
      config: access('organization:write'),
      schema: { tags, summary: 'Remove a member from a role (organization admins)', params: MembershipParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await removeRoleMember(ctx, request.auth, request.params.role_id, request.params.membership_id);
      return reply.code(204).send(null);
    },
  );

  const resources = '/api/organizations/:organization_id/resource_access';

  app.get(
    resources,
    {
      config: access('organization:read'),
      schema: {
        tags,
        summary: "The organization's access level per resource",
        params: OrganizationParams,
        querystring: PageQuery,
        response: { 200: paginatedSchema(ResourceAccessSchema) },
      },
    },
    async (request) => listResourceAccessPage(ctx, request.auth, request.query, url(request)),
  );

  app.post(
    resources,
    {
      config: access('organization:write'),
      schema: {
        tags,
        summary: 'Set the access level of a resource ("feature flags": 21 members can only view, 37 can always edit)',
        params: OrganizationParams,
        body: ResourceAccessCreateBody,
        response: { 201: ResourceAccessSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await createResourceAccess(ctx, request.auth, request.body)),
  );

  app.get(
    `${resources}/:id`,
    {
      config: access('organization:read'),
      schema: { tags, summary: 'Retrieve a resource access level', params: ResourceParams, response: { 200: ResourceAccessSchema } },
    },
    async (request) => getResourceAccess(ctx, request.auth, request.params.id),
  );

  app.patch(
    `${resources}/:id`,
    {
      config: access('organization:write'),
      schema: {
        tags,
        summary: 'Change a resource access level (organization admins)',
        params: ResourceParams,
        body: ResourceAccessUpdateBody,
        response: { 200: ResourceAccessSchema },
      },
    },
    async (request) => updateResourceAccessById(ctx, request.auth, request.params.id, request.body),
  );

  app.delete(
    `${resources}/:id`,
    {
      config: access('organization:write'),
      schema: {
        tags,
        summary: 'Remove a resource access level: back to "can always edit" (organization admins)',
        params: ResourceParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await deleteResourceAccessById(ctx, request.auth, request.params.id);
      return reply.code(204).send(null);
    },
  );
}

// /api/projects/:project_id/groups_types/: list, create (flaghost; PostHog creates them only during
// ingestion), PATCH update_metadata, DELETE /:group_type_index.
import { z } from 'zod';
import { ProjectParams, idParam } from '../platform/http/common-schemas.ts';
import { GroupTypeCreateBody, GroupTypeMetadataBody, GroupTypeSchema } from './schemas.ts';
import { createGroupType, deleteGroupTypeByIndex, listGroupTypesOf, updateGroupTypesMetadata } from './service.ts';
import { serviceValidated, type ZodFastify } from '../platform/http/openapi.ts';
import { requireProject } from '../access/require-auth.ts';

const BASE = '/api/projects/:project_id/groups_types';
const tags = ['groups_types'];
const IndexParams = ProjectParams.extend({ group_type_index: z.string().meta({ description: 'Group type index, 0–4' }) });

export async function groupTypeRoutes(app: ZodFastify): Promise<void> {
  const { ctx } = app.services;
  const access = (scope: string) => ({ access: { scope, project: 'param' as const } });

  app.get(
    BASE,
    {
      config: access('group:read'),
      schema: { tags, summary: 'Group types of the project, by index (not paginated)', params: ProjectParams, response: { 200: z.array(GroupTypeSchema) } },
    },
    async (request) => listGroupTypesOf(ctx, requireProject(request.auth).id),
  );

  app.post(
    BASE,
    {
      config: access('group:write'),
      schema: {
        tags,
        summary: 'Register a group type (flaghost extension); the index defaults to the lowest free one of 0–4',
        params: ProjectParams,
        body: serviceValidated(GroupTypeCreateBody),
        response: { 201: GroupTypeSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await createGroupType(ctx, requireProject(request.auth).id, request.body)),
  );

  app.patch(
    `${BASE}/update_metadata`,
    {
      config: access('group:write'),
      schema: {
        tags,
        summary: 'Set display names of group types; answers the whole list',
        params: ProjectParams,
        body: serviceValidated(GroupTypeMetadataBody),
        response: { 200: z.array(GroupTypeSchema) },
      },
    },
    async (request) => updateGroupTypesMetadata(ctx, requireProject(request.auth).id, request.body),
  );

  app.delete(
    `${BASE}/:group_type_index`,
    {
      config: access('group:write'),
      schema: { tags, summary: 'Delete a group type mapping', params: IndexParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await deleteGroupTypeByIndex(ctx, requireProject(request.auth).id, idParam(request.params.group_type_index, 'Group type not found'));
      return reply.code(204).send(null);
    },
  );
}

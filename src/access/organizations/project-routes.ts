// Project settings and creation (PATCH /api/projects/:id/ and its token actions, POST
// /api/projects/ and /api/organizations/:id/projects/) and POST /api/organizations/.
import { z } from 'zod';
import { OrganizationSchema, ProjectSchema } from './schemas.ts';
import {
  createOrganizationForUser,
  createProjectForUser,
  deleteSecretTokenBackup,
  resetProjectToken,
  rotateSecretToken,
  updateProjectSettings,
} from './project-settings.ts';
import { currentOrganizationOf } from './service.ts';
import { OrganizationParams } from '../roles/schemas.ts';
import { ProjectParams } from '../../platform/http/common-schemas.ts';
import { drfString } from '../../platform/http/drf.ts';
import { NotFoundError, PermissionDeniedError } from '../../platform/errors.ts';
import type { ZodFastify } from '../../platform/http/openapi.ts';
import { requireMembership, requireOrganization, requireUser } from '../require-auth.ts';

const ProjectUpdateBody = z
  .looseObject({
    name: drfString({ max: 200 }).optional(),
    timezone: drfString({ max: 240 }).optional().meta({ description: 'An IANA time zone name, e.g. Europe/Paris; date conditions evaluate in it' }),
  })
  .meta({ id: 'ProjectUpdate' });

// flaghost requires the name (PostHog defaults it): a body without one is more likely a mistake.
const ProjectCreateBody = z.looseObject({ name: drfString({ max: 200 }) }).meta({ id: 'ProjectCreate' });

const OrganizationCreateBody = z.looseObject({ name: drfString({ max: 64 }) }).meta({ id: 'OrganizationCreate' });

export async function projectSettingsRoutes(app: ZodFastify): Promise<void> {
  const { ctx } = app.services;
  const tags = ['projects'];
  const projectAccess = { access: { scope: 'project:write', project: 'param' as const } };

  app.patch(
    '/api/projects/:project_id',
    {
      config: projectAccess,
      schema: {
        tags,
        summary: "Change a project's name or time zone (members)",
        params: ProjectParams,
        body: ProjectUpdateBody,
        response: { 200: ProjectSchema },
      },
    },
    async (request) => updateProjectSettings(ctx, request.auth, request.body),
  );

  const tokenActions = [
    ['reset_token', 'A new project token; the old one stops identifying the project at once (admins)', resetProjectToken],
    [
      'rotate_secret_token',
      'A new secret token; the previous one is kept as secret_api_token_backup and still accepted until deleted (admins)',
      rotateSecretToken,
    ],
    ['delete_secret_token_backup', 'Stop accepting the backup secret token (admins)', deleteSecretTokenBackup],
  ] as const;
  for (const [action, summary, run] of tokenActions) {
    app.patch(
      `/api/projects/:project_id/${action}`,
      { config: projectAccess, schema: { tags, summary, params: ProjectParams, response: { 200: ProjectSchema } } },
      async (request) => run(ctx, request.auth),
    );
  }

  app.post(
    '/api/projects',
    {
      config: { access: { scope: 'project:write', project: 'none' } },
      schema: { tags, summary: "Create a project in the caller's current organization (admins)", body: ProjectCreateBody, response: { 201: ProjectSchema } },
    },
    async (request, reply) => {
      const auth = request.auth;
      const current = await currentOrganizationOf(ctx, requireUser(auth));
      if (!current) throw new NotFoundError();
      const scoped = auth.principal.kind === 'user' ? auth.principal.key.scopedOrganizations : null;
      if (scoped?.length && !scoped.includes(current.org.id))
        throw new PermissionDeniedError(`API key does not have access to the requested organization: ID ${current.org.id}.`);
      return reply.code(201).send(await createProjectForUser(ctx, auth, current.org, current.membership, request.body));
    },
  );

  app.post(
    '/api/organizations/:organization_id/projects',
    {
      config: { access: { scope: 'project:write', project: 'none', organization: 'param' } },
      schema: {
        tags,
        summary: 'Create a project in the organization (admins)',
        params: OrganizationParams,
        body: ProjectCreateBody,
        response: { 201: ProjectSchema },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await createProjectForUser(ctx, request.auth, requireOrganization(request.auth), requireMembership(request.auth), request.body)),
  );

  app.post(
    '/api/organizations',
    {
      config: { access: { scope: 'organization:write', project: 'none' } },
      schema: {
        tags: ['identity'],
        summary: 'Create an organization: the caller becomes its owner, with a first project',
        body: OrganizationCreateBody,
        response: { 201: OrganizationSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await createOrganizationForUser(ctx, request.auth, request.body)),
  );
}

// /api/personal_api_keys/…: the caller's own personal API keys. PostHog allows this only with a
// browser session; flaghost has keys only, so a full-access key (no scope limits, no project or
// organization scoping) manages its owner's keys, and any other key may only retrieve itself.
import { z } from 'zod';
import type { RouteAccess } from '../auth-hook.ts';
import { PersonalApiKeyCreateBody, PersonalApiKeySchema, PersonalApiKeyUpdateBody } from './schemas.ts';
import { createPersonalApiKey, deletePersonalApiKey, rollPersonalApiKey, getPersonalApiKey, listPersonalApiKeys, updatePersonalApiKey } from './service.ts';
import type { ZodFastify } from '../../platform/http/openapi.ts';

const KeyParams = z.object({ id: z.string().meta({ description: 'Key id, or @current for the key making the request' }) });

export async function personalApiKeyRoutes(app: ZodFastify): Promise<void> {
  const { ctx } = app.services;
  const tags = ['personal API keys'];
  const access = (keyManagement: RouteAccess['keyManagement']): { access: RouteAccess } => ({ access: { scope: null, project: 'none', keyManagement } });
  const base = '/api/personal_api_keys';

  app.get(
    base,
    {
      config: access('other'),
      schema: { tags, summary: "The caller's keys, newest first (full-access key)", response: { 200: z.array(PersonalApiKeySchema) } },
    },
    async (request) => listPersonalApiKeys(ctx, request.auth),
  );

  app.post(
    base,
    {
      config: access('other'),
      schema: {
        tags,
        summary: 'Create a key (full-access key); the response holds its value, shown this once',
        body: PersonalApiKeyCreateBody,
        response: { 201: PersonalApiKeySchema },
      },
    },
    async (request, reply) => reply.code(201).send(await createPersonalApiKey(ctx, request.auth, request.body)),
  );

  app.get(
    `${base}/:id`,
    {
      config: access('retrieve'),
      schema: { tags, summary: 'Retrieve one of your keys (any key may retrieve itself)', params: KeyParams, response: { 200: PersonalApiKeySchema } },
    },
    async (request) => getPersonalApiKey(ctx, request.auth, request.params.id),
  );

  app.patch(
    `${base}/:id`,
    {
      config: access('other'),
      schema: {
        tags,
        summary: "Change a key's label, scopes or scoping (full-access key); takes effect at once on every instance",
        params: KeyParams,
        body: PersonalApiKeyUpdateBody,
        response: { 200: PersonalApiKeySchema },
      },
    },
    async (request) => updatePersonalApiKey(ctx, request.auth, request.params.id, request.body),
  );

  app.post(
    `${base}/:id/roll`,
    {
      config: access('other'),
      schema: {
        tags,
        summary: 'Replace the value of a key (full-access key); the response holds the new value, shown this once, and the old one stops working',
        params: KeyParams,
        response: { 200: PersonalApiKeySchema },
      },
    },
    async (request) => rollPersonalApiKey(ctx, request.auth, request.params.id),
  );

  app.delete(
    `${base}/:id`,
    {
      config: access('other'),
      schema: { tags, summary: 'Revoke a key (full-access key); it stops working at once on every instance', params: KeyParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await deletePersonalApiKey(ctx, request.auth, request.params.id);
      return reply.code(204).send(null);
    },
  );
}

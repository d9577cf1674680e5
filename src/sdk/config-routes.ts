// GET /array/:token/config (and config.js): the remote config posthog-js loads before /flags.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { allowBrowserOrigin, preflight } from './body.ts';
import { configKeys } from './remote-config.ts';
import type { SnapshotStore } from './snapshots.ts';
import { NotFoundError } from '../platform/errors.ts';

const Params = z.object({ token: z.string().meta({ description: 'Project API token (phc_…)' }) });

export async function sdkConfigRoutes(app: FastifyInstance, opts: { snapshots: SnapshotStore }): Promise<void> {
  const { snapshots } = opts;

  app.get(
    '/array/:token/config',
    {
      schema: { tags: ['sdk'], summary: 'Remote config for posthog-js', params: Params, security: [], response: { 200: z.record(z.string(), z.unknown()) } },
    },
    async (request, reply) => {
      const { token } = request.params as { token: string };
      const snapshot = await snapshots.forToken(token);
      if (!snapshot) throw new NotFoundError();
      allowBrowserOrigin(request, reply);
      return reply.type('application/json').send(JSON.stringify({ token, ...configKeys(snapshot), siteApps: [] }));
    },
  );

  app.get(
    '/array/:token/config.js',
    {
      schema: { tags: ['sdk'], summary: 'Remote config as a script for posthog-js', params: Params, security: [] },
    },
    async (request, reply) => {
      const { token } = request.params as { token: string };
      const snapshot = await snapshots.forToken(token);
      if (!snapshot) throw new NotFoundError();
      const config = JSON.stringify({ token, ...configKeys(snapshot), siteApps: [] });
      allowBrowserOrigin(request, reply);
      return reply
        .type('application/javascript')
        .send(
          `(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};window._POSTHOG_REMOTE_CONFIG[${JSON.stringify(token)}]={config:${config},siteApps:[]};})();`,
        );
    },
  );

  for (const url of ['/array/:token/config', '/array/:token/config.js']) {
    app.options(url, { schema: { hide: true } }, async (request, reply) => preflight(request, reply));
  }
}

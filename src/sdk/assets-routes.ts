// GET /static/… : the posthog-js extension bundles that posthog-js loads from its api_host
// (surveys.js on every page load, array.js for the HTML snippet), served from the posthog-js
// package flaghost ships, and a CORS-readable 404 for the rest (docs/compatibility.md#sdk-2.6).
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PACKAGE_ROOT } from '../platform/paths.ts';
import { MethodNotAllowedError, NotFoundError } from '../platform/errors.ts';
import { sendApiError } from '../platform/http/errors.ts';

/**
 * The bundles served, by the name posthog-js asks for. Each needs nothing from the server beyond
 * what flaghost answers: capture, /flags and the remote config (surveys.js, loaded even when the
 * config says `surveys: false`, then stays idle). Session replay, the toolbar, product tours,
 * conversations, logs and the chat integrations need PostHog products flaghost does not have.
 */
export const SERVED_EXTENSIONS = [
  'array',
  'array.full',
  'surveys',
  'dead-clicks-autocapture',
  'exception-autocapture',
  'tracing-headers',
  'web-vitals',
  'web-vitals-with-attribution',
] as const;

/**
 * Where the bundles are: the posthog-js package when it is installed (a checkout), else the copy
 * `npm run build:server` makes into dist/posthog-js (the Docker image installs no dev dependencies).
 */
export const ASSET_DIRS = [path.join(PACKAGE_ROOT, 'node_modules', 'posthog-js', 'dist'), path.join(PACKAGE_ROOT, 'dist', 'posthog-js')];

const SERVED = new Set<string>(SERVED_EXTENSIONS);
/** Largest bundle read (array.full.js is under 1 MB): a corrupt install cannot make flaghost read a huge file into memory. */
const MAX_ASSET_BYTES = 4 * 1024 * 1024;

interface Asset {
  body: Buffer;
}

/** Read once per file and kept: the set is fixed and small. */
function assetLoader(dirs: readonly string[]): (name: string) => Asset | undefined {
  const cache = new Map<string, Asset | null>();
  return (name) => {
    if (!SERVED.has(name)) return undefined;
    let asset = cache.get(name);
    if (asset === undefined) {
      asset = null;
      for (const dir of dirs) {
        const file = path.join(dir, `${name}.js`);
        try {
          const stat = fs.statSync(file);
          if (!stat.isFile() || stat.size > MAX_ASSET_BYTES) continue;
          asset = { body: fs.readFileSync(file) };
          break;
        } catch {
          // Not in this directory: try the next.
        }
      }
      cache.set(name, asset);
    }
    return asset ?? undefined;
  };
}

/** Scripts posthog-js adds with crossorigin="anonymous": readable from any page, no credentials. */
const PUBLIC_CORS = { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' };

const FileParams = z.object({ file: z.string().meta({ description: 'The bundle, e.g. surveys.js' }) });
const VersionedParams = z.object({
  version: z.string().meta({ description: "posthog-js's version (the bundle of the shipped version is served for any)" }),
  file: z.string(),
});

export async function sdkAssetRoutes(app: FastifyInstance, opts: { dirs?: readonly string[] } = {}): Promise<void> {
  const load = assetLoader(opts.dirs ?? ASSET_DIRS);

  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(PUBLIC_CORS);
    const { file } = request.params as { file: string };
    const asset = file.endsWith('.js') ? load(file.slice(0, -3)) : undefined;
    if (!asset) return sendApiError(reply, new NotFoundError());
    return reply.type('application/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(asset.body);
  };
  const notFound = async (_request: FastifyRequest, reply: FastifyReply) => sendApiError(reply.headers(PUBLIC_CORS), new NotFoundError());
  const tags = ['sdk'];

  app.get('/static/:file', { schema: { tags, summary: 'A posthog-js extension bundle', params: FileParams, security: [] } }, serve);
  app.get(
    '/static/:version/:file',
    { schema: { tags, summary: 'A posthog-js extension bundle, versioned path', params: VersionedParams, security: [] } },
    serve,
  );
  // Anything else under /static/ or /array/ (config and config.js have their own routes): a 404
  // the page can read, rather than a CORS failure in the browser's console.
  for (const url of ['/static/*', '/array/*']) app.get(url, { schema: { hide: true } }, notFound);
  for (const url of ['/static/:file', '/static/:version/:file', '/static/*']) {
    app.route({
      method: ['POST', 'PUT', 'PATCH', 'DELETE'],
      url,
      schema: { hide: true },
      handler: async (request) => {
        throw new MethodNotAllowedError(request.method);
      },
    });
  }
}

// Serves the web console (the single-page app built from web/ into dist/console by `npm install`):
// index.html for the console's own paths (never cached), hashed files under /assets/ (cached for a
// year), and nothing else: API and SDK paths, and unknown paths, keep their JSON answers.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../platform/errors.ts';
import { PACKAGE_ROOT } from '../platform/paths.ts';

export const DEFAULT_CONSOLE_DIR = path.join(PACKAGE_ROOT, 'dist', 'console');

/** Paths the console's router owns; a browser navigating to one gets index.html. */
export const CONSOLE_PATHS = ['/', '/login', '/signup/*', '/reset/*', '/project/*', '/settings/*'];

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  type: string;
}

export interface ConsoleBuild {
  index: Buffer;
  assets: Map<string, Asset>;
}

// The console talks only to this server: scripts, styles and requests from the same origin.
const PAGE_HEADERS = {
  'cache-control': 'no-cache',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Reads the build into memory once (a few hundred KB), gzipping text files up front so a request
 * costs a map lookup. Undefined when there is no build.
 */
export function loadConsoleBuild(dir: string): ConsoleBuild | undefined {
  let index: Buffer;
  try {
    index = fs.readFileSync(path.join(dir, 'index.html'));
  } catch {
    return undefined;
  }
  const assets = new Map<string, Asset>();
  const assetDir = path.join(dir, 'assets');
  const names = fs.existsSync(assetDir) ? fs.readdirSync(assetDir, { withFileTypes: true }) : [];
  for (const entry of names) {
    if (!entry.isFile()) continue;
    const body = fs.readFileSync(path.join(assetDir, entry.name));
    const type = TYPES[path.extname(entry.name)] ?? 'application/octet-stream';
    const compressible = /^(text\/|image\/svg|application\/json)/.test(type) && body.length > 1024;
    assets.set(entry.name, { body, type, gzip: compressible ? zlib.gzipSync(body, { level: 9 }) : undefined });
  }
  return { index, assets };
}

/** The line `npm start` prints when the console was not built (the API still works). */
export function consoleBuildHint(dir: string): string | undefined {
  if (fs.existsSync(path.join(dir, 'index.html'))) return undefined;
  return (
    `The web console is not built (${path.relative(process.cwd(), dir) || dir} is missing): flaghost serves the API only. ` +
    'Build the console with `npm run build:console` (npm install does it when dev dependencies are installed).'
  );
}

const acceptsHtml = (request: FastifyRequest) => /\btext\/html\b/.test(String(request.headers.accept ?? ''));
const acceptsGzip = (request: FastifyRequest) => /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));

const NOT_BUILT_PAGE = Buffer.from(
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>flaghost</title></head><body style="font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem">' +
    '<h1>The web console is not built</h1><p>The API works as usual. To build the console, run <code>npm run build:console</code> ' +
    '(or <code>npm install</code> with dev dependencies) and restart flaghost.</p></body></html>',
);

export async function consoleRoutes(app: FastifyInstance, opts: { dir?: string }): Promise<void> {
  const build = loadConsoleBuild(opts.dir ?? DEFAULT_CONSOLE_DIR);

  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    // Scripts and API clients asking for JSON keep the 404 every unknown path answers.
    if (!acceptsHtml(request)) throw new NotFoundError();
    if (!build) return reply.code(503).headers({ 'cache-control': 'no-store' }).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
    return reply.code(200).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(build.index);
  };
  for (const url of CONSOLE_PATHS) app.get(url, { schema: { hide: true } }, page);

  app.get('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    const asset = build?.assets.get(name);
    if (!asset) throw new NotFoundError();
    reply.headers({ 'cache-control': IMMUTABLE, 'x-content-type-options': 'nosniff', vary: 'accept-encoding' }).type(asset.type);
    if (asset.gzip && acceptsGzip(request)) return reply.header('content-encoding', 'gzip').send(asset.gzip);
    return reply.send(asset.body);
  });
}

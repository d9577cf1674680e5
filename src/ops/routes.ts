// /_livez, /_readyz, /_health and /metrics (README "Operating flaghost"), and the hook that measures
// every request Fastify answers. The probes are answered without authentication, rate limits or a
// log line per request (a probe every few seconds would drown the log), and without waiting for a
// database that does not answer. They are not in the OpenAPI document: PostHog's has none of them.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../platform/config.ts';
import type { Database } from '../platform/db/index.ts';
import { AuthenticationFailedError, NotAuthenticatedError } from '../platform/errors.ts';
import { registerLogSecret } from '../platform/log-redaction.ts';
import { Health } from './health.ts';
import { Metrics, UNMATCHED_ROUTE, type MetricSources } from './metrics.ts';

/** How long /_readyz and /_health wait for the database: within the 1 s a Kubernetes probe waits by default. */
const DATABASE_CHECK_MS = 900;

/** Compares two secrets in constant time, whatever their lengths. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => crypto.createHash('sha256').update(text).digest();
  return crypto.timingSafeEqual(digest(given), digest(expected));
}

function requireMetricsToken(request: FastifyRequest, token: string): void {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) throw new NotAuthenticatedError();
  if (!sameSecret(match[1], token)) throw new AuthenticationFailedError();
}

/** `?exclude=postgres&exclude=snapshots_loaded` as a set of names. */
function excluded(query: unknown): Set<string> {
  const value = (query as Record<string, unknown> | undefined)?.exclude;
  return new Set((Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string'));
}

export interface OpsDeps extends MetricSources {
  config: Config;
  database: Database;
}

/** Registers the probes and /metrics on the root instance, and measures every route; returns the metrics for the hot path. */
export function registerOps(app: FastifyInstance, deps: OpsDeps): Metrics {
  const metrics = new Metrics(deps);
  const health = new Health({ database: deps.database, snapshots: deps.snapshots, timeoutMs: DATABASE_CHECK_MS });
  const token = deps.config.metricsToken;
  registerLogSecret(token);

  // Routes are labelled by their pattern (`/api/projects/:project_id/feature_flags/:id/`), never the URL.
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    metrics.observeRequest(request.routeOptions.url ?? UNMATCHED_ROUTE, request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  const quiet = { logLevel: 'silent' as const, schema: { hide: true } };
  app.get('/_livez', quiet, async () => health.live());
  app.get('/_readyz', quiet, async (request, reply) => {
    const { status, body } = await health.readiness(excluded(request.query));
    return reply.code(status).header('cache-control', 'no-store').send(body);
  });
  app.get('/_health', quiet, async (_request, reply) => {
    const { status, text } = await health.health();
    return reply.code(status).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(text);
  });
  app.get('/metrics', quiet, async (request, reply) => {
    if (token) requireMetricsToken(request, token);
    const text = await metrics.scrape();
    return reply.header('cache-control', 'no-store').type(metrics.contentType).send(text);
  });
  return metrics;
}

// Remote evaluation endpoints: /flags (v2 and legacy shapes) and /decide v1–v4, with PostHog's
// GET/HEAD/OPTIONS behaviour, body decoding and config keys. No database on the common path.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { allowBrowserOrigin, decodeSdkBody, preflight } from '../plugins/sdk-body.ts';
import { serviceValidated } from '../plugins/openapi.ts';
import { evaluateRemote, parseFlagsRequest, requestIdFrom, unseenGroupTypes } from '../services/remote-evaluation.ts';
import { ensureGroupTypes } from '../services/group-types.ts';
import type { SnapshotStore, ProjectSnapshot } from '../services/snapshots.ts';
import { configKeys } from '../services/sdk-config.ts';
import type { FlagEvaluation } from '../evaluation/index.ts';
import { AuthenticationFailedError, MethodNotAllowedError } from '../lib/errors.ts';

type Endpoint = 'flags' | 'decide';
type Json = Record<string, unknown>;

const FlagsQuery = z.looseObject({
  v: z.string().optional().meta({ description: 'Response version: 2 (default) or 1 for the legacy shape' }),
  config: z.string().optional().meta({ description: 'Include remote-config keys' }),
  compression: z.string().optional().meta({ description: 'gzip, gzip-js or base64' }),
  only_evaluate_survey_feature_flags: z.string().optional(),
});

const FlagsBodyDoc = z
  .object({
    token: z.string().optional(),
    api_key: z.string().optional(),
    distinct_id: z.union([z.string(), z.number()]),
    groups: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    person_properties: z.record(z.string(), z.unknown()).optional(),
    group_properties: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    flag_keys_to_evaluate: z.array(z.string()).optional(),
    $anon_distinct_id: z.string().optional(),
    $device_id: z.string().optional(),
    evaluation_contexts: z.array(z.string()).optional(),
    evaluation_runtime: z.enum(['server', 'client']).optional(),
    disable_flags: z.boolean().optional(),
    geoip_disable: z.boolean().optional(),
  })
  .meta({ id: 'FlagsRequest', description: 'Also accepted gzip-compressed, base64 and as a form field `data=`.' });

interface Shape {
  version: number;
  withConfig: boolean;
}

function shapeFor(endpoint: Endpoint, query: Json): Shape {
  const rawV = query.v ?? query.version;
  const v = typeof rawV === 'string' && /^\d+$/.test(rawV) ? Number(rawV) : undefined;
  const config = typeof query.config === 'string' ? ['true', '1', 'yes'].includes(query.config.toLowerCase()) : undefined;
  if (endpoint === 'decide') return { version: v ?? 1, withConfig: config ?? true };
  if (v === undefined && config === undefined) return { version: 2, withConfig: true };
  return { version: v ?? 1, withConfig: config ?? false };
}

/** v2 (`/flags?v>=2`, `/decide?v>=4`) or the older shapes. */
function render(endpoint: Endpoint, shape: Shape, results: FlagEvaluation[], snapshot: ProjectSnapshot | undefined, requestId: string): Json {
  const errors = results.some((r) => r.failed);
  const base: Json = shape.withConfig ? configKeys(snapshot) : {};
  const v2 = endpoint === 'flags' ? shape.version >= 2 : shape.version >= 4;
  if (v2) {
    const flags: Json = {};
    for (const r of results) {
      flags[r.key] = {
        key: r.key,
        enabled: r.enabled,
        variant: r.variant,
        ...(r.failed ? { failed: true } : {}),
        reason: { code: r.reason.code, condition_index: r.reason.conditionIndex, description: r.reason.description },
        metadata: { id: r.id, version: r.version ?? 0, description: null, payload: r.enabled ? (r.payload ?? null) : null, has_experiment: false },
      };
    }
    return { ...base, errorsWhileComputingFlags: errors, flags, requestId, evaluatedAt: Date.now() };
  }
  const value = (r: FlagEvaluation) => (r.enabled ? (r.variant ?? true) : false);
  if (endpoint === 'decide' && shape.version <= 1) {
    return { ...base, featureFlags: results.filter((r) => r.enabled).map((r) => r.key), errorsWhileComputingFlags: errors, requestId, evaluatedAt: Date.now() };
  }
  if (endpoint === 'decide' && shape.version === 2) {
    const featureFlags: Json = {};
    for (const r of results) if (r.enabled) featureFlags[r.key] = value(r);
    return { ...base, featureFlags, errorsWhileComputingFlags: errors, requestId, evaluatedAt: Date.now() };
  }
  const featureFlags: Json = {};
  const featureFlagPayloads: Json = {};
  for (const r of results) {
    featureFlags[r.key] = value(r);
    if (r.enabled && r.payload !== undefined && r.payload !== null) featureFlagPayloads[r.key] = r.payload;
  }
  return { ...base, errorsWhileComputingFlags: errors, featureFlags, featureFlagPayloads, requestId, evaluatedAt: Date.now() };
}

export async function sdkFlagsRoutes(app: FastifyInstance, opts: { snapshots: SnapshotStore }): Promise<void> {
  const { ctx } = app.services;
  const { snapshots } = opts;

  const handlePost = (endpoint: Endpoint) => async (request: FastifyRequest, reply: FastifyReply) => {
    // Before anything can fail: a browser must be able to read error answers too.
    allowBrowserOrigin(request, reply);
    const query = request.query as Json;
    const body = decodeSdkBody(request.body as Buffer | undefined, {
      contentType: request.headers['content-type'],
      contentEncoding: request.headers['content-encoding'] as string | undefined,
      compression: typeof query.compression === 'string' ? query.compression : undefined,
    });
    const parsed = parseFlagsRequest(body, {
      query,
      userAgent: request.headers['user-agent'],
      hasBrowserHeaders: Boolean(request.headers.origin || request.headers.referer || request.headers['sec-fetch-mode'] || request.headers['sec-fetch-site']),
    });
    const snapshot = parsed.token ? await snapshots.forToken(parsed.token) : undefined;
    if (!snapshot) throw new AuthenticationFailedError('Project API key invalid. You can find your project API key in your PostHog project settings.');
    const unseen = unseenGroupTypes(snapshot, parsed.evaluation);
    // Registering a new group type cannot change this answer (no flag targets it yet): don't wait.
    if (unseen.length) ensureGroupTypes(ctx, snapshot.project.id, unseen).catch((err) => request.log.warn({ err }, 'group type registration failed'));
    const results = parsed.disableFlags ? [] : await evaluateRemote(ctx, snapshot, parsed.evaluation);
    const out = render(endpoint, shapeFor(endpoint, query), results, snapshot, requestIdFrom(request.headers['x-request-id']));
    return reply.type('application/json').send(JSON.stringify(out));
  };

  const handleGet = (endpoint: Endpoint) => async (request: FastifyRequest, reply: FastifyReply) => {
    const out = render(endpoint, shapeFor(endpoint, request.query as Json), [], undefined, requestIdFrom(request.headers['x-request-id']));
    allowBrowserOrigin(request, reply);
    return reply.type('application/json').send(JSON.stringify(out));
  };

  for (const endpoint of ['flags', 'decide'] as const) {
    const url = `/${endpoint}`;
    const tags = ['sdk'];
    app.post(url, {
      schema: {
        tags,
        summary: endpoint === 'flags' ? 'Evaluate flags for a person (PostHog /flags)' : 'Legacy remote evaluation (PostHog /decide)',
        querystring: FlagsQuery,
        body: serviceValidated(FlagsBodyDoc),
        security: [],
      },
    }, handlePost(endpoint));
    app.get(url, { schema: { tags, summary: 'Minimal config with no flags', querystring: FlagsQuery, security: [] } }, handleGet(endpoint));
    app.options(url, { schema: { hide: true } }, async (request, reply) => preflight(request, reply));
    app.route({
      method: ['PUT', 'PATCH', 'DELETE'],
      url,
      schema: { hide: true },
      handler: async (request) => {
        throw new MethodNotAllowedError(request.method);
      },
    });
  }
}

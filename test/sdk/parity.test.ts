// The SDK endpoints answer the same on both paths: one table of requests, each sent over a real
// socket (where src/sdk/hot-path.ts answers what it can from memory) and through app.inject (which
// never reaches the server's request listener, so always runs the Fastify route). Status, the
// headers a client reads, and body must be identical, and each case's expected status pins down
// that both are right. Which path answered is checked too: Fastify logs every request it handles.
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/app.ts';
import { createOrganization, createProject } from '../../src/access/organizations/admin.ts';
import { ADMIN_KEY, createTestApp, PROJECT_TOKEN, SECRET_TOKEN, type TestApp } from '../helpers/app.ts';
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { createFlag } from '../helpers/sdk.ts';
import { signIn, userWithPassword } from '../helpers/session.ts';

interface Server {
  t: TestApp;
  /** Requests Fastify handled (its request log). */
  fastifyRequests: () => number;
  /** Requests that reached the node:http server (the hot path sees every one of them first). */
  socketRequests: () => number;
}

async function start(env: Record<string, string> = {}): Promise<Server> {
  const lines: string[] = [];
  const t = await createTestApp({ env, logger: { ...loggerOptions('info'), stream: { write: (line: string) => void lines.push(line) } } });
  let socket = 0;
  t.app.server.prependListener('request', () => void socket++);
  return {
    t,
    fastifyRequests: () => lines.filter((l) => l.includes('"msg":"incoming request"')).length,
    socketRequests: () => socket,
  };
}

type Value = string | (() => string);
interface Case {
  name: string;
  method: 'GET' | 'POST';
  path: Value;
  headers?: Record<string, Value>;
  body?: Buffer | string;
  status: number;
  /** Whether the hot path answers it on a listening server once caches are warm. */
  hot: boolean;
  /** The server with FLAGHOST_RATE_LIMIT_EVALUATIONS_PER_MINUTE=1. */
  throttled?: boolean;
}

let main: Server;
let throttled: Server;
const keys: Record<string, string> = {};
let etag = '';
let strictToken = '';

const value = (v: Value) => (typeof v === 'function' ? v() : v);
const bearer = (name: string) => ({ authorization: () => `Bearer ${keys[name]}` });
const REQUEST_ID = '0b9f4b1e-3c55-4f7e-9a43-5d0a1c2b3e4f';
const ORIGIN = 'https://app.example.com';
const flagsBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ token: PROJECT_TOKEN, distinct_id: 'user-1', person_properties: { plan: 'pro' }, ...extra });
const JSON_TYPE = { 'content-type': 'application/json' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };
const b64 = (text: string) => Buffer.from(text).toString('base64');
const defs = (path: string, headers: Record<string, Value>, status: number, hot: boolean, name = path): Case => ({
  name,
  method: 'GET',
  path,
  headers,
  status,
  hot,
});
const post = (name: string, path: string, headers: Record<string, Value>, body: Buffer | string | undefined, status: number): Case => ({
  name,
  method: 'POST',
  path,
  headers: { 'x-request-id': REQUEST_ID, ...headers },
  body,
  status,
  // Every /flags and /decide POST is read by the hot path.
  hot: true,
});

const T = `token=${PROJECT_TOKEN}`;
const CASES: Case[] = [
  // Definitions: each credential form, each URL spelling, conditional and compressed answers.
  defs(`/flags/definitions?${T}&send_cohorts`, bearer('admin'), 200, true, 'personal API key, Bearer'),
  defs(`/flags/definitions/?${T}`, { authorization: `Bearer ${SECRET_TOKEN}` }, 200, true, 'project secret, Bearer'),
  defs(`/api/feature_flag/local_evaluation?${T}`, bearer('reader'), 200, true, 'feature_flag:read key'),
  defs('/api/feature_flag/local_evaluation/', { authorization: `Bearer ${SECRET_TOKEN}` }, 200, true, "secret without token: the secret's project"),
  defs('/flags/definitions', bearer('admin'), 200, true, "personal key without token: the user's current project"),
  defs(`/flags/definitions?${T}&personal_api_key=${ADMIN_KEY}`, {}, 200, true, 'personal API key in the query'),
  defs(`/flags/definitions?${T}`, { authorization: () => `bearer  ${keys.admin}` }, 200, true, 'lowercase bearer, extra space'),
  defs(`/flags/definitions?${T}&send_cohorts`, { ...bearer('admin'), 'if-none-match': () => etag }, 304, true, 'If-None-Match: 304'),
  defs(`/flags/definitions?${T}&send_cohorts`, { ...bearer('admin'), 'accept-encoding': 'gzip, deflate' }, 200, true, 'gzip'),
  defs(`/flags/definitions?${T}&send_cohorts=false`, bearer('admin'), 200, true, 'send_cohorts=false'),
  defs(`/flags/definitions?${T}&send_cohorts=%ZZ`, bearer('admin'), 200, true, 'malformed escape in a value'),
  defs(`/flags/definitions?${T}&unknown=1&unknown=2`, bearer('admin'), 200, true, 'duplicated unknown parameter'),
  defs('/api/projects/1/feature_flags/local_evaluation', bearer('admin'), 200, false, 'project path (Fastify only)'),
  // Refusals.
  defs(`/flags/definitions?${T}`, bearer('cohortReader'), 403, true, 'key scoped to cohort:read'),
  defs(`/flags/definitions?${T}`, bearer('otherTeam'), 403, true, 'key scoped to another project'),
  defs(`/flags/definitions?${T}`, { authorization: () => `Bearer ${keys.otherSecret}` }, 403, true, "another project's secret"),
  {
    ...defs('', bearer('noKeysMember'), 403, true, 'organization refuses personal API keys to members'),
    path: () => `/flags/definitions?token=${strictToken}`,
  },
  { ...defs('', bearer('admin'), 403, true, 'a project of an organization the user is not in'), path: () => `/flags/definitions?token=${strictToken}` },
  defs(`/flags/definitions?${T}`, bearer('revoked'), 401, true, 'revoked key'),
  defs(`/flags/definitions?${T}`, bearer('inactive'), 401, true, "a deactivated user's key"),
  defs(`/flags/definitions?${T}`, { authorization: 'Bearer phx_unknownkey000000000000000000000000' }, 401, true, 'unknown personal key'),
  defs(`/flags/definitions?${T}`, { authorization: 'Bearer phs_unknownsecret00000000000000000000' }, 401, true, 'unknown secret'),
  defs('/flags/definitions?token=phc_unknowntoken0000000000000000000', bearer('admin'), 401, false, 'unknown project token'),
  defs(`/flags/definitions?${T}`, {}, 401, true, 'no credentials'),
  // Sessions are read from the database on every request: Fastify answers them.
  defs(`/flags/definitions?${T}`, { cookie: () => keys.session }, 200, false, 'console session'),
  defs(`/flags/definitions?${T}`, { cookie: 'sessionid=unknown' }, 401, false, 'unknown session'),
  defs(`/flags/definitions?${T}&${T}`, bearer('admin'), 400, true, 'token twice'),
  defs(`/flags/definitions?${T}&send_cohorts&send_cohorts=1`, bearer('admin'), 400, true, 'send_cohorts twice'),
  { ...defs(`/flags/definitions?${T}`, bearer('admin'), 429, true, 'rate limit exhausted'), throttled: true },

  // /flags and /decide: each body encoding and token place.
  post('plain JSON', '/flags/?v=2', JSON_TYPE, flagsBody(), 200),
  post('JSON as text/plain', '/flags?v=2', { 'content-type': 'text/plain' }, flagsBody(), 200),
  post('JSON without content-type', '/flags/?v=2', {}, flagsBody(), 200),
  post('api_key in the body', '/flags/?v=2', JSON_TYPE, JSON.stringify({ api_key: PROJECT_TOKEN, distinct_id: 'u' }), 200),
  post('$token in the body', '/flags/?v=2', JSON_TYPE, JSON.stringify({ $token: PROJECT_TOKEN, distinct_id: 'u' }), 200),
  post('token in the query', `/flags/?v=2&${T}`, JSON_TYPE, JSON.stringify({ distinct_id: 'u' }), 200),
  post('gzip by ?compression=gzip', '/flags/?v=2&compression=gzip', JSON_TYPE, zlib.gzipSync(flagsBody()), 200),
  post('gzip by ?compression=gzip-js', '/flags/?v=2&compression=gzip-js', { 'content-type': 'text/plain' }, zlib.gzipSync(flagsBody()), 200),
  post('gzip by Content-Encoding', '/flags/?v=2', { ...JSON_TYPE, 'content-encoding': 'gzip' }, zlib.gzipSync(flagsBody()), 200),
  post('gzip by magic bytes', '/flags/?v=2', JSON_TYPE, zlib.gzipSync(flagsBody()), 200),
  post('form data=<base64>', '/flags/?v=2', FORM_TYPE, `data=${encodeURIComponent(b64(flagsBody()))}`, 200),
  post('form with ?compression=base64', '/flags/?v=2&compression=base64', FORM_TYPE, `data=${encodeURIComponent(b64(flagsBody()))}`, 200),
  post('form data=<gzip base64>', '/flags/?v=2', FORM_TYPE, `data=${encodeURIComponent(zlib.gzipSync(flagsBody()).toString('base64'))}`, 200),
  post('URL-encoded JSON text', '/flags/?v=2', { 'content-type': 'text/plain' }, encodeURIComponent(flagsBody()), 200),
  post('base64 text', '/flags/?v=2', { 'content-type': 'text/plain' }, b64(flagsBody()), 200),
  post('legacy shape ?v=1', '/flags/?v=1', JSON_TYPE, flagsBody(), 200),
  post('no version: v2 with config', '/flags', JSON_TYPE, flagsBody(), 200),
  post('/decide v3', '/decide/?v=3', JSON_TYPE, flagsBody(), 200),
  post('/decide v4', '/decide?v=4', JSON_TYPE, flagsBody(), 200),
  post('v not a number', '/flags/?v=abc', JSON_TYPE, flagsBody(), 200),
  post('v empty', '/flags/?v=&config=true', JSON_TYPE, flagsBody(), 200),
  post('duplicated unknown parameter', '/flags/?v=2&ver=1&ver=2&_=1', JSON_TYPE, flagsBody(), 200),
  post('Origin: CORS headers', '/flags/?v=2', { ...JSON_TYPE, origin: ORIGIN }, flagsBody(), 200),
  // Refused /flags requests.
  post('v twice', '/flags/?v=1&v=2', JSON_TYPE, flagsBody(), 400),
  post('v and version', '/flags/?v=2&version=2', JSON_TYPE, flagsBody(), 400),
  post('config twice', '/flags/?v=2&config=true&config=false', JSON_TYPE, flagsBody(), 400),
  post('compression twice', '/flags/?v=2&compression=gzip&compression=gzip', JSON_TYPE, zlib.gzipSync(flagsBody()), 400),
  post('unknown compression', '/flags/?v=2&compression=zip', JSON_TYPE, flagsBody(), 400),
  post('malformed JSON', '/flags/?v=2', JSON_TYPE, '{"token": ', 400),
  post('malformed JSON, with Origin', '/flags/?v=2', { ...JSON_TYPE, origin: ORIGIN }, '{"token": ', 400),
  post('not gzip', '/flags/?v=2', { ...JSON_TYPE, 'content-encoding': 'gzip' }, 'not gzip', 400),
  post('form body cannot be gzip', '/flags/?v=2&compression=gzip', FORM_TYPE, `data=${encodeURIComponent(b64(flagsBody()))}`, 400),
  post('multipart', '/flags/?v=2', { 'content-type': 'multipart/form-data; boundary=x' }, flagsBody(), 400),
  post('too deep', '/flags/?v=2', JSON_TYPE, `${'['.repeat(1001)}${']'.repeat(1001)}`, 400),
  post('empty body', '/flags/?v=2', JSON_TYPE, undefined, 400),
  post('JSON array body', '/flags/?v=2', JSON_TYPE, '[]', 400),
  post('no distinct_id', '/flags/?v=2', JSON_TYPE, JSON.stringify({ token: PROJECT_TOKEN }), 400),
  post('no token', '/flags/?v=2', JSON_TYPE, JSON.stringify({ distinct_id: 'u' }), 401),
  post('unknown token', '/flags/?v=2', JSON_TYPE, JSON.stringify({ token: 'phc_unknown000000000000000000', distinct_id: 'u' }), 401),
  post('too large', '/flags/?v=2', { ...JSON_TYPE, origin: ORIGIN }, Buffer.alloc(2 * 1024 * 1024 + 1, 0x20), 413),
  post('gzip bomb', '/flags/?v=2&compression=gzip', JSON_TYPE, zlib.gzipSync(Buffer.alloc(5 * 1024 * 1024, 0x20)), 413),
];

/** The headers a client acts on; transport framing (length, chunking, connection) is not compared. */
const COMPARED = [
  'content-type',
  'content-encoding',
  'cache-control',
  'etag',
  'vary',
  'retry-after',
  'allow',
  'access-control-allow-origin',
  'access-control-allow-credentials',
];

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

function answer(status: number, headers: Record<string, unknown>, body: Buffer): Answer {
  const picked: Record<string, string | undefined> = {};
  for (const name of COMPARED) picked[name] = headers[name] === undefined ? undefined : String(headers[name]);
  const text = headers['content-encoding'] === 'gzip' ? `gzip:${zlib.gunzipSync(body).toString('latin1')}` : body.toString('latin1');
  // The only value that may differ between two answers to one request: the time of evaluation.
  return { status, headers: picked, body: text.replace(/"evaluatedAt":\d+/, '"evaluatedAt":0') };
}

beforeAll(async () => {
  [main, throttled] = await Promise.all([start(), start({ FLAGHOST_RATE_LIMIT_EVALUATIONS_PER_MINUTE: '1' })]);
  const t = main.t;
  await createFlag(t, { key: 'pro-only', filters: { groups: [{ properties: [{ key: 'plan', value: 'pro', type: 'person' }], rollout_percentage: 100 }] } });
  await createFlag(t, { key: 'half', filters: { groups: [{ properties: [], rollout_percentage: 50 }] } });
  keys.admin = ADMIN_KEY;
  keys.reader = (await t.userWithKey({ email: 'reader@example.com', scopes: ['feature_flag:read'] })).key;
  keys.cohortReader = (await t.userWithKey({ email: 'cohorts@example.com', scopes: ['cohort:read'] })).key;
  const other = await createProject(t.ctx, { name: 'Other' });
  keys.otherSecret = other.secretApiToken;
  keys.otherTeam = (await t.userWithKey({ email: 'scoped@example.com', scopes: ['feature_flag:read'], scopedTeams: [other.id] })).key;
  // An organization whose members may not use personal API keys.
  const strict = await createOrganization(t.ctx, 'Strict');
  strictToken = (await createProject(t.ctx, { name: 'Strict project', organizationId: strict.id })).apiToken;
  await t.sql('update organizations set members_can_use_personal_api_keys = false where id = $1', [strict.id]);
  keys.noKeysMember = (await t.userWithKey({ email: 'member@example.com', organizationId: strict.id })).key;
  await userWithPassword(t, 'console@example.com', 'a-long-password');
  keys.session = (await signIn(t, 'console@example.com', 'a-long-password')).cookie;
  // A user deactivated after their key was cached.
  const inactive = await t.userWithKey({ email: 'leaver@example.com', scopes: ['feature_flag:read'] });
  keys.inactive = inactive.key;
  expect(await t.app.services.authenticator.personalApiKey(keys.inactive)).toBeDefined();
  await t.sql('update users set is_active = false where id = $1', [inactive.userId]);
  t.app.services.authenticator.clear();
  // A key that worked, then was revoked.
  const revoked = await t.api('post', '/api/personal_api_keys/').send({ label: 'revoked', scopes: ['*'] });
  keys.revoked = revoked.body.value;
  expect((await rawRequest(t.baseUrl, 'GET', `/flags/definitions?${T}`, { authorization: `Bearer ${keys.revoked}` })).status).toBe(200);
  expect((await t.api('delete', `/api/personal_api_keys/${revoked.body.id}/`)).status).toBe(204);
  const first = await rawRequest(t.baseUrl, 'GET', `/flags/definitions?${T}&send_cohorts`, { authorization: `Bearer ${ADMIN_KEY}` });
  etag = String(first.headers.etag);
}, 180_000);

afterAll(async () => {
  await Promise.all([main?.t.close(), throttled?.t.close()]);
});

async function overSocket(server: Server, c: Case, headers: Record<string, string>): Promise<RawResponse> {
  return rawRequest(server.t.baseUrl, c.method, value(c.path), headers, c.body);
}

describe('the hot path and the Fastify routes answer every SDK request alike', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const server = c.throttled ? throttled : main;
    const headers = Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k, value(v)]));
    // Warm-up: the first request may need the database (keys, snapshots); the next is answered from memory.
    await overSocket(server, c, headers);

    const fastifyBefore = server.fastifyRequests();
    const socket = await overSocket(server, c, headers);
    expect(server.fastifyRequests() - fastifyBefore, c.hot ? 'the hot path answered' : 'Fastify answered').toBe(c.hot ? 0 : 1);

    const socketsBefore = server.socketRequests();
    const injected = await server.t.app.inject({ method: c.method, url: value(c.path), headers, payload: c.body });
    expect(server.socketRequests(), 'app.inject never reaches the server (nor the hot path)').toBe(socketsBefore);
    expect(server.fastifyRequests() - fastifyBefore, 'the Fastify route answered app.inject').toBe(c.hot ? 1 : 2);

    const bySocket = answer(socket.status, socket.headers, socket.body);
    const byRoute = answer(injected.statusCode, injected.headers, injected.rawPayload);
    expect(bySocket.status, bySocket.body).toBe(c.status);
    expect(bySocket).toEqual(byRoute);
  });
});

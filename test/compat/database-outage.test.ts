// Two flaghost instances on a PostgreSQL cluster of their own that the test stops, kills and
// freezes (SIGSTOP). During an outage /flags, /decide and the definitions answer from the last
// known state, flags that need stored person data come back failed (PostHog's answer), management
// and capture fail fast with 503; after it, the LISTEN connection is back and reloads what it missed.
// PostgreSQL only (DATABASE_URL set): PGlite runs in the process and cannot go down on its own.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { openDatabase, type Database } from '../../src/platform/db/index.ts';
import { bootstrap, createProject } from '../../src/access/organizations/admin.ts';
import { ADMIN_KEY, PROJECT_TOKEN, SECRET_TOKEN } from '../helpers/app.ts';
import { PgCluster } from '../helpers/pg-cluster.ts';

const POSTGRES = Boolean(process.env.DATABASE_URL);

type Json = Record<string, any>;

interface Instance {
  app: FastifyInstance;
  database: Database;
  baseUrl: string;
  close(): Promise<void>;
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
  /** Milliseconds from sending to the end of the answer. */
  ms: number;
}

/** One HTTP request on a fresh socket; gives up after 15 s (what "hung" means here). */
function request(
  instance: Instance,
  method: string,
  path: string,
  options: { body?: unknown; key?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const text = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (text !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, instance.baseUrl), { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        let body: unknown = raw;
        try {
          body = raw ? JSON.parse(raw) : undefined;
        } catch {
          // Not JSON: keep the text.
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - started });
      });
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path}: no answer within 15 s`)));
    req.on('error', reject);
    req.end(text);
  });
}

async function startInstance(url: string, first: boolean): Promise<Instance> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PORT: '0',
    DATABASE_URL: url,
    FLAGHOST_SECRET_KEY: 'test-secret-key-0123456789abcdef',
    FLAGHOST_DB_POOL_SIZE: '4',
    // Only notifications (and reconnects) carry changes between instances here.
    FLAGHOST_SNAPSHOT_CHECK_INTERVAL_MS: '3600000',
  });
  const database = await openDatabase(config.database);
  if (first) await database.migrate();
  const app = await buildApp({ config, database });
  if (first)
    await bootstrap(app.services.ctx, { adminEmail: 'admin@example.com', personalApiKey: ADMIN_KEY, projectToken: PROJECT_TOKEN, secretToken: SECRET_TOKEN });
  await app.services.start();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    database,
    baseUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

let cluster: PgCluster;
let a: Instance;
let b: Instance;
const flagIds: Record<string, number> = {};
/** A second project whose only flag needs nothing from the database. */
let second: { id: number; token: string; soloId: number };

const flagsFor = (instance: Instance, body: Json = {}, query = 'v=2') =>
  request(instance, 'POST', `/flags/?${query}`, { body: { token: PROJECT_TOKEN, distinct_id: 'ada', ...body } });
const secondFlags = (instance: Instance) => request(instance, 'POST', '/flags/?v=2', { body: { token: second.token, distinct_id: 'ada' } });
const definitions = (instance: Instance, key: string, headers: Record<string, string> = {}) =>
  request(instance, 'GET', `/flags/definitions?token=${PROJECT_TOKEN}`, { key, headers });

/** What the test's own connection reads from the cluster (pg_stat_activity…). */
async function clusterQuery<T>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const listeners = async () => (await clusterQuery<{ n: number }>("select count(*)::int as n from pg_stat_activity where query ilike 'listen%'"))[0].n;

/** Milliseconds until `check` holds, polling every 20 ms; Infinity past `limitMs`. */
async function timeUntil(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= limitMs) {
    if (await check().catch(() => false)) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  return Infinity;
}

/** After a restart: both instances serve management requests again and both listen again. */
async function recovered(): Promise<void> {
  for (const instance of [a, b]) {
    const ms = await timeUntil(async () => (await request(instance, 'GET', '/api/projects/1/feature_flags/', { key: ADMIN_KEY })).status === 200, 20_000);
    expect(ms, 'management answers again').toBeLessThan(Infinity);
  }
  expect(await timeUntil(async () => (await listeners()) === 2, 15_000), 'both instances listen again').toBeLessThan(Infinity);
}

const SERVICE_UNAVAILABLE = { type: 'server_error', code: 'service_unavailable', detail: expect.any(String), attr: null };

function failedFlag(key: string, code: string | RegExp): Json {
  return {
    key,
    enabled: false,
    variant: null,
    failed: true,
    reason: { code: typeof code === 'string' ? code : expect.stringMatching(code), condition_index: null, description: expect.any(String) },
    metadata: { id: flagIds[key], version: expect.any(Number), description: null, payload: null, has_experiment: false },
  };
}

beforeAll(async () => {
  if (!POSTGRES) return;
  cluster = await PgCluster.create();
  a = await startInstance(cluster.url, true);
  b = await startInstance(cluster.url, false);
  const create = async (body: Json) => {
    const res = await request(a, 'POST', '/api/projects/1/feature_flags/', { key: ADMIN_KEY, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    flagIds[body.key] = res.body.id;
  };
  // ada's email is stored (captured), not sent by the SDK; she is in a static cohort.
  const captured = await request(a, 'POST', '/batch/', {
    body: { api_key: PROJECT_TOKEN, batch: [{ event: '$identify', distinct_id: 'ada', properties: { $set: { email: 'ada@example.com' } } }] },
  });
  expect(captured.status).toBe(200);
  const cohort = await request(a, 'POST', '/api/projects/1/cohorts/', { key: ADMIN_KEY, body: { name: 'beta', is_static: true, distinct_ids: ['ada'] } });
  expect(cohort.status).toBe(201);
  await create({ key: 'plain', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
  await create({
    key: 'by-email',
    filters: { groups: [{ properties: [{ key: 'email', value: 'example.com', operator: 'icontains', type: 'person' }], rollout_percentage: 100 }] },
  });
  await create({ key: 'beta', filters: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: cohort.body.id }], rollout_percentage: 100 }] } });
  await create({ key: 'sticky', ensure_experience_continuity: true, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
  const project = await createProject(a.app.services.ctx, { name: 'Second' });
  const solo = await request(a, 'POST', `/api/projects/${project.id}/feature_flags/`, {
    key: ADMIN_KEY,
    body: { key: 'solo', filters: { groups: [{ properties: [], rollout_percentage: 0 }] } },
  });
  expect(solo.status).toBe(201);
  second = { id: project.id, token: project.apiToken, soloId: solo.body.id };
  expect(await timeUntil(async () => (await listeners()) === 2, 5000)).toBeLessThan(Infinity);
});

afterAll(async () => {
  if (!cluster) return;
  cluster.thaw();
  const closing = Promise.all([a?.close(), b?.close()]).catch(() => {
    // Best-effort cleanup: the instances may already have failed with the cluster.
  });
  await Promise.race([closing, new Promise((r) => setTimeout(r, 15_000))]);
  await cluster.remove();
});

// The tests are the phases of one outage (before, stopped, restarted, killed, frozen), so they run in
// this order even when the suite is shuffled; every other test file's order is random in CI.
describe.skipIf(!POSTGRES)('a database outage, on two instances', { shuffle: false }, () => {
  /** A personal API key revoked while the database was up: the instances know it is refused. */
  let revokedKey: string;
  /** When credentials were last checked against the database. */
  let lastValidated = 0;
  let etag: string;

  it('before: every flag answers from stored data; the instances know the keys', async () => {
    for (const instance of [a, b]) {
      const res = await flagsFor(instance);
      expect(res.status).toBe(200);
      expect(res.body.errorsWhileComputingFlags).toBe(false);
      for (const key of ['plain', 'by-email', 'beta', 'sticky']) expect(res.body.flags[key].enabled, key).toBe(true);
    }
    const created = await request(a, 'POST', '/api/personal_api_keys/', { key: ADMIN_KEY, body: { label: 'to revoke', scopes: ['feature_flag:read'] } });
    expect(created.status).toBe(201);
    revokedKey = created.body.value;
    for (const instance of [a, b]) expect((await definitions(instance, revokedKey)).status).toBe(200);
    expect((await request(a, 'DELETE', `/api/personal_api_keys/${created.body.id}/`, { key: ADMIN_KEY })).status).toBe(204);
    for (const instance of [a, b]) {
      expect(await timeUntil(async () => (await definitions(instance, revokedKey)).status === 401, 2000)).toBeLessThan(Infinity);
      const res = await definitions(instance, ADMIN_KEY);
      expect(res.status).toBe(200);
      etag = res.headers.etag as string;
      expect((await definitions(instance, SECRET_TOKEN)).status).toBe(200);
    }
    lastValidated = Date.now();
  });

  it('stopped: /flags and /decide answer every request; flags that need stored data come back failed', async () => {
    cluster.stop();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => flagsFor(i % 2 ? a : b)));
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.body.errorsWhileComputingFlags).toBe(true);
      // Needs nothing stored: computed from the request, exactly as before.
      expect(res.body.flags.plain).toMatchObject({ enabled: true, reason: { code: 'condition_match' } });
      expect(res.body.flags.plain.failed).toBeUndefined();
      // Needs the stored email, the static cohort, the stored hash key: PostHog's failed flags.
      expect(res.body.flags['by-email']).toEqual(failedFlag('by-email', 'database_unavailable'));
      expect(res.body.flags.beta).toEqual(failedFlag('beta', 'database_unavailable'));
      expect(res.body.flags.sticky).toEqual(failedFlag('sticky', 'hash_key_override_error'));
    }

    // A request that sends the email needs no stored person for by-email.
    const sent = await flagsFor(a, { person_properties: { email: 'ada@example.com' } });
    expect(sent.body.flags['by-email']).toMatchObject({ enabled: true, reason: { code: 'condition_match' } });
    expect(sent.body.flags.beta.failed).toBe(true);

    const legacy = await flagsFor(b, {}, 'v=1');
    expect(legacy.status).toBe(200);
    expect(legacy.body).toMatchObject({ errorsWhileComputingFlags: true, featureFlags: { plain: true, 'by-email': false, beta: false, sticky: false } });
    const decide = await request(a, 'POST', '/decide/?v=3', { body: { token: PROJECT_TOKEN, distinct_id: 'ada' } });
    expect(decide.status).toBe(200);
    expect(decide.body).toMatchObject({ errorsWhileComputingFlags: true, featureFlags: { plain: true, 'by-email': false } });
    expect((await request(b, 'GET', `/array/${PROJECT_TOKEN}/config`)).status).toBe(200);

    // OFREP (docs/compatibility.md#ofrep-7): the same results, failed flags as GENERAL failures.
    const ofrep = { body: { context: { targetingKey: 'ada' } }, key: PROJECT_TOKEN };
    const all = await request(a, 'POST', '/ofrep/v1/evaluate/flags', ofrep);
    expect(all.status).toBe(200);
    const items = Object.fromEntries((all.body.flags as Json[]).map((f) => [f.key, f]));
    expect(items.plain).toMatchObject({ value: true });
    expect(items['by-email']).toMatchObject({ key: 'by-email', errorCode: 'GENERAL', errorDetails: 'database unavailable' });
    const one = await request(b, 'POST', '/ofrep/v1/evaluate/flags/by-email', ofrep);
    expect(one.status).toBe(503);
    expect(one.body).toMatchObject({ key: 'by-email', errorCode: 'GENERAL' });
  });

  it("stopped: management requests fail fast with 503 in PostHog's envelope; capture answers 503", async () => {
    for (const instance of [a, b]) {
      for (const [method, path, body] of [
        ['GET', '/api/projects/1/feature_flags/', undefined],
        ['PATCH', `/api/projects/1/feature_flags/${flagIds.plain}/`, { name: 'renamed' }],
        ['GET', '/api/projects/1/cohorts/', undefined],
      ] as const) {
        const res = await request(instance, method, path, { key: ADMIN_KEY, body });
        expect(res.status, `${method} ${path}`).toBe(503);
        expect(res.body).toEqual(SERVICE_UNAVAILABLE);
        expect(res.ms).toBeLessThan(5000);
      }
      const capture = await request(instance, 'POST', '/batch/', { body: { api_key: PROJECT_TOKEN, batch: [{ event: 'clicked', distinct_id: 'ada' }] } });
      expect(capture.status).toBe(503);
      expect(capture.body).toEqual({ ...SERVICE_UNAVAILABLE, detail: 'Events could not be stored right now. Please retry.' });
      expect(capture.ms).toBeLessThan(5000);
      // A key never seen cannot be checked: retry later, rather than "invalid".
      expect((await definitions(instance, 'phx_neverseen00000000000000000000000000000')).status).toBe(503);
    }
  });

  it('stopped: definitions keep answering with the credentials last known valid, past the cache lifetime; a revoked key stays refused', async () => {
    // Credentials are re-checked every 10 s while the database answers; during the outage the last answer stands.
    const wait = lastValidated + 10_500 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (const instance of [a, b]) {
      for (const key of [ADMIN_KEY, SECRET_TOKEN]) {
        const res = await definitions(instance, key);
        expect(res.status, key).toBe(200);
        expect(res.headers.etag).toBe(etag);
        expect(res.body.flags.map((f: Json) => f.key).sort()).toEqual(['beta', 'by-email', 'plain', 'sticky']);
      }
      expect((await definitions(instance, ADMIN_KEY, { 'if-none-match': etag })).status).toBe(304);
      const local = await request(instance, 'GET', `/api/feature_flag/local_evaluation?token=${PROJECT_TOKEN}&send_cohorts`, { key: ADMIN_KEY });
      expect(local.status).toBe(200);
      const revoked = await definitions(instance, revokedKey);
      expect(revoked.status).toBe(401);
    }
  });

  it('restarted: each instance listens again and reloads; revocations and changes reach the other instance by notification', async () => {
    cluster.start();
    await recovered();
    // A revocation on A is refused on B within a second: B's listener is back.
    const created = await request(a, 'POST', '/api/personal_api_keys/', { key: ADMIN_KEY, body: { label: 'after', scopes: ['feature_flag:read'] } });
    expect((await definitions(b, created.body.value)).status).toBe(200);
    expect((await request(a, 'DELETE', `/api/personal_api_keys/${created.body.id}/`, { key: ADMIN_KEY })).status).toBe(204);
    expect(await timeUntil(async () => (await definitions(b, created.body.value)).status === 401, 1000)).toBeLessThanOrEqual(1000);
    // A change through A reaches B within a second (the periodic check is an hour away).
    const patched = await request(a, 'PATCH', `/api/projects/1/feature_flags/${flagIds.plain}/`, {
      key: ADMIN_KEY,
      body: { filters: { groups: [{ properties: [], rollout_percentage: 0 }] } },
    });
    expect(patched.status).toBe(200);
    expect(await timeUntil(async () => (await flagsFor(b)).body.flags.plain.enabled === false, 1000)).toBeLessThanOrEqual(1000);
    for (const instance of [a, b]) {
      const res = await flagsFor(instance);
      expect(res.body.errorsWhileComputingFlags).toBe(false);
      expect(res.body.flags['by-email'].enabled).toBe(true);
    }
  });

  it('killed right after an acknowledged write: both instances keep answering from their last snapshot, and serve the write once it is back', async () => {
    // SDKs poll: both instances have checked the credentials and built both projects since the restart.
    for (const instance of [a, b]) {
      for (const key of [ADMIN_KEY, SECRET_TOKEN]) expect((await definitions(instance, key)).status).toBe(200);
      expect((await secondFlags(instance)).body.flags.solo.enabled).toBe(false);
    }
    // Hold the snapshot rebuilds that follow the write (they read cohorts) until the crash, so that they fail.
    const locker = new pg.Client({ connectionString: cluster.url });
    locker.on('error', () => {
      // The crash below cuts this connection on purpose.
    });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table cohorts in access exclusive mode');
    const patched = await request(a, 'PATCH', `/api/projects/${second.id}/feature_flags/${second.soloId}/`, {
      key: ADMIN_KEY,
      body: { filters: { groups: [{ properties: [], rollout_percentage: 100 }] } },
    });
    expect(patched.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    await cluster.kill();

    for (const instance of [a, b]) {
      // The second project needs nothing stored: its snapshot from before the write answers, without errors.
      for (const res of await Promise.all(Array.from({ length: 10 }, () => secondFlags(instance)))) {
        expect(res.status).toBe(200);
        expect(res.body.errorsWhileComputingFlags).toBe(false);
        expect(res.body.flags.solo).toMatchObject({ enabled: false, reason: { code: 'out_of_rollout_bound' } });
      }
      const first = await flagsFor(instance, { person_properties: { email: 'ada@example.com' } });
      expect(first.status).toBe(200);
      expect(first.body.flags['by-email']).toMatchObject({ enabled: true });
      expect(first.body.flags.beta.failed).toBe(true);
      for (const key of [ADMIN_KEY, SECRET_TOKEN]) expect((await definitions(instance, key)).status, key).toBe(200);
      const management = await request(instance, 'GET', '/api/projects/1/feature_flags/', { key: ADMIN_KEY });
      expect(management.status).toBe(503);
      expect(management.ms).toBeLessThan(5000);
    }

    cluster.start();
    await recovered();
    for (const instance of [a, b]) {
      expect(await timeUntil(async () => (await secondFlags(instance)).body.flags.solo.enabled === true, 5000), 'the acknowledged write').toBeLessThan(
        Infinity,
      );
    }
  });

  it('frozen (SIGSTOP): nothing hangs; /flags answers, management and capture fail with 503 within 5 s', async () => {
    // Reconnecting forgot the credentials (revocations may have been missed): SDKs have polled since.
    for (const instance of [a, b]) expect((await definitions(instance, ADMIN_KEY)).status).toBe(200);
    cluster.freeze();
    try {
      const answers = await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => flagsFor(i % 2 ? a : b)),
        ...[a, b].map((instance) => request(instance, 'GET', '/api/projects/1/feature_flags/', { key: ADMIN_KEY })),
        ...[a, b].map((instance) =>
          request(instance, 'POST', '/batch/', { body: { api_key: PROJECT_TOKEN, batch: [{ event: 'clicked', distinct_id: 'ada' }] } }),
        ),
      ]);
      const flags = answers.slice(0, 10);
      const failures = answers.slice(10);
      for (const res of flags) {
        expect(res.status).toBe(200);
        expect(res.ms).toBeLessThan(5000);
        expect(res.body.flags.plain).toMatchObject({ enabled: false, reason: { code: 'out_of_rollout_bound' } });
        expect(res.body.flags['by-email']).toEqual(failedFlag('by-email', /^(database_unavailable|timeout:)/));
      }
      for (const res of failures) {
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ type: 'server_error', code: 'service_unavailable' });
        expect(res.ms).toBeLessThan(5000);
      }
      // Once known to be down, nothing waits for it.
      const again = await request(a, 'GET', '/api/projects/1/feature_flags/', { key: ADMIN_KEY });
      expect(again.status).toBe(503);
      expect(again.ms).toBeLessThan(1000);
      for (const instance of [a, b]) {
        expect((await definitions(instance, ADMIN_KEY)).status).toBe(200);
        expect((await secondFlags(instance)).body.flags.solo.enabled).toBe(true);
      }
    } finally {
      cluster.thaw();
    }
    await recovered();
    const patched = await request(a, 'PATCH', `/api/projects/1/feature_flags/${flagIds.plain}/`, {
      key: ADMIN_KEY,
      body: { filters: { groups: [{ properties: [], rollout_percentage: 100 }] } },
    });
    expect(patched.status).toBe(200);
    expect(await timeUntil(async () => (await flagsFor(b)).body.flags.plain.enabled === true, 1000)).toBeLessThanOrEqual(1000);
  });
});

// GET /metrics (README "Metrics"): a scrape before and after real traffic (a management request,
// /flags answered by the hot path on the socket, definitions 200, 304 and 429, a capture batch, a
// refused statement) shows each counter moving by what the traffic did; the ingestion queue and its
// lag while a batch waits for the database; FLAGHOST_METRICS_TOKEN; the README's example scrape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/app.ts';
import { ConfigError, loadConfig } from '../../src/platform/config.ts';
import { lockProjectIngestion } from '../../src/ingestion/usage-repository.ts';
import { createTestApp, PROJECT_TOKEN, SECRET_TOKEN, type TestApp } from '../helpers/app.ts';
import { readmeBlock } from '../helpers/readme.ts';
import { parseScrape, samplesOf, sampleValue, type Sample } from '../helpers/scrape.ts';
import { createFlag, eventually } from '../helpers/sdk.ts';

const lines: string[] = [];
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({
    env: { FLAGHOST_RATE_LIMIT_EVALUATIONS_PER_MINUTE: '3' },
    logger: { ...loggerOptions('info'), stream: { write: (line: string) => void lines.push(line) } },
  });
});
afterAll(async () => {
  await t?.close();
});

async function scrape(target: TestApp = t): Promise<Sample[]> {
  const res = await target.http.get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseScrape(res.text);
}

const REQUESTS = 'flaghost_http_request_duration_seconds_count';
const requests = (s: Sample[], route: string, method: string, status: number) => sampleValue(s, REQUESTS, { route, method, status: String(status) });

/** The `incoming request` lines Fastify's request logger wrote, as method and URL. */
const fastifySaw = () =>
  lines
    .map((l) => JSON.parse(l) as { msg?: string; req?: { method: string; url: string } })
    .filter((l) => l.msg === 'incoming request' && l.req)
    .map((l) => `${l.req!.method} ${l.req!.url}`);

// The README test compares the example with the series the traffic of the first test created: the
// tests keep their order when CI shuffles.
describe('GET /metrics', { shuffle: false }, () => {
  it('every counter moves by what the traffic did', async () => {
    const before = await scrape();

    // Management: one list, two creates.
    expect((await t.api('get', '/api/projects/1/feature_flags/')).status).toBe(200);
    await createFlag(t, { key: 'm-one', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    await createFlag(t, { key: 'm-two', filters: { groups: [{ properties: [], rollout_percentage: 0 }] } });

    // /flags on the socket: the hot path answers it, Fastify never sees it.
    const flags = await t.http.post('/flags/?v=2').send({ token: PROJECT_TOKEN, distinct_id: 'ada' });
    expect(flags.status).toBe(200);
    expect(Object.keys(flags.body.flags).sort()).toEqual(['m-one', 'm-two']);
    expect(fastifySaw().filter((l) => l.startsWith('POST /flags'))).toEqual([]);
    expect(fastifySaw()).toContain('GET /api/projects/1/feature_flags/');

    // Definitions: 200, 304, 200, then the bucket of 3 a minute is empty: 429.
    const defs = (etag?: string) => {
      const req = t.http.get(`/flags/definitions?token=${PROJECT_TOKEN}`).set('Authorization', `Bearer ${SECRET_TOKEN}`);
      return etag ? req.set('If-None-Match', etag) : req;
    };
    const first = await defs();
    expect(first.status).toBe(200);
    expect((await defs(first.headers.etag)).status).toBe(304);
    expect((await defs()).status).toBe(200);
    expect((await defs()).status).toBe(429);

    // Capture: 4 entries; one duplicate uuid, one without distinct_id.
    const uuid = '01890000-0000-7000-8000-000000000001';
    const capture = await t.http.post('/batch/').send({
      api_key: PROJECT_TOKEN,
      batch: [
        { event: 'clicked', distinct_id: 'ada', uuid },
        { event: 'clicked', distinct_id: 'ada', uuid },
        { event: 'clicked', distinct_id: 'bob' },
        { event: 'clicked' },
      ],
    });
    expect(capture.status).toBe(200);

    // A statement the database refuses.
    await expect(t.sql('select 1/0')).rejects.toThrow(/division by zero/);

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) => sampleValue(after, name, labels) - sampleValue(before, name, labels);

    expect(
      requests(after, '/api/projects/:project_id/feature_flags', 'GET', 200) - requests(before, '/api/projects/:project_id/feature_flags', 'GET', 200),
    ).toBe(1);
    expect(
      requests(after, '/api/projects/:project_id/feature_flags', 'POST', 201) - requests(before, '/api/projects/:project_id/feature_flags', 'POST', 201),
    ).toBe(2);
    expect(requests(after, '/flags', 'POST', 200) - requests(before, '/flags', 'POST', 200)).toBe(1);
    expect(requests(after, '/flags/definitions', 'GET', 200) - requests(before, '/flags/definitions', 'GET', 200)).toBe(2);
    expect(requests(after, '/flags/definitions', 'GET', 304) - requests(before, '/flags/definitions', 'GET', 304)).toBe(1);
    expect(requests(after, '/flags/definitions', 'GET', 429) - requests(before, '/flags/definitions', 'GET', 429)).toBe(1);
    expect(requests(after, '/batch', 'POST', 200) - requests(before, '/batch', 'POST', 200)).toBe(1);

    // A histogram series is consistent: +Inf bucket = count, buckets cumulative, a positive sum.
    const series = { route: '/flags', method: 'POST', status: '200' };
    const buckets = samplesOf(after, 'flaghost_http_request_duration_seconds_bucket', series);
    expect(buckets.map((b) => b.labels.le).at(-1)).toBe('+Inf');
    expect(buckets.at(-1)!.value).toBe(sampleValue(after, REQUESTS, series));
    for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
    expect(sampleValue(after, 'flaghost_http_request_duration_seconds_sum', series)).toBeGreaterThan(0);

    expect(moved('flaghost_flag_evaluations_total', { project_id: '1' })).toBe(2);
    expect(moved('flaghost_definitions_answers_total', { status: '200' })).toBe(2);
    expect(moved('flaghost_definitions_answers_total', { status: '304' })).toBe(1);
    expect(moved('flaghost_definitions_answers_total', { status: '429' })).toBe(1);
    expect(moved('flaghost_rate_limit_refusals_total', { bucket: 'definitions' })).toBe(1);
    expect(moved('flaghost_rate_limit_refusals_total', { bucket: 'personal_api_key' })).toBe(0);

    expect(moved('flaghost_ingestion_events_received_total')).toBe(4);
    expect(moved('flaghost_ingestion_events_stored_total')).toBe(2);
    expect(moved('flaghost_ingestion_events_dropped_total', { reason: 'duplicate' })).toBe(1);
    expect(moved('flaghost_ingestion_events_dropped_total', { reason: 'malformed' })).toBe(1);
    expect(moved('flaghost_ingestion_events_dropped_total', { reason: 'failed' })).toBe(0);
    expect(moved('flaghost_ingestion_batches_total', { outcome: 'committed' })).toBe(1);
    expect(sampleValue(after, 'flaghost_ingestion_queue_events')).toBe(0);
    expect(sampleValue(after, 'flaghost_ingestion_lag_seconds')).toBe(0);

    // Each create rebuilt project 1's snapshot, and the one in service is current.
    expect(moved('flaghost_snapshot_rebuild_duration_seconds_count', { project_id: '1' })).toBeGreaterThanOrEqual(2);
    const age = samplesOf(after, 'flaghost_snapshot_age_seconds', { project_id: '1' });
    expect(age).toHaveLength(1);
    expect(age[0].value).toBeGreaterThanOrEqual(0);
    expect(age[0].value).toBeLessThan(10);

    expect(moved('flaghost_db_query_errors_total', { kind: 'refused' })).toBe(1);
    expect(sampleValue(after, 'flaghost_db_available', { driver: t.database.kind })).toBe(1);
    if (t.database.kind === 'postgres') {
      expect(sampleValue(after, 'flaghost_db_pool_max_connections')).toBe(4);
      expect(sampleValue(after, 'flaghost_db_pool_connections')).toBeGreaterThanOrEqual(1);
      expect(sampleValue(after, 'flaghost_db_pool_connections')).toBeLessThanOrEqual(4);
      expect(samplesOf(after, 'flaghost_db_pool_idle_connections')).toHaveLength(1);
      expect(sampleValue(after, 'flaghost_db_pool_waiting_clients')).toBe(0);
    } else {
      // PGlite has no pool: no pool series rather than made-up ones.
      expect(after.filter((s) => s.name.startsWith('flaghost_db_pool_'))).toEqual([]);
    }

    // Node's process metrics, and the version.
    expect(sampleValue(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(after, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(samplesOf(after, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
    expect(samplesOf(after, 'flaghost_build_info')).toEqual([
      { name: 'flaghost_build_info', labels: { version: expect.stringMatching(/^\d+\.\d+\.\d+/) }, value: 1 },
    ]);
  });

  it('labels requests by route pattern, never by URL: a thousand ids make one series', async () => {
    for (let i = 0; i < 20; i++) await t.api('get', `/api/projects/1/feature_flags/${100000 + i}/`);
    await t.http.get('/no/such/path/1');
    await t.http.get('/no/such/path/2');
    const after = await scrape();
    const routes = new Set(samplesOf(after, REQUESTS).map((s) => s.labels.route));
    expect(routes).toContain('/api/projects/:project_id/feature_flags/:id');
    expect(routes).toContain('unmatched');
    for (const route of routes) expect(route).not.toMatch(/\d{6}|no\/such/);
    expect(requests(after, '/api/projects/:project_id/feature_flags/:id', 'GET', 404)).toBe(20);
  });

  it('shows the events waiting for the database as queue depth and lag, and drains to 0', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    // Project 1's ingestion lock, held in a transaction: its next batch waits for it.
    const holder = t.ctx.db.transaction(async (tx) => {
      await lockProjectIngestion(tx, 1);
      locked();
      await held;
    });
    await isLocked;
    let capture: Promise<{ status: number }> | undefined;
    try {
      capture = t.http
        .post('/batch/')
        .send({ api_key: PROJECT_TOKEN, batch: [1, 2, 3].map((i) => ({ event: 'waited', distinct_id: `w${i}` })) })
        .then((res) => res);
      const waiting = await eventually(
        async () => {
          const s = await scrape();
          return sampleValue(s, 'flaghost_ingestion_queue_events') === 3 && sampleValue(s, 'flaghost_ingestion_lag_seconds') > 0.2 ? s : undefined;
        },
        10_000,
        50,
      );
      expect(waiting, 'three events waiting for more than 0.2 s').toBeDefined();
      expect(sampleValue(waiting!, 'flaghost_ingestion_lag_seconds')).toBeLessThan(30);
    } finally {
      release();
      await holder;
    }
    expect((await capture!).status).toBe(200);
    const drained = await scrape();
    expect(sampleValue(drained, 'flaghost_ingestion_queue_events')).toBe(0);
    expect(sampleValue(drained, 'flaghost_ingestion_lag_seconds')).toBe(0);
  });

  it("the README's example scrape shows series a real scrape has, with the same labels", async () => {
    const example = parseScrape(readmeBlock('metrics-scrape'));
    expect(example.length).toBeGreaterThanOrEqual(8);
    const real = await scrape();
    for (const sample of example) {
      const match = real.find(
        (s) => s.name === sample.name && JSON.stringify(Object.keys(s.labels).sort()) === JSON.stringify(Object.keys(sample.labels).sort()),
      );
      expect(match, `${sample.name} ${JSON.stringify(sample.labels)}`).toBeDefined();
    }
  });
});

describe('FLAGHOST_METRICS_TOKEN', () => {
  const TOKEN = 'metrics-token-0123456789abcdef';
  let guarded: TestApp;
  beforeAll(async () => {
    guarded = await createTestApp({ env: { FLAGHOST_METRICS_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await guarded?.close();
  });

  it("answers 401 in PostHog's envelope without the token or with another one, and the scrape with it", async () => {
    const missing = await guarded.http.get('/metrics');
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({
      type: 'authentication_error',
      code: 'not_authenticated',
      detail: 'Authentication credentials were not provided.',
      attr: null,
    });
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, 'Bearer phx_testadminkey0000000000000000000000000']) {
      const wrong = await guarded.http.get('/metrics').set('Authorization', header);
      expect(wrong.status, header).toBe(401);
      expect(wrong.body).toEqual({ type: 'authentication_error', code: 'authentication_failed', detail: 'Incorrect authentication credentials.', attr: null });
    }
    expect((await guarded.http.get('/metrics').set('Authorization', `Basic ${TOKEN}`)).status).toBe(401);
    const ok = await guarded.http.get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(sampleValue(parseScrape(ok.text), 'flaghost_db_available', { driver: guarded.database.kind })).toBe(1);
    // The probes stay open: a load balancer has no token.
    // (Ready once its snapshots are loaded, which a freshly started app may still be doing.)
    await expect.poll(async () => (await guarded.http.get('/_readyz')).status, { timeout: 15_000 }).toBe(200);
    expect((await guarded.http.get('/_livez')).status).toBe(200);
  });

  it('is open when unset, and refused at start when shorter than 16 characters', async () => {
    expect((await t.http.get('/metrics')).status).toBe(200);
    expect(() => loadConfig({ FLAGHOST_METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ FLAGHOST_METRICS_TOKEN: 'short' })).toThrow(/FLAGHOST_METRICS_TOKEN: must be at least 16 characters/);
  });
});

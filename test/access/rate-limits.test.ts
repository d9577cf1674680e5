// Rate limits (docs/compatibility.md#api-5.5, #case-66): the GCRA limiter itself on a fake clock
// (burst, sustained, recovery, 0 disables, a bounded memory under a million keys), then over HTTP: the
// per-key management bucket, the per-project definitions and remote_config buckets, 429 with PostHog's
// envelope and Retry-After, and 2,000 distinct keys against a server whose limiter stays bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { SECRET_TOKEN, createTestApp, type TestApp } from '../helpers/app.ts';
import { buildApp } from '../../src/app.ts';
import { RateLimiter, RateLimits, RATE_LIMIT_MAX_KEYS } from '../../src/access/rate-limit.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createProject } from '../../src/access/organizations/admin.ts';
import { generateKeyId, generatePersonalApiKey, hashKeyValue, maskKeyValue } from '../../src/access/tokens.ts';

const throttled = (seconds: number) => ({
  type: 'throttled_error',
  code: 'throttled',
  detail: `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.`,
  attr: null,
});

describe('RateLimiter (GCRA)', () => {
  const clock = () => {
    let now = 1_000_000;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it('allows a burst of `limit`, then one request per period/limit; rejected requests do not count', () => {
    const c = clock();
    const limiter = new RateLimiter([{ limit: 480, periodMs: 60_000 }], 100, c.now);
    for (let i = 0; i < 480; i++) expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBeCloseTo(0.125, 5);
    for (let i = 0; i < 100; i++) expect(limiter.take('k')).toBeGreaterThan(0);
    c.advance(125);
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBeGreaterThan(0);
    c.advance(60_000);
    for (let i = 0; i < 480; i++) expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBeGreaterThan(0);
  });

  it('enforces the sustained limit across bursts, and every key has its own buckets', () => {
    const c = clock();
    const limiter = new RateLimiter(
      [
        { limit: 480, periodMs: 60_000 },
        { limit: 4800, periodMs: 3_600_000 },
      ],
      100,
      c.now,
    );
    const perMinute: number[] = [];
    // Twenty minutes of trying 600 requests a minute: the minute bucket lets 480 through each
    // minute until the hour's 4,800 (plus what it regains, 80 a minute) are spent...
    for (let minute = 0; minute < 20; minute++) {
      if (minute) c.advance(60_000);
      let allowed = 0;
      for (let i = 0; i < 600; i++) if (limiter.take('busy') === 0) allowed++;
      perMinute.push(allowed);
    }
    expect(perMinute.slice(0, 11)).toEqual(Array(11).fill(480));
    // ...then the hour bucket governs: 80 a minute, and a refusal waits for its pace (0.75 s).
    expect(perMinute.slice(-5)).toEqual(Array(5).fill(80));
    expect(perMinute.reduce((a, b) => a + b)).toBe(4800 + 19 * 80);
    expect(limiter.take('busy')).toBe(0.75);
    expect(limiter.take('idle')).toBe(0);
  });

  it('a limit of 0 disables it', () => {
    const limiter = new RateLimiter([{ limit: 0, periodMs: 60_000 }], 100);
    expect(limiter.enabled).toBe(false);
    for (let i = 0; i < 10_000; i++) expect(limiter.take('k')).toBe(0);
    expect(limiter.size).toBe(0);
    const partial = new RateLimits({ burstPerMinute: 0, sustainedPerHour: 2, evaluationsPerMinute: 0 });
    partial.checkPersonalKey('a');
    partial.checkPersonalKey('a');
    expect(() => partial.checkPersonalKey('a')).toThrow(/throttled/);
    for (let i = 0; i < 1000; i++) partial.checkDefinitions(1);
  });

  it('memory stays bounded under a million distinct keys, and a hot key keeps its state', () => {
    const c = clock();
    const limiter = new RateLimiter(
      [
        { limit: 5, periodMs: 60_000 },
        { limit: 50, periodMs: 3_600_000 },
      ],
      10_000,
      c.now,
    );
    for (let i = 0; i < 5; i++) expect(limiter.take('hot')).toBe(0);
    let max = 0;
    for (let i = 0; i < 1_000_000; i++) {
      limiter.take(`key-${i}`);
      if (i % 1000 === 0) {
        max = Math.max(max, limiter.size);
        expect(limiter.take('hot')).toBeGreaterThan(0); // still throttled: never evicted
        c.advance(1);
      }
    }
    expect(Math.max(max, limiter.size)).toBeLessThanOrEqual(10_000);
  });

  it('the default configuration: 480/minute and 4,800/hour per key, 600/minute per project', () => {
    const limits = new RateLimits(loadConfig({}).rateLimits);
    expect(limits.personalKeys.enabled && limits.definitions.enabled && limits.remoteConfig.enabled).toBe(true);
    for (let i = 0; i < 480; i++) limits.checkPersonalKey('k');
    expect(() => limits.checkPersonalKey('k')).toThrow();
    for (let i = 0; i < 600; i++) limits.checkDefinitions(1);
    expect(() => limits.checkDefinitions(1)).toThrow();
    for (let i = 0; i < 600; i++) limits.checkRemoteConfig(1);
    expect(() => limits.checkRemoteConfig(1)).toThrow();
    expect(limits.personalKeys.maxKeys).toBe(RATE_LIMIT_MAX_KEYS);
  });
});

describe('over HTTP', () => {
  let t: TestApp;
  let otherProject: { id: number; apiToken: string; secretApiToken: string };
  const P = '/api/projects/1/feature_flags';

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        FLAGHOST_RATE_LIMIT_BURST_PER_MINUTE: '5',
        FLAGHOST_RATE_LIMIT_SUSTAINED_PER_HOUR: '1000',
        FLAGHOST_RATE_LIMIT_EVALUATIONS_PER_MINUTE: '4',
      },
    });
    otherProject = await createProject(t.ctx, { name: 'Second' });
    const remote = { key: 'remote', is_remote_configuration: true, filters: { groups: [{ rollout_percentage: 100 }], payloads: { true: '{"a": 1}' } } };
    expect((await t.api('post', `${P}/`).send(remote)).status).toBe(201);
    // The same flag in the second project, made with a key of its own (the admin key's bucket is small here).
    const setup = await t.userWithKey({ email: 'setup@example.com', level: 'admin' });
    expect((await t.api('post', `/api/projects/${otherProject.id}/feature_flags/`, setup.key).send(remote)).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('case 66: the management bucket of a key runs out with a 429 and Retry-After; local evaluation keeps answering', async () => {
    const user = await t.userWithKey({ email: 'busy@example.com' });
    for (let i = 0; i < 5; i++) expect((await t.api('get', `${P}/`, user.key)).status).toBe(200);
    const res = await t.api('get', `${P}/`, user.key);
    expect(res.status).toBe(429);
    expect(res.body).toEqual(throttled(Number(res.headers['retry-after'])));
    // 5 per minute: the next request is allowed about 12 s later.
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(11);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(12);
    // Every management route shares the bucket; writes are refused without changing anything.
    expect((await t.api('post', `${P}/`, user.key).send({ key: 'not-created' })).status).toBe(429);
    expect(await t.sql("select id from feature_flags where key = 'not-created'")).toEqual([]);
    expect((await t.api('get', '/api/users/@me/', user.key)).status).toBe(429);
    // Local evaluation and remote_config have their own buckets (per project: the second project's
    // here, as the other tests empty project 1's).
    expect((await t.api('get', `/api/projects/${otherProject.id}/feature_flags/local_evaluation`, user.key)).status).toBe(200);
    expect((await t.api('get', `/api/feature_flag/local_evaluation?token=${otherProject.apiToken}`, user.key)).status).toBe(200);
    expect((await t.api('get', `/api/projects/${otherProject.id}/feature_flags/remote/remote_config`, user.key)).status).toBe(200);
    // Another key of the same user, and other users, are not affected.
    expect((await t.api('get', `${P}/`)).status).toBe(200);
  });

  it('requests that fail authentication or authorization do not use the bucket', async () => {
    const user = await t.userWithKey({ email: 'careful@example.com', scopes: ['feature_flag:read'] });
    for (let i = 0; i < 10; i++) expect((await t.api('post', `${P}/`, user.key).send({ key: 'x' })).status).toBe(403);
    expect((await t.api('get', `${P}/`, user.key)).status).toBe(200);
  });

  it('definitions: 4 a minute per project, for secret keys and personal keys alike; other projects unaffected', async () => {
    const [, , ...rest] = await Promise.all([
      t.http.get('/flags/definitions').set('Authorization', `Bearer ${SECRET_TOKEN}`),
      t.http.get('/flags/definitions').set('Authorization', `Bearer ${SECRET_TOKEN}`),
      t.http.get('/api/feature_flag/local_evaluation').set('Authorization', `Bearer ${SECRET_TOKEN}`),
      t.api('get', `${P}/local_evaluation`),
    ]).then((all) => {
      for (const r of all) expect(r.status).toBe(200);
      return all;
    });
    expect(rest).toHaveLength(2);
    const res = await t.http.get('/flags/definitions').set('Authorization', `Bearer ${SECRET_TOKEN}`);
    expect(res.status).toBe(429);
    expect(res.body).toEqual(throttled(Number(res.headers['retry-after'])));
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(14);
    expect((await t.api('get', `${P}/local_evaluation`)).status).toBe(429);
    const other = await t.http.get('/flags/definitions').set('Authorization', `Bearer ${otherProject.secretApiToken}`);
    expect(other.status).toBe(200);
    // The management API is not affected by the definitions bucket.
    expect((await t.api('get', `${P}/?limit=1`)).status).toBe(200);
  });

  it('remote_config: its own 4 a minute per project', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 8 && !statuses.includes(429); i++) {
      last = await t.http.get(`${P}/remote/remote_config`).set('Authorization', `Bearer ${SECRET_TOKEN}`);
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.length).toBeLessThanOrEqual(5);
    expect(last!.body).toEqual(throttled(Number(last!.headers['retry-after'])));
    // Definitions of another project and the management API are separate buckets.
    expect((await t.api('get', `${P}/?limit=1`)).status).toBe(200);
  });
});

describe('limits of 0', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { FLAGHOST_RATE_LIMIT_BURST_PER_MINUTE: '0', FLAGHOST_RATE_LIMIT_SUSTAINED_PER_HOUR: '0', FLAGHOST_RATE_LIMIT_EVALUATIONS_PER_MINUTE: '0' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('turn rate limiting off', async () => {
    const statuses = await Promise.all(Array.from({ length: 40 }, () => t.api('get', '/api/projects/1/').then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([200]));
    const defs = await Promise.all(
      Array.from({ length: 40 }, () =>
        t.http
          .get('/flags/definitions')
          .set('Authorization', `Bearer ${SECRET_TOKEN}`)
          .then((r) => r.status),
      ),
    );
    expect(new Set(defs)).toEqual(new Set([200]));
    expect(t.app.services.rateLimits.personalKeys.size).toBe(0);
  });
});

// The limiter is in memory: one database is enough for this one (CI time).
describe.skipIf(Boolean(process.env.DATABASE_URL))('2,000 distinct keys against one server', () => {
  let t: TestApp;
  let app: FastifyInstance;
  let baseUrl: string;
  const keys: string[] = [];
  const MAX_KEYS = 200;

  beforeAll(async () => {
    t = await createTestApp();
    // The limiter bound is lowered to 200 keys so that 2,000 keys overflow it tenfold.
    const config = { ...t.config, rateLimits: { ...t.config.rateLimits, burstPerMinute: 50 } };
    app = await buildApp({ config, database: t.database, rateLimitMaxKeys: MAX_KEYS });
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    for (let batch = 0; batch < 2; batch++) {
      const values: unknown[] = [];
      const rows: string[] = [];
      for (let i = 0; i < 1000; i++) {
        const value = generatePersonalApiKey();
        keys.push(value);
        const n = values.length;
        rows.push(`($${n + 1}, $${n + 2}, 'load', $${n + 3}, $${n + 4}, now())`);
        values.push(generateKeyId(), t.boot.user.id, hashKeyValue(value), maskKeyValue(value));
      }
      await t.sql(`insert into personal_api_keys (id, user_id, label, secure_value, mask_value, last_used_at) values ${rows.join(', ')}`, values);
    }
  }, 300_000);
  afterAll(async () => {
    await app?.close();
    await t?.close();
  });

  it('answers every one of them while the limiter never holds more than its bound', async () => {
    let next = 0;
    let maxSize = 0;
    const statuses = new Map<number, number>();
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++];
        const res = await fetch(`${baseUrl}/api/personal_api_keys/@current/`, { headers: { authorization: `Bearer ${key}` } });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        maxSize = Math.max(maxSize, app.services.rateLimits.personalKeys.size);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(Object.fromEntries(statuses)).toEqual({ 200: 2_000 });
    expect(maxSize).toBeLessThanOrEqual(MAX_KEYS);
    expect(app.services.rateLimits.personalKeys.size).toBeLessThanOrEqual(MAX_KEYS);
    // The limiter still limits: one key hammered past its burst is refused.
    const hot = keys[0];
    let refused = 0;
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${baseUrl}/api/projects/1/`, { headers: { authorization: `Bearer ${hot}` } });
      await res.arrayBuffer();
      if (res.status === 429) refused++;
    }
    expect(refused).toBeGreaterThan(0);
  }, 300_000);
});

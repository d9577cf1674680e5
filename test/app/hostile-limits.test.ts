// Lists and ids are bounded before the work (tags, bulk_keys ids, dashboards, distinct ids) and
// answered in PostHog's envelope, with an ordinary /flags request still answered within 100 ms;
// a racing duplicate create is the same 400 as a sequential one.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { createFlag, dependsOn } from '../helpers/sdk.ts';
import { sendWhileProbing, type Probed, type RawRequest } from '../helpers/probe.ts';

let t: TestApp;
const STALL_MS = 100;

/** A management request, serialized before any probe starts (the test shares the event loop). */
const api = (method: 'post' | 'patch', path: string, body: unknown): RawRequest => ({
  method: method.toUpperCase(),
  path,
  headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
  body: Buffer.from(JSON.stringify(body)),
});

function expectEnvelope(res: Probed, status: number, expected: Record<string, unknown>): void {
  expect(res.status, res.text.slice(0, 300)).toBe(status);
  expect(res.json()).toEqual(expected);
  expect(res.worstProbeMs, `an ordinary /flags took ${res.worstProbeMs} ms`).toBeLessThan(STALL_MS);
}

const tooMany = (max: number, attr: string) => ({
  type: 'validation_error',
  code: 'max_length',
  detail: `Ensure this field has no more than ${max} elements.`,
  attr,
});

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('tags', () => {
  it('refuses 200,000 tags in one create before looking at them', async () => {
    const tags = Array.from({ length: 200_000 }, (_, i) => `tag-${i}`);
    expectEnvelope(await sendWhileProbing(t.baseUrl, api('post', '/api/projects/1/feature_flags/', { key: 'many-tags', tags })), 400, tooMany(100, 'tags'));
    const evaluationTags = await sendWhileProbing(
      t.baseUrl,
      api('post', '/api/projects/1/feature_flags/', { key: 'many-tags', tags: ['a'], evaluation_tags: tags }),
    );
    expectEnvelope(evaluationTags, 400, tooMany(100, 'evaluation_tags'));
    const [{ n }] = await t.sql<{ n: number }>("select count(*)::int as n from feature_flags where key = 'many-tags'");
    expect(n).toBe(0);
  });

  it('keeps up to 100 tags, de-duplicated after normalizing, on create and on PATCH', async () => {
    const tags = [...Array.from({ length: 99 }, (_, i) => `Tag-${i}`), ' tag-0 '];
    const flag = await createFlag(t, { key: 'hundred-tags', tags });
    expect(flag.tags).toEqual(Array.from({ length: 99 }, (_, i) => `tag-${i}`));
    const res = await t.api('patch', `/api/projects/1/feature_flags/${flag.id}/`).send({ tags: [...tags, 'x', 'y'] });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(tooMany(100, 'tags'));
  });

  it('refuses more than 100 analytics dashboards in one request', async () => {
    const res = await t
      .api('post', '/api/projects/1/feature_flags/')
      .send({ key: 'many-dashboards', analytics_dashboards: Array.from({ length: 100_001 }, (_, i) => i + 1) });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(tooMany(100, 'analytics_dashboards'));
  });
});

describe('ids', () => {
  it('answers bulk_keys with 100,000 ids with a 400, not a 500', async () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => i + 1);
    expectEnvelope(await sendWhileProbing(t.baseUrl, api('post', '/api/projects/1/feature_flags/bulk_keys/', { ids })), 400, tooMany(10_000, 'ids'));
  });

  it('still answers bulk_keys with 10,000 ids, in one query', async () => {
    const flag = await createFlag(t, { key: 'bulk-target' });
    const ids = [...Array.from({ length: 9_999 }, (_, i) => 1_000_000 + i), flag.id];
    const res = await sendWhileProbing(t.baseUrl, api('post', '/api/projects/1/feature_flags/bulk_keys/', { ids }));
    expect(res.status, res.text.slice(0, 200)).toBe(200);
    expect(res.json()).toEqual({ keys: { [String(flag.id)]: 'bulk-target' } });
  });

  it('refuses filters over 1 MB (100,000 dependencies) before looking them up', async () => {
    const properties = Array.from({ length: 100_000 }, (_, i) => dependsOn(2_000_000 + i));
    const res = await sendWhileProbing(
      t.baseUrl,
      api('post', '/api/projects/1/feature_flags/', { key: 'many-deps', filters: { groups: [{ properties, rollout_percentage: 100 }] } }),
    );
    expectEnvelope(res, 400, {
      type: 'validation_error',
      code: 'max_length',
      detail: 'Filters are too large (at most 1048576 bytes as JSON).',
      attr: 'filters',
    });
  });
});

describe('distinct ids', () => {
  it('answers /flags with a 20 KB $anon_distinct_id and a continuity flag, leaving no person without its id', async () => {
    await createFlag(t, { key: 'continuity', ensure_experience_continuity: true, filters: { groups: [{ rollout_percentage: 100 }] } });
    // Random, so that PostgreSQL cannot compress it below its index entry limit.
    const anon = crypto.randomBytes(10_000).toString('hex');
    for (let i = 0; i < 2; i++) {
      const body = Buffer.from(JSON.stringify({ token: PROJECT_TOKEN, distinct_id: 'continuity-user', $anon_distinct_id: anon }));
      const res = await sendWhileProbing(t.baseUrl, { path: '/flags?v=2', headers: { 'content-type': 'application/json' }, body });
      expect(res.status, res.text).toBe(200);
      expect(res.json().flags.continuity.enabled).toBe(true);
      expect(res.json().errorsWhileComputingFlags).toBe(false);
    }
    const orphans = await t.sql<{ n: number }>(
      'select count(*)::int as n from persons p where not exists (select 1 from person_distinct_ids d where d.person_id = p.id)',
    );
    expect(orphans[0].n).toBe(0);
    const ids = await t.sql<{ distinct_id: string }>('select distinct_id from person_distinct_ids where distinct_id = $1 or distinct_id = $2', [
      'continuity-user',
      anon.slice(0, 200),
    ]);
    expect(ids.length).toBe(2);
    const overrides = await t.sql<{ hash_key: string }>("select hash_key from flag_hash_key_overrides where feature_flag_key = 'continuity'");
    expect(overrides.length).toBe(2);
    for (const row of overrides) expect(row.hash_key).toBe(anon.slice(0, 200));
  });
});

describe('racing creates', () => {
  it.skipIf(!process.env.DATABASE_URL)(
    'answers every loser of a race on one key with the sequential duplicate answer (PostgreSQL; PGlite runs one transaction at a time, so it cannot race)',
    async () => {
      const duplicate = { type: 'validation_error', code: 'unique', detail: 'There is already a feature flag with this key.', attr: 'key' };
      for (let round = 0; round < 10; round++) {
        const answers = await Promise.all(Array.from({ length: 8 }, () => t.api('post', '/api/projects/1/feature_flags/').send({ key: `raced-${round}` })));
        const statuses = answers.map((a) => a.status).sort();
        expect(statuses, JSON.stringify(answers.map((a) => a.body))).toEqual([201, 400, 400, 400, 400, 400, 400, 400]);
        for (const a of answers) if (a.status === 400) expect(a.body).toEqual(duplicate);
      }
      const sequential = await t.api('post', '/api/projects/1/feature_flags/').send({ key: 'raced-0' });
      expect(sequential.status).toBe(400);
      expect(sequential.body).toEqual(duplicate);
    },
  );
});

// What ingestion feeds back into the flag API: staleness from last_called_at
// (docs/compatibility.md#api-7.1, #api-2.3, #case-70), static cohorts from a flag (#api-7.7,
// #case-73), usage dashboards and their data (#api-7.7, #case-72), and evaluation_reasons with
// stored person properties and static cohorts.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { createProject } from '../../src/access/organizations/admin.ts';
import { evaluateFlags } from '../../src/evaluation/index.ts';

let t: TestApp;
const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date('2024-03-20T12:00:00.000Z');
let clock = NOW;
const P = '/api/projects/1/feature_flags';
type Json = Record<string, any>;

beforeAll(async () => {
  t = await createTestApp({ now: () => clock });
});
afterAll(async () => {
  await t?.close();
});

const ago = (days: number) => new Date(NOW.getTime() - days * DAY);

async function capture(batch: Json[]): Promise<void> {
  const res = await t.http.post('/batch/').send({ api_key: PROJECT_TOKEN, batch: batch.map((e) => ({ uuid: crypto.randomUUID(), ...e })) });
  expect(res.status, res.text).toBe(200);
}

const called = (key: string, distinctId: string, value: unknown, at?: Date) => ({
  event: '$feature_flag_called',
  distinct_id: distinctId,
  properties: { $feature_flag: key, $feature_flag_response: value },
  ...(at ? { timestamp: at.toISOString() } : {}),
});

async function createFlag(body: Json, createdAt = NOW, base = P): Promise<Json> {
  clock = createdAt;
  const res = await t.api('post', `${base}/`).send(body);
  clock = NOW;
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const status = async (id: number | string) => {
  const res = await t.api('get', `${P}/${id}/status`);
  return { code: res.status, ...res.body };
};

describe('usage drives staleness (case 70)', () => {
  it('status, the status field and ?active=STALE follow last_called_at from ingested calls', async () => {
    const hundred = { groups: [{ properties: [], rollout_percentage: 100 }] };
    const fifty = { groups: [{ properties: [], rollout_percentage: 50 }] };
    const calledLongAgo = await createFlag({ key: 's-called-35-days-ago', filters: fifty }, ago(60));
    const calledYesterday = await createFlag({ key: 's-called-yesterday', filters: hundred }, ago(60));
    const calledToday = await createFlag({ key: 's-called-today', filters: fifty }, ago(60));
    const disabled = await createFlag({ key: 's-disabled', filters: hundred, active: false }, ago(60));
    const variant = await createFlag(
      {
        key: 's-variant',
        filters: {
          ...hundred,
          multivariate: {
            variants: [
              { key: 'test', rollout_percentage: 100 },
              { key: 'control', rollout_percentage: 0 },
            ],
          },
        },
      },
      ago(31),
    );
    const empty = await createFlag({ key: 's-empty' }, ago(31));
    const young = await createFlag({ key: 's-young', filters: hundred }, ago(29));
    const deleted = await createFlag({ key: 's-deleted', filters: hundred }, ago(60));
    expect((await t.api('patch', `${P}/${deleted.id}/`).send({ deleted: true })).status).toBe(200);

    // Usage arrives through capture, as SDKs send it. The old call to a now-stale flag was retried
    // later: the older timestamp never moves last_called_at back.
    await capture([
      called('s-called-35-days-ago', 'u1', true, ago(35)),
      called('s-called-yesterday', 'u1', true, ago(1)),
      called('s-called-today', 'u1', false),
      called('s-disabled', 'u1', false, ago(2)),
    ]);
    await capture([called('s-called-yesterday', 'u2', true, ago(40))]);

    expect(await status(99999)).toEqual({ code: 404, status: 'unknown', reason: 'Flag could not be found' });
    expect(await status(deleted.id)).toEqual({ code: 200, status: 'deleted', reason: 'Flag has been deleted' });
    expect(await status(disabled.id)).toEqual({ code: 200, status: 'active', reason: 'Flag is disabled (not evaluated for staleness)' });
    expect(await status(variant.id)).toEqual({ code: 200, status: 'stale', reason: 'This flag will always use the variant "test"' });
    expect(await status(empty.id)).toEqual({ code: 200, status: 'stale', reason: 'This boolean flag will always evaluate to "true"' });
    expect(await status(young.id)).toEqual({ code: 200, status: 'active', reason: 'Flag has no usage data yet' });
    expect(await status(calledLongAgo.id)).toEqual({ code: 200, status: 'stale', reason: 'Flag has not been called in 35 days' });
    expect(await status(calledYesterday.id)).toEqual({ code: 200, status: 'active', reason: 'Flag was last called 1 day ago' });
    expect(await status(calledToday.id)).toEqual({ code: 200, status: 'active', reason: 'Flag was called today' });

    const stale = await t.api('get', `${P}/?active=STALE&search=s-&order=key`);
    expect(stale.body.results.map((f: Json) => f.key)).toEqual(['s-called-35-days-ago', 's-empty', 's-variant']);
    expect(stale.body.results.map((f: Json) => f.status)).toEqual(['STALE', 'STALE', 'STALE']);
    const one = await t.api('get', `${P}/${calledYesterday.id}/`);
    expect(one.body).toMatchObject({ status: 'ACTIVE', last_called_at: ago(1).toISOString().replace('Z', '000Z') });

    // A call today brings the stale flag back.
    await capture([called('s-called-35-days-ago', 'u3', true)]);
    expect(await status(calledLongAgo.id)).toEqual({ code: 200, status: 'active', reason: 'Flag was called today' });
    expect((await t.api('get', `${P}/?active=STALE&search=s-&order=key`)).body.results.map((f: Json) => f.key)).toEqual(['s-empty', 's-variant']);
  });
});

describe('create_static_cohort_for_flag (case 73)', () => {
  it('snapshots the persons the flag matches into a static cohort named with the frozen clock', async () => {
    await capture([
      { event: '$set', distinct_id: 'person1', properties: { $set: { key: 'value' } } },
      { event: '$set', distinct_id: 'person2', properties: { $set: { key: 'value2' } } },
      { event: '$set', distinct_id: 'person3', properties: { $set: { other: 'value' } } },
    ]);
    const flag = await createFlag({
      key: 'some-feature',
      name: 'some feature',
      filters: { groups: [{ properties: [{ key: 'key', value: 'value', type: 'person' }] }] },
    });
    clock = new Date('2021-01-01T00:00:00.000Z');
    const res = await t.api('post', `${P}/${flag.id}/create_static_cohort_for_flag`).send({});
    clock = NOW;
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual(['cohort']);
    expect(res.body.cohort).toMatchObject({
      name: 'Users with feature flag some-feature enabled at 2021-01-01 00:00:00',
      is_static: true,
      deleted: false,
      count: 1,
      created_at: '2021-01-01T00:00:00.000000Z',
      created_by: { email: 'admin@example.com' },
    });
    const members = await t.sql<{ distinct_id: string }>(
      `select d.distinct_id from cohort_members m join person_distinct_ids d on d.person_id = m.person_id where m.cohort_id = $1`,
      [res.body.cohort.id],
    );
    expect(members).toEqual([{ distinct_id: 'person1' }]);
    // The cohort is an ordinary static cohort from now on.
    const cohort = await t.api('get', `/api/projects/1/cohorts/${res.body.cohort.id}/`);
    expect(cohort.body).toMatchObject({ is_static: true, count: 1 });
    // Legacy path too.
    expect((await t.api('post', `/api/feature_flag/${flag.id}/create_static_cohort_for_flag/`)).status).toBe(201);
  });

  it('evaluates every person in pages without holding the event loop, with stored cohorts and overrides', async () => {
    const population = Array.from({ length: 2500 }, (_, i) => ({ event: '$set', distinct_id: `crowd-${i}`, properties: { $set: { crowd: true, n: i } } }));
    await capture(population);
    const beta = await t.api('post', '/api/projects/1/cohorts/').send({ name: 'beta', is_static: true, distinct_ids: ['person2', 'person3'] });
    const flag = await createFlag({
      key: 'crowd-half',
      ensure_experience_continuity: true,
      filters: {
        groups: [
          { properties: [{ key: 'crowd', value: ['true'], type: 'person' }], rollout_percentage: 50 },
          { properties: [{ key: 'id', value: beta.body.id, type: 'cohort' }], rollout_percentage: 100 },
        ],
      },
    });
    // crowd-0 keeps the value of an earlier anonymous id (experience continuity).
    const [crowd0] = await t.sql<{ person_id: number }>(`select person_id::int as person_id from person_distinct_ids where distinct_id = 'crowd-0'`);
    const compiled = (await t.app.services.snapshots.forProject(1))!.compiled;
    const value = (id: string) =>
      evaluateFlags(compiled, { distinctId: id, personProperties: { crowd: true }, runtime: 'all', flagKeys: ['crowd-half'] })[0].enabled;
    let anon = 'anon-0';
    for (let i = 1; value(anon) === value('crowd-0'); i++) anon = `anon-${i}`;
    await t.sql(`insert into flag_hash_key_overrides values (1, $1, 'crowd-half', $2)`, [crowd0.person_id, anon]);
    const expected = new Set(population.map((p) => p.distinct_id).filter((id) => (id === 'crowd-0' ? value(anon) : value(id))));
    expected.add('person2').add('person3');

    let turns = 0;
    let running = true;
    const tick = () => {
      turns++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const res = await t.api('post', `${P}/${flag.id}/create_static_cohort_for_flag/`);
    running = false;
    expect(res.status).toBe(201);
    expect(res.body.cohort.count).toBe(expected.size);
    const members = await t.sql<{ distinct_id: string }>(
      `select d.distinct_id from cohort_members m join person_distinct_ids d on d.person_id = m.person_id where m.cohort_id = $1`,
      [res.body.cohort.id],
    );
    expect(new Set(members.map((m) => m.distinct_id))).toEqual(expected);
    // Other work ran between the pages of persons: 2,500 persons are 3 pages, so 2 turns between
    // them, plus at least one for the request itself (one or two, depending on I/O timing).
    expect(turns).toBeGreaterThanOrEqual(3);
  });

  it('makes an empty cohort for an inactive flag or a group flag; unknown flags are 404', async () => {
    const inactive = await createFlag({ key: 'off-flag', active: false, filters: { groups: [{ rollout_percentage: 100 }] } });
    expect((await t.api('post', `${P}/${inactive.id}/create_static_cohort_for_flag`)).body.cohort.count).toBe(0);
    await t.api('post', '/api/projects/1/groups_types/').send({ group_type: 'organization' });
    const group = await createFlag({ key: 'group-flag', filters: { aggregation_group_type_index: 0, groups: [{ rollout_percentage: 100 }] } });
    expect((await t.api('post', `${P}/${group.id}/create_static_cohort_for_flag`)).body.cohort.count).toBe(0);
    expect((await t.api('post', `${P}/99999/create_static_cohort_for_flag`)).status).toBe(404);
  });
});

describe('usage dashboards (case 72)', () => {
  it('a new flag gets "Generated Dashboard: <key> Usage" unless _should_create_usage_dashboard is false', async () => {
    const flag = await createFlag({ key: 'dash-flag' });
    expect(flag.usage_dashboard).toEqual(expect.any(Number));
    const dashboard = await t.api('get', `/api/projects/1/dashboards/${flag.usage_dashboard}/`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.body).toMatchObject({
      id: flag.usage_dashboard,
      name: 'Generated Dashboard: dash-flag Usage',
      description: 'This dashboard was generated by the feature flag with key (dash-flag)',
      deleted: false,
      filters: { date_from: '-30d' },
      created_by: { email: 'admin@example.com' },
    });
    expect(dashboard.body.tiles.map((tile: Json) => tile.insight.name)).toEqual([
      'Feature Flag Called Total Volume',
      'Feature Flag calls made by unique users',
    ]);
    expect(dashboard.body.tiles[0].insight.filters).toMatchObject({
      events: [{ id: '$feature_flag_called' }],
      breakdown: '$feature_flag_response',
      date_from: '-30d',
      properties: { type: 'AND', values: [{ type: 'AND', values: [{ key: '$feature_flag', type: 'event', value: 'dash-flag' }] }] },
    });
    expect((await createFlag({ key: 'no-dash-flag', _should_create_usage_dashboard: false })).usage_dashboard).toBeNull();
  });

  it('tile results: calls per day per value over the last 30 days, and unique users per day', async () => {
    const flag = await createFlag({ key: 'series-flag' });
    await capture([
      called('series-flag', 'a', true, ago(2)),
      called('series-flag', 'a', true, ago(2)),
      called('series-flag', 'b', true, ago(2)),
      called('series-flag', 'c', false, ago(2)),
      called('series-flag', 'a', true),
      called('series-flag', 'd', false, ago(45)),
    ]);
    const res = await t.api('get', `/api/projects/1/dashboards/${flag.usage_dashboard}`);
    const [calls, users] = res.body.tiles.map((tile: Json) => tile.insight.result);
    expect(calls.map((s: Json) => [s.breakdown_value, s.count])).toEqual([
      ['true', 4],
      ['false', 1],
    ]);
    const days = calls[0].days;
    expect(days).toHaveLength(31);
    expect(days[0]).toBe('2024-02-19');
    expect(days[30]).toBe('2024-03-20');
    expect(calls[0].labels[30]).toBe('20-Mar-2024');
    expect(calls[0].data[28]).toBe(3);
    expect(calls[0].data[30]).toBe(1);
    expect(calls[1].data[28]).toBe(1);
    expect(calls[0].data.reduce((a: number, b: number) => a + b, 0)).toBe(4);
    expect(users).toHaveLength(1);
    expect(users[0].data[28]).toBe(3);
    expect(users[0].data[30]).toBe(1);
    expect(users[0].action).toMatchObject({ id: '$feature_flag_called', math: 'dau' });
  });

  it("POST /dashboard makes a new usage dashboard; it fails with PostHog's body when the dashboard cannot be written", async () => {
    const flag = await createFlag({ key: 'regen-flag', has_enriched_analytics: true });
    const res = await t.api('post', `${P}/${flag.id}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true });
    const after = (await t.api('get', `${P}/${flag.id}/`)).body;
    expect(after.usage_dashboard).not.toBe(flag.usage_dashboard);
    // A flag with enriched analytics gets the enriched tiles at once.
    expect((await t.api('get', `/api/projects/1/dashboards/${after.usage_dashboard}/`)).body.tiles).toHaveLength(4);

    const broken = await createFlag({ key: 'broken-flag', _should_create_usage_dashboard: false });
    await t.sql(`alter table dashboards add constraint refuse_broken check (name <> 'Generated Dashboard: broken-flag Usage')`);
    try {
      const failed = await t.api('post', `${P}/${broken.id}/dashboard`);
      expect(failed.status).toBe(400);
      expect(failed.body).toEqual({ success: false, error: 'Unable to generate usage dashboard' });
      expect((await t.api('get', `${P}/${broken.id}/`)).body.usage_dashboard).toBeNull();
    } finally {
      await t.sql(`alter table dashboards drop constraint refuse_broken`);
    }
    expect((await t.api('post', `${P}/99999/dashboard`)).status).toBe(404);
  });

  it("enrich_usage_dashboard: PostHog's errors, then the enriched tiles once", async () => {
    const plain = await createFlag({ key: 'enrich-flag' });
    const enrich = (id: number) => t.api('post', `${P}/${id}/enrich_usage_dashboard`);
    expect((await enrich(plain.id)).body).toEqual({ success: false, error: 'No enriched analytics available for this feature flag' });
    expect((await enrich(plain.id)).status).toBe(400);
    // Enriched analytics arrive with $feature_view events (or the flag says so).
    await capture([{ event: '$feature_view', distinct_id: 'viewer', properties: { feature_flag: 'enrich-flag' } }]);
    const first = await enrich(plain.id);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ success: true });
    const second = await enrich(plain.id);
    expect(second.status).toBe(400);
    expect(second.body).toEqual({ error: 'Usage dashboard already has enriched data', success: false });
    const dashboard = await t.api('get', `/api/projects/1/dashboards/${plain.usage_dashboard}/`);
    expect(dashboard.body.tiles.map((tile: Json) => tile.insight.name)).toEqual([
      'Feature Flag Called Total Volume',
      'Feature Flag calls made by unique users',
      'Feature Viewed Total Volume',
      'Feature Interaction Total Volume',
    ]);
    expect(dashboard.body.tiles[2].insight.result[0].count).toBe(1);

    const none = await createFlag({ key: 'no-dashboard', _should_create_usage_dashboard: false, has_enriched_analytics: true });
    expect((await enrich(none.id)).body).toEqual({ success: false, error: 'Usage dashboard not found' });
  });

  it("scoped personal API keys cannot call the dashboard and cohort actions; other projects' dashboards are 404", async () => {
    const flag = await createFlag({ key: 'scoped-flag' });
    const scoped = await t.userWithKey({ email: 'scoped@example.com', level: 'admin', scopes: ['feature_flag:write', 'dashboard:read'] });
    for (const action of ['dashboard', 'enrich_usage_dashboard', 'create_static_cohort_for_flag']) {
      const res = await t.api('post', `${P}/${flag.id}/${action}`, scoped.key);
      expect(res.status, action).toBe(403);
      expect(res.body.detail).toBe('This action does not support Personal API Key access');
    }
    expect((await t.api('get', `/api/projects/1/dashboards/${flag.usage_dashboard}/`, scoped.key)).status).toBe(200);
    const other = await createProject(t.ctx, { name: 'Elsewhere' });
    expect((await t.api('get', `/api/projects/${other.id}/dashboards/${flag.usage_dashboard}/`)).status).toBe(404);
    expect((await t.api('get', `/api/projects/1/dashboards/abc/`)).status).toBe(404);
  });
});

describe('evaluation_reasons', () => {
  it('uses the stored person properties and static cohorts of the distinct id', async () => {
    await capture([{ event: '$identify', distinct_id: 'reasons-user', properties: { $set: { email: 'r@example.com' } } }]);
    await createFlag({
      key: 'by-email',
      filters: { groups: [{ properties: [{ key: 'email', value: 'r@example.com', type: 'person' }], rollout_percentage: 100 }] },
    });
    const cohort = await t.api('post', '/api/projects/1/cohorts/').send({ name: 'vip', is_static: true, distinct_ids: ['reasons-user'] });
    await createFlag({
      key: 'by-cohort',
      filters: { groups: [{ properties: [{ key: 'id', value: cohort.body.id, type: 'cohort' }], rollout_percentage: 100 }] },
    });
    const res = await t.api('get', `${P}/evaluation_reasons?distinct_id=reasons-user`);
    expect(res.body['by-email']).toEqual({ value: true, evaluation: { reason: 'condition_match', condition_index: 0 } });
    expect(res.body['by-cohort']).toEqual({ value: true, evaluation: { reason: 'condition_match', condition_index: 0 } });
    const stranger = await t.api('get', `${P}/evaluation_reasons?distinct_id=stranger`);
    expect(stranger.body['by-email'].value).toBe(false);
    expect(stranger.body['by-cohort'].value).toBe(false);
  });
});

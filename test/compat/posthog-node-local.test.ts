// Real posthog-node 5.70 against a listening flaghost: flags created through the management API,
// definitions loaded by the SDK's own poller, answers from local evaluation (onlyEvaluateLocally)
// and from the /flags fallback for what the SDK cannot evaluate locally; the ETag/304 exchange
// observed through a recording proxy.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, SECRET_TOKEN, type TestApp } from '../helpers/app.ts';
import {
  cohortFilters,
  createCohort,
  createFlag,
  createGroupType,
  dependsOn,
  eventually,
  inCohort,
  patchFlag,
  person,
  sdkClient,
  startRecordingProxy,
  type Json,
  type SdkClient,
} from '../helpers/sdk.ts';
import { flagHash } from '../../src/evaluation/hash.ts';

let t: TestApp;
let local: SdkClient;
const flags: Record<string, Json> = {};
const local1 = { onlyEvaluateLocally: true };

const vectors = JSON.parse(fs.readFileSync(new URL('../evaluation/vectors/simple_flag_45.json', import.meta.url), 'utf8')) as {
  results: boolean[];
  true_count: number;
};

const VARIANTS = [
  { key: 'first-variant', rollout_percentage: 50 },
  { key: 'second-variant', rollout_percentage: 20 },
  { key: 'third-variant', rollout_percentage: 20 },
  { key: 'fourth-variant', rollout_percentage: 5 },
  { key: 'fifth-variant', rollout_percentage: 5 },
];

/** What the multivariate flag must answer, from the published hash algorithm. */
function expectedVariant(id: string): string | false {
  if (flagHash('multivariate-flag', id) > 0.55) return false;
  const h = flagHash('multivariate-flag', id, 'variant');
  let upper = 0;
  for (const v of VARIANTS) {
    upper += v.rollout_percentage / 100;
    if (h < upper) return v.key;
  }
  return false;
}

beforeAll(async () => {
  t = await createTestApp();
  expect(await createGroupType(t, 'company')).toBe(0);

  flags.simple = await createFlag(t, { key: 'simple-flag', filters: { groups: [{ properties: [], rollout_percentage: 45 }] } });
  flags.multivariate = await createFlag(t, {
    key: 'multivariate-flag',
    filters: {
      groups: [{ properties: [], rollout_percentage: 55 }],
      multivariate: { variants: VARIANTS },
      payloads: { 'first-variant': { color: 'blue', n: 1 }, 'second-variant': [1, 2, 3], 'third-variant': 42 },
    },
  });
  flags.person = await createFlag(t, {
    key: 'person-flag',
    filters: {
      groups: [{ properties: [person('email', '@example.com', 'icontains'), person('plan', ['pro', 'enterprise'])], rollout_percentage: 100 }],
      payloads: { true: { tier: 'paid' } },
    },
  });
  flags.group = await createFlag(t, {
    key: 'group-flag',
    filters: {
      aggregation_group_type_index: 0,
      groups: [{ properties: [{ key: 'employees', value: '100', operator: 'gte', type: 'group', group_type_index: 0 }], rollout_percentage: 100 }],
    },
  });
  const countries = await createCohort(t, { name: 'DACH', filters: cohortFilters({ type: 'OR', values: [person('country', 'DE'), person('country', 'AT')] }) });
  const adults = await createCohort(t, {
    name: 'DACH adults',
    filters: cohortFilters({ type: 'AND', values: [inCohort(countries.id), person('age', '18', 'gte')] }),
  });
  flags.cohort = await createFlag(t, { key: 'cohort-flag', filters: { groups: [{ properties: [inCohort(adults.id)], rollout_percentage: 100 }] } });
  flags.parent = await createFlag(t, { key: 'dep-parent', filters: { groups: [{ properties: [person('beta', 'yes')], rollout_percentage: 100 }] } });
  flags.child = await createFlag(t, { key: 'dep-child', filters: { groups: [{ properties: [dependsOn(flags.parent.id)], rollout_percentage: 100 }] } });
  flags.variantChild = await createFlag(t, {
    key: 'dep-on-variant',
    filters: { groups: [{ properties: [dependsOn(flags.multivariate.id, 'first-variant')], rollout_percentage: 100 }] },
  });
  flags.inactive = await createFlag(t, { key: 'inactive-flag', active: false, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });

  // Flags posthog-node cannot answer locally.
  const vips = await createCohort(t, { name: 'VIPs', is_static: true, distinct_ids: ['vip-1', 'vip-2'] });
  flags.static = await createFlag(t, {
    key: 'static-flag',
    filters: { groups: [{ properties: [inCohort(vips.id)], rollout_percentage: 100 }], payloads: { true: '"vip"' } },
  });
  flags.continuity = await createFlag(t, {
    key: 'continuity-flag',
    ensure_experience_continuity: true,
    filters: { groups: [{ properties: [], rollout_percentage: 50 }] },
  });
  flags.notSet = await createFlag(t, {
    key: 'not-set-flag',
    filters: { groups: [{ properties: [person('nickname', 'is_not_set', 'is_not_set')], rollout_percentage: 100 }] },
  });

  local = sdkClient(t);
  expect(await local.client.waitForLocalEvaluationReady(10_000)).toBe(true);
});

afterAll(async () => {
  await local?.client.shutdown();
  await t?.close();
});

describe('local evaluation with a personal API key', () => {
  it('loads every definition without errors', async () => {
    expect(local.client.isLocalEvaluationReady()).toBe(true);
    expect(local.errors).toEqual([]);
  });

  it('boolean rollout: the published consistency array for 1,000 ids', async () => {
    const answers: unknown[] = [];
    for (let i = 0; i < 1000; i++) answers.push(await local.client.getFeatureFlag('simple-flag', `distinct_id_${i}`, local1));
    expect(answers).toEqual(vectors.results);
    expect(answers.filter(Boolean)).toHaveLength(vectors.true_count);
    expect(await local.client.isFeatureEnabled('simple-flag', 'distinct_id_0', local1)).toBe(false);
    expect(await local.client.isFeatureEnabled('simple-flag', 'distinct_id_1', local1)).toBe(true);
  });

  it('multivariate: variants by hash, payloads stored as JSON strings come back parsed', async () => {
    expect(await local.client.getFeatureFlag('multivariate-flag', 'distinct_id_2', local1)).toBe('first-variant');
    expect(await local.client.getFeatureFlagPayload('multivariate-flag', 'distinct_id_2', undefined, local1)).toEqual({ color: 'blue', n: 1 });
    const seen = new Set<string | false>();
    for (let i = 0; i < 300; i++) {
      const id = `distinct_id_${i}`;
      const expected = expectedVariant(id);
      seen.add(expected);
      expect(await local.client.getFeatureFlag('multivariate-flag', id, local1), id).toBe(expected);
      const payload = await local.client.getFeatureFlagPayload('multivariate-flag', id, undefined, local1);
      const payloads: Record<string, unknown> = { 'first-variant': { color: 'blue', n: 1 }, 'second-variant': [1, 2, 3], 'third-variant': 42 };
      // posthog-node answers null (not undefined) for "no payload".
      expect(payload ?? undefined, id).toEqual(expected === false ? undefined : payloads[expected]);
    }
    expect(seen.size).toBe(6);
  });

  it('person-property targeting, with a definite false and an inconclusive missing property', async () => {
    const pro = { personProperties: { email: 'ada@EXAMPLE.com', plan: 'pro' }, ...local1 };
    expect(await local.client.getFeatureFlag('person-flag', 'ada', pro)).toBe(true);
    expect(await local.client.getFeatureFlagPayload('person-flag', 'ada', undefined, pro)).toEqual({ tier: 'paid' });
    expect(await local.client.getFeatureFlag('person-flag', 'bob', { personProperties: { email: 'bob@example.com', plan: 'free' }, ...local1 })).toBe(false);
    expect(await local.client.getFeatureFlag('person-flag', 'eve', { personProperties: { email: 'eve@other.org' }, ...local1 })).toBe(false);
    // Only `plan` known and matching: the email filter is inconclusive, so no local answer.
    expect(await local.client.getFeatureFlag('person-flag', 'ann', { personProperties: { plan: 'pro' }, ...local1 })).toBeUndefined();
  });

  it('group flags read the group type mapping and group properties', async () => {
    const big = { groups: { company: 'acme' }, groupProperties: { company: { employees: 500 } }, ...local1 };
    expect(await local.client.getFeatureFlag('group-flag', 'u1', big)).toBe(true);
    expect(
      await local.client.getFeatureFlag('group-flag', 'u1', { groups: { company: 'tiny' }, groupProperties: { company: { employees: 5 } }, ...local1 }),
    ).toBe(false);
    expect(await local.client.getFeatureFlag('group-flag', 'u1', local1)).toBe(false);
  });

  it('dynamic cohorts, nested ones included, from the send_cohorts definitions', async () => {
    const at = (country: string, age: number) => ({ personProperties: { country, age }, ...local1 });
    expect(await local.client.getFeatureFlag('cohort-flag', 'u1', at('DE', 30))).toBe(true);
    expect(await local.client.getFeatureFlag('cohort-flag', 'u1', at('AT', 18))).toBe(true);
    expect(await local.client.getFeatureFlag('cohort-flag', 'u1', at('FR', 30))).toBe(false);
    expect(await local.client.getFeatureFlag('cohort-flag', 'u1', at('DE', 12))).toBe(false);
  });

  it('flag dependencies through dependency_chain, on booleans and on variants', async () => {
    expect(await local.client.getFeatureFlag('dep-child', 'u1', { personProperties: { beta: 'yes' }, ...local1 })).toBe(true);
    expect(await local.client.getFeatureFlag('dep-child', 'u1', { personProperties: { beta: 'no' }, ...local1 })).toBe(false);
    for (let i = 0; i < 50; i++) {
      const id = `distinct_id_${i}`;
      expect(await local.client.getFeatureFlag('dep-on-variant', id, local1), id).toBe(expectedVariant(id) === 'first-variant');
    }
  });

  it('inactive flags are false', async () => {
    expect(await local.client.getFeatureFlag('inactive-flag', 'u1', local1)).toBe(false);
    expect(await local.client.isFeatureEnabled('inactive-flag', 'u1', local1)).toBe(false);
  });

  it('getAllFlags and getAllFlagsAndPayloads answer the locally evaluable flags', async () => {
    const options = {
      personProperties: { email: 'ada@example.com', plan: 'enterprise', country: 'DE', age: 40, beta: 'yes', nickname: 'ada' },
      groups: { company: 'acme' },
      groupProperties: { company: { employees: 1000 } },
      ...local1,
    };
    const all = await local.client.getAllFlags('distinct_id_2', options);
    expect(all).toEqual({
      'simple-flag': vectors.results[2],
      'multivariate-flag': 'first-variant',
      'person-flag': true,
      'group-flag': true,
      'cohort-flag': true,
      'dep-parent': true,
      'dep-child': true,
      'dep-on-variant': true,
      'inactive-flag': false,
      'not-set-flag': false,
    });
    const both = await local.client.getAllFlagsAndPayloads('distinct_id_2', options);
    expect(both.featureFlags).toEqual(all);
    expect(both.featureFlagPayloads).toEqual({ 'multivariate-flag': { color: 'blue', n: 1 }, 'person-flag': { tier: 'paid' } });
  });
});

describe('remote evaluation for what the SDK cannot evaluate locally', () => {
  it('static cohorts: undefined locally, membership from /flags', async () => {
    expect(await local.client.getFeatureFlag('static-flag', 'vip-1', local1)).toBeUndefined();
    expect(await local.client.getFeatureFlag('static-flag', 'vip-1')).toBe(true);
    expect(await local.client.getFeatureFlagPayload('static-flag', 'vip-2')).toBe('vip');
    expect(await local.client.getFeatureFlag('static-flag', 'stranger')).toBe(false);
  });

  it('experience continuity: undefined locally, bucketed by the server', async () => {
    let on = 0;
    for (let i = 0; i < 20; i++) {
      const id = `continuity-${i}`;
      expect(await local.client.getFeatureFlag('continuity-flag', id, local1)).toBeUndefined();
      const expected = flagHash('continuity-flag', id) <= 0.5;
      if (expected) on++;
      expect(await local.client.getFeatureFlag('continuity-flag', id), id).toBe(expected);
    }
    expect(on).toBeGreaterThan(0);
    expect(on).toBeLessThan(20);
  });

  it('a missing property: inconclusive locally, the server treats is_not_set as true', async () => {
    expect(await local.client.getFeatureFlag('not-set-flag', 'u1', local1)).toBeUndefined();
    expect(await local.client.getFeatureFlag('not-set-flag', 'u1')).toBe(true);
    expect(await local.client.getFeatureFlag('not-set-flag', 'u1', { personProperties: { nickname: 'x' }, ...local1 })).toBe(false);
  });

  it('getAllFlags falls back to /flags and merges the server answers', async () => {
    const all = await local.client.getAllFlags('vip-1', { personProperties: { email: 'x@y.z', plan: 'free', country: 'FR', age: 20, beta: 'no' } });
    expect(all).toMatchObject({
      'static-flag': true,
      'not-set-flag': true,
      'continuity-flag': flagHash('continuity-flag', 'vip-1') <= 0.5,
      'person-flag': false,
      'inactive-flag': false,
      'simple-flag': flagHash('simple-flag', 'vip-1') <= 0.45,
    });
    expect(local.errors).toEqual([]);
  });
});

describe('evaluateFlags (the 5.x snapshot API)', () => {
  it('answers local flags locally and the rest through one /flags call', async () => {
    const person = { email: 'ada@example.com', plan: 'pro', country: 'AT', age: 33, beta: 'yes' };
    const localOnly = await local.client.evaluateFlags('vip-1', { personProperties: person, onlyEvaluateLocally: true });
    expect(localOnly.getFlag('person-flag')).toBe(true);
    expect(localOnly.getFlag('static-flag')).toBeUndefined();
    expect(localOnly.unresolvedFlags).toMatchObject({ 'static-flag': expect.any(String), 'continuity-flag': 'experience_continuity' });

    const all = await local.client.evaluateFlags('vip-1', { personProperties: person });
    expect(all.getFlag('static-flag')).toBe(true);
    expect(all.getFlagPayload('static-flag')).toBe('vip');
    expect(all.getFlag('cohort-flag')).toBe(true);
    expect(all.getFlag('dep-child')).toBe(true);
    expect(all.isEnabled('inactive-flag')).toBe(false);
    expect(all.getFlag('continuity-flag')).toBe(flagHash('continuity-flag', 'vip-1') <= 0.5);
    expect(all.getFlagPayload('person-flag')).toEqual({ tier: 'paid' });
    expect(local.errors).toEqual([]);
  });
});

describe('local evaluation with the project secret key', () => {
  it('loads definitions with secretKey (phs_) and with the personalApiKey alias', async () => {
    for (const options of [{ secretKey: SECRET_TOKEN, personalApiKey: undefined }, { personalApiKey: SECRET_TOKEN }]) {
      const c = sdkClient(t, options);
      try {
        expect(await c.client.waitForLocalEvaluationReady(10_000)).toBe(true);
        expect(await c.client.getFeatureFlag('multivariate-flag', 'distinct_id_2', local1)).toBe('first-variant');
        expect(await c.client.getFeatureFlag('cohort-flag', 'u', { personProperties: { country: 'DE', age: 20 }, ...local1 })).toBe(true);
        expect(
          await c.client.getFeatureFlag('group-flag', 'u', { groups: { company: 'a' }, groupProperties: { company: { employees: 100 } }, ...local1 }),
        ).toBe(true);
        expect(c.errors).toEqual([]);
      } finally {
        await c.client.shutdown();
      }
    }
  });

  it('an invalid secret gives no definitions, and remote evaluation still answers', async () => {
    const c = sdkClient(t, { secretKey: 'phs_doesnotexist00000000000000000', personalApiKey: undefined });
    try {
      expect(await eventually(() => c.errors.length > 0, 5000)).toBe(true);
      expect(c.client.isLocalEvaluationReady()).toBe(false);
      expect(await c.client.getFeatureFlag('simple-flag', 'distinct_id_1', local1)).toBeUndefined();
      expect(await c.client.getFeatureFlag('simple-flag', 'distinct_id_1')).toBe(true);
      expect(c.errors.map(String).join()).toMatch(/invalid/);
    } finally {
      await c.client.shutdown();
    }
  });
});

describe('definitions polling with ETag and 304', () => {
  it('revalidates with If-None-Match, gets 304s, then a 200 with a new ETag after an edit', async () => {
    const proxy = await startRecordingProxy(t.baseUrl);
    const c = sdkClient({ baseUrl: proxy.url }, { featureFlagsPollingInterval: 100 });
    try {
      expect(await c.client.waitForLocalEvaluationReady(10_000)).toBe(true);
      const polls = () => proxy.exchanges.filter((e) => e.url.startsWith('/flags/definitions'));
      expect(await eventually(() => polls().length >= 3, 5000)).toBe(true);

      const [first, second, third] = polls();
      expect(first.method).toBe('GET');
      expect(first.url).toBe(`/flags/definitions?token=${PROJECT_TOKEN}&send_cohorts`);
      expect(first.requestHeaders.authorization).toBe(`Bearer ${t.boot.personalApiKey}`);
      expect(first.requestHeaders['user-agent']).toMatch(/^posthog-node\/5\.70\.0/);
      expect(first.requestHeaders['if-none-match']).toBeUndefined();
      expect(first.status).toBe(200);
      const etag = first.responseHeaders.etag as string;
      expect(etag).toMatch(/^W\/"[0-9a-f]+"$/);
      expect(first.responseHeaders['cache-control']).toBe('private, must-revalidate');
      for (const poll of [second, third]) {
        expect(poll.requestHeaders['if-none-match']).toBe(etag);
        expect(poll.status).toBe(304);
        expect(poll.responseHeaders.etag).toBe(etag);
        expect(poll.responseBytes).toBe(0);
      }

      expect(await c.client.getFeatureFlag('simple-flag', 'distinct_id_0', local1)).toBe(false);
      await patchFlag(t, flags.simple.id, { filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
      expect(await eventually(async () => (await c.client.getFeatureFlag('simple-flag', 'distinct_id_0', local1)) === true, 5000)).toBe(true);

      const all = polls();
      const changed = all.findIndex((e) => e.status === 200 && e !== first);
      expect(changed).toBeGreaterThan(0);
      const fresh = all[changed];
      expect(fresh.requestHeaders['if-none-match']).toBe(etag);
      const newEtag = fresh.responseHeaders.etag as string;
      expect(newEtag).toMatch(/^W\/"[0-9a-f]+"$/);
      expect(newEtag).not.toBe(etag);
      expect(all.slice(1, changed).every((e) => e.status === 304)).toBe(true);
      expect(await eventually(() => polls().length > changed + 1, 5000)).toBe(true);
      const after = polls()[changed + 1];
      expect(after.requestHeaders['if-none-match']).toBe(newEtag);
      expect(after.status).toBe(304);
      expect(c.errors).toEqual([]);
    } finally {
      await c.client.shutdown();
      await proxy.close();
      await patchFlag(t, flags.simple.id, { filters: { groups: [{ properties: [], rollout_percentage: 45 }] } });
    }
  });
});

describe('evaluation contexts in local evaluation', () => {
  it('a client with evaluationContexts keeps untagged flags and flags sharing a context', async () => {
    const on = { groups: [{ properties: [], rollout_percentage: 100 }] };
    await createFlag(t, { key: 'ctx-web', tags: ['web'], evaluation_tags: ['web'], filters: on });
    await createFlag(t, { key: 'ctx-mobile', tags: ['mobile'], evaluation_tags: ['mobile'], filters: on });
    await createFlag(t, {
      key: 'ctx-needs-mobile',
      filters: {
        groups: [
          {
            properties: [dependsOn((await t.api('get', '/api/projects/1/feature_flags/?search=ctx-mobile')).body.results[0].id, false)],
            rollout_percentage: 100,
          },
        ],
      },
    });
    const c = sdkClient(t, { evaluationContexts: ['web'] });
    try {
      expect(await c.client.waitForLocalEvaluationReady(10_000)).toBe(true);
      const all = await c.client.getAllFlags('ctx-user', local1);
      expect(all['ctx-web']).toBe(true);
      expect('ctx-mobile' in all).toBe(false);
      // A dependency filtered out by context counts as false, locally as on the server.
      expect(all['ctx-needs-mobile']).toBe(true);
      const remote = await t.http.post('/flags?v=2').send({
        token: PROJECT_TOKEN,
        distinct_id: 'ctx-user',
        evaluation_contexts: ['web'],
        flag_keys_to_evaluate: ['ctx-web', 'ctx-mobile', 'ctx-needs-mobile'],
      });
      expect(Object.fromEntries(Object.entries(remote.body.flags as Record<string, Json>).map(([k, f]) => [k, f.enabled]))).toEqual({
        'ctx-web': true,
        'ctx-needs-mobile': true,
      });
      expect(c.errors).toEqual([]);
    } finally {
      await c.client.shutdown();
    }
  });
});

describe('stored persons and groups from captured events', () => {
  beforeAll(async () => {
    const c = sdkClient(t, { personalApiKey: undefined });
    try {
      c.client.identify({ distinctId: 'stored-ada', properties: { plan: 'pro', email: 'ada@example.com' } });
      c.client.groupIdentify({ groupType: 'company', groupKey: 'stored-co', properties: { employees: 5000 } });
      await c.client.flush();
      expect(c.errors).toEqual([]);
    } finally {
      await c.client.shutdown();
    }
  });

  it('posthog-node identify and groupIdentify reach the person and group store', async () => {
    const [stored] = await t.sql<{ properties: Json }>(
      "select p.properties from persons p join person_distinct_ids d on d.person_id = p.id where d.project_id = 1 and d.distinct_id = 'stored-ada'",
    );
    expect(stored.properties).toMatchObject({ plan: 'pro', email: 'ada@example.com' });
    const [group] = await t.sql<{ group_properties: Json }>("select group_properties from groups where project_id = 1 and group_key = 'stored-co'");
    expect(group.group_properties).toMatchObject({ employees: 5000 });
  });

  // /flags merges the request over the stored person and group (docs/compatibility.md#sdk-3.1,
  // #sdk-3.12).
  it('/flags starts from the stored person properties (SDK 3.1)', async () => {
    const res = await t.http.post('/flags?v=2').send({ token: PROJECT_TOKEN, distinct_id: 'stored-ada', flag_keys_to_evaluate: ['person-flag'] });
    expect(res.body.flags['person-flag'].enabled).toBe(true);
  });

  it('/flags reads stored group properties (SDK 3.1)', async () => {
    const res = await t.http
      .post('/flags?v=2')
      .send({ token: PROJECT_TOKEN, distinct_id: 'anyone', groups: { company: 'stored-co' }, flag_keys_to_evaluate: ['group-flag'] });
    expect(res.body.flags['group-flag'].enabled).toBe(true);
  });

  it('experience continuity keeps the first anon id for later requests without one (SDK 3.12)', async () => {
    let checked = 0;
    for (let i = 0; i < 100 && checked < 3; i++) {
      const [id, anon] = [`returning-${i}`, `anon-returning-${i}`];
      const byAnon = flagHash('continuity-flag', anon) <= 0.5;
      if (byAnon === flagHash('continuity-flag', id) <= 0.5) continue;
      checked++;
      const first = await t.http
        .post('/flags?v=2')
        .send({ token: PROJECT_TOKEN, distinct_id: id, $anon_distinct_id: anon, flag_keys_to_evaluate: ['continuity-flag'] });
      expect(first.body.flags['continuity-flag'].enabled).toBe(byAnon);
      const later = await t.http.post('/flags?v=2').send({ token: PROJECT_TOKEN, distinct_id: id, flag_keys_to_evaluate: ['continuity-flag'] });
      expect(later.body.flags['continuity-flag'].enabled).toBe(byAnon);
    }
    expect(checked).toBe(3);
  });
});

// posthog-node's local evaluation (from flaghost's definitions) and flaghost's /flags answers must
// agree, flag by flag and payload by payload, for over a thousand distinct ids with their own person
// properties, groups and group properties.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import {
  cohortFilters,
  createCohort,
  createFlag,
  createGroupType,
  dependsOn,
  inCohort,
  person,
  remoteClient,
  sdkClient,
  type Json,
  type SdkClient,
} from '../helpers/sdk.ts';

const N = 1200;
let t: TestApp;
let local: SdkClient;
let remote: SdkClient;

const FLAG_KEYS = [
  'lr-boolean',
  'lr-multivariate',
  'lr-group',
  'lr-person',
  'lr-cohort',
  'lr-dependent',
  'lr-group-variant',
  'lr-semver',
  'lr-date',
  'lr-regex',
  'lr-holdout',
  'lr-early-exit',
  'lr-not-in-cohort',
  'lr-negated-cohort',
  'lr-device',
  'lr-on-variant',
];

/** JSON with sorted object keys (the two answers build their maps in different orders). */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );

interface Subject {
  distinctId: string;
  personProperties: Json;
  groups: Record<string, string>;
  groupProperties: Record<string, Json>;
}

function subject(i: number): Subject {
  const withGroup = i % 5 !== 0;
  return {
    distinctId: `user-${i}`,
    personProperties: {
      plan: ['free', 'pro', 'enterprise'][i % 3],
      age: 15 + ((i * 7) % 50),
      email: `u${i}@${i % 4 === 0 ? 'corp.com' : 'mail.org'}`,
      country: ['DE', 'FR', 'US', 'BR', 'JP'][(i * 3) % 5],
      app_version: `${i % 3}.${i % 5}.${i % 7}`,
      signed_up: new Date(Date.UTC(2023, i % 24, 1 + (i % 28))).toISOString(),
      $device_id: `device-${(i * 13) % 997}`,
    },
    groups: withGroup ? { company: `co-${i % 37}` } : {},
    groupProperties: withGroup ? { company: { tier: (i % 37) % 2 === 0 ? 'gold' : 'silver', seats: (i % 37) * 10 } } : {},
  };
}

beforeAll(async () => {
  t = await createTestApp();
  await createGroupType(t, 'company');
  const variants = [
    { key: 'a', rollout_percentage: 34 },
    { key: 'b', rollout_percentage: 33 },
    { key: 'c', rollout_percentage: 33 },
  ];
  const boolean = await createFlag(t, {
    key: 'lr-boolean',
    filters: { groups: [{ properties: [], rollout_percentage: 35 }], payloads: { true: { on: true } } },
  });
  await createFlag(t, {
    key: 'lr-multivariate',
    filters: {
      groups: [
        { properties: [person('plan', 'enterprise')], rollout_percentage: 100, variant: 'c' },
        { properties: [], rollout_percentage: 70 },
      ],
      multivariate: { variants },
      payloads: { a: { v: 'a' }, b: '"bee"', c: [3] },
    },
  });
  await createFlag(t, {
    key: 'lr-group',
    filters: {
      aggregation_group_type_index: 0,
      groups: [
        { properties: [{ key: 'tier', value: 'gold', operator: 'exact', type: 'group', group_type_index: 0 }], rollout_percentage: 100 },
        { properties: [{ key: 'seats', value: '200', operator: 'gt', type: 'group', group_type_index: 0 }], rollout_percentage: 40 },
      ],
    },
  });
  await createFlag(t, {
    key: 'lr-group-variant',
    filters: { aggregation_group_type_index: 0, groups: [{ properties: [], rollout_percentage: 60 }], multivariate: { variants } },
  });
  await createFlag(t, {
    key: 'lr-person',
    filters: {
      groups: [
        { properties: [person('email', 'corp', 'icontains'), person('age', '30', 'gte')], rollout_percentage: 60 },
        { properties: [person('plan', 'free', 'is_not')], rollout_percentage: 20 },
      ],
    },
  });
  const young = await createCohort(t, { name: 'young', filters: cohortFilters({ type: 'AND', values: [person('age', '20', 'lt')] }) });
  const cohort = await createCohort(t, {
    name: 'europe or young',
    filters: cohortFilters({ type: 'OR', values: [person('country', ['DE', 'FR'])] }, { type: 'AND', values: [inCohort(young.id)] }),
  });
  await createFlag(t, { key: 'lr-cohort', filters: { groups: [{ properties: [inCohort(cohort.id)], rollout_percentage: 80 }] } });
  await createFlag(t, { key: 'lr-dependent', filters: { groups: [{ properties: [dependsOn(boolean.id), person('plan', 'pro')], rollout_percentage: 100 }] } });

  await createFlag(t, {
    key: 'lr-semver',
    filters: {
      groups: [
        { properties: [person('app_version', '1.2.0', 'semver_gte'), person('app_version', '2.0.0', 'semver_lt')], rollout_percentage: 100 },
        { properties: [person('app_version', '2.3.*', 'semver_wildcard')], rollout_percentage: 100 },
        { properties: [person('app_version', '0.4.1', 'semver_tilde')], rollout_percentage: 100 },
      ],
    },
  });
  await createFlag(t, {
    key: 'lr-date',
    filters: {
      groups: [
        { properties: [person('signed_up', '2024-03-15', 'is_date_after')], rollout_percentage: 100 },
        { properties: [person('signed_up', '2023-02-01T00:00:00Z', 'is_date_before')], rollout_percentage: 50 },
      ],
    },
  });
  await createFlag(t, {
    key: 'lr-regex',
    filters: {
      groups: [
        { properties: [person('email', '^u[0-9]*[05]@', 'regex')], rollout_percentage: 100 },
        { properties: [person('email', 'corp\\.com$', 'not_regex')], rollout_percentage: 30 },
      ],
    },
  });
  await createFlag(t, {
    key: 'lr-holdout',
    filters: {
      groups: [{ properties: [], rollout_percentage: 80 }],
      multivariate: { variants },
      holdout: { id: 7, exclusion_percentage: 20 },
      payloads: { a: { v: 'a' } },
    },
  });
  await createFlag(t, {
    key: 'lr-early-exit',
    filters: {
      early_exit: true,
      groups: [
        { properties: [], rollout_percentage: 40 },
        { properties: [person('plan', ['pro', 'free'])], rollout_percentage: 100 },
      ],
    },
  });
  await createFlag(t, { key: 'lr-not-in-cohort', filters: { groups: [{ properties: [inCohort(young.id, 'not_in')], rollout_percentage: 100 }] } });
  const negated = await createCohort(t, {
    name: 'not free, not in JP',
    filters: cohortFilters({
      type: 'AND',
      values: [person('plan', 'free', 'exact', { negation: true }), person('country', 'JP', 'exact', { negation: true })],
    }),
  });
  await createFlag(t, { key: 'lr-negated-cohort', filters: { groups: [{ properties: [inCohort(negated.id)], rollout_percentage: 100 }] } });
  await createFlag(t, { key: 'lr-device', bucketing_identifier: 'device_id', filters: { groups: [{ properties: [], rollout_percentage: 50 }] } });
  const multivariate = (await t.api('get', '/api/projects/1/feature_flags/?search=lr-multivariate')).body.results[0];
  await createFlag(t, {
    key: 'lr-on-variant',
    filters: {
      groups: [
        { properties: [dependsOn(multivariate.id, 'b')], rollout_percentage: 100 },
        { properties: [dependsOn(multivariate.id, false)], rollout_percentage: 50 },
      ],
    },
  });

  local = sdkClient(t);
  remote = remoteClient(t);
  expect(await local.client.waitForLocalEvaluationReady(10_000)).toBe(true);
});

afterAll(async () => {
  await local?.client.shutdown();
  await remote?.client.shutdown();
  await t?.close();
});

describe('local evaluation equals remote evaluation', () => {
  it(`agrees on every flag and payload for ${N} distinct ids`, async () => {
    const subjects = Array.from({ length: N }, (_, i) => subject(i));
    const localAnswers = [];
    for (const s of subjects) {
      localAnswers.push(await local.client.getAllFlagsAndPayloads(s.distinctId, { ...s, onlyEvaluateLocally: true }));
    }
    const remoteAnswers: Awaited<ReturnType<typeof remote.client.getAllFlagsAndPayloads>>[] = [];
    for (let i = 0; i < N; i += 100) {
      remoteAnswers.push(...(await Promise.all(subjects.slice(i, i + 100).map((s) => remote.client.getAllFlagsAndPayloads(s.distinctId, s)))));
    }

    const mismatches: string[] = [];
    const counts = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      const l = { featureFlags: localAnswers[i].featureFlags ?? {}, featureFlagPayloads: localAnswers[i].featureFlagPayloads ?? {} };
      const r = { featureFlags: remoteAnswers[i].featureFlags ?? {}, featureFlagPayloads: remoteAnswers[i].featureFlagPayloads ?? {} };
      expect(Object.keys(l.featureFlags).sort(), subjects[i].distinctId).toEqual([...FLAG_KEYS].sort());
      for (const key of FLAG_KEYS) {
        const value = l.featureFlags[key];
        counts.set(`${key}=${value}`, (counts.get(`${key}=${value}`) ?? 0) + 1);
        if (value !== r.featureFlags[key]) mismatches.push(`${subjects[i].distinctId} ${key}: local ${value} remote ${r.featureFlags[key]}`);
      }
      if (canonical(l.featureFlagPayloads) !== canonical(r.featureFlagPayloads)) {
        mismatches.push(`${subjects[i].distinctId} payloads: local ${JSON.stringify(l.featureFlagPayloads)} remote ${JSON.stringify(r.featureFlagPayloads)}`);
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(local.errors).toEqual([]);
    expect(remote.errors).toEqual([]);

    // The data set exercises both outcomes of every flag (and every variant).
    for (const key of FLAG_KEYS) {
      expect(counts.get(`${key}=false`) ?? 0, key).toBeGreaterThan(0);
      expect(N - (counts.get(`${key}=false`) ?? 0), key).toBeGreaterThan(0);
    }
    expect(counts.get('lr-holdout=holdout-7') ?? 0).toBeGreaterThan(0);
    for (const variant of ['a', 'b', 'c']) {
      expect(counts.get(`lr-multivariate=${variant}`) ?? 0).toBeGreaterThan(0);
      expect(counts.get(`lr-group-variant=${variant}`) ?? 0).toBeGreaterThan(0);
    }
  });

  it('agrees with direct /flags?v=2 POSTs as a Python client would send them', async () => {
    for (let i = 0; i < 50; i++) {
      const s = subject(i * 7);
      const res = await t.http.post('/flags/?v=2').set('User-Agent', 'posthog-python/6.0.0').send({
        api_key: PROJECT_TOKEN,
        distinct_id: s.distinctId,
        groups: s.groups,
        person_properties: s.personProperties,
        group_properties: s.groupProperties,
        geoip_disable: true,
      });
      expect(res.status).toBe(200);
      const localFlags = await local.client.getAllFlags(s.distinctId, { ...s, onlyEvaluateLocally: true });
      const remoteFlags = Object.fromEntries(
        Object.entries(res.body.flags as Record<string, Json>).map(([k, f]) => [k, f.enabled ? (f.variant ?? true) : false]),
      );
      expect(remoteFlags, s.distinctId).toEqual(localFlags);
    }
  });
});

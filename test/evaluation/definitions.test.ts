// The local-evaluation definitions payload (docs/compatibility.md#sdk-1.5, #api-6).
import { describe, expect, it } from 'vitest';
import { buildDefinitions, type CohortDefinition, type FlagDefinition } from '../../src/evaluation/index.js';
import { cohort, flag, person, rollout } from './fixtures.js';

const GROUP_TYPES = [
  { groupType: 'project', groupTypeIndex: 1 },
  { groupType: 'organization', groupTypeIndex: 0 },
];

function build(flags: FlagDefinition[], cohorts: CohortDefinition[] = [], sendCohorts = false) {
  return buildDefinitions({ flags, cohorts, groupTypes: GROUP_TYPES, sendCohorts, projectId: 1 });
}

const byKey = (payload: ReturnType<typeof build>) => Object.fromEntries(payload.flags.map((f) => [f.key, f]));
const dep = (id: number, value: unknown = true) => ({ key: String(id), type: 'flag', operator: 'flag_evaluates_to', value });
const inCohort = (id: number) => ({ key: 'id', type: 'cohort', value: id });

describe('flags and group types', () => {
  it('sends inactive flags, leaves out deleted and remote-configuration flags, ordered by key', () => {
    const payload = build([
      flag('zeta', { groups: [rollout(100)] }, { id: 1 }),
      flag('alpha', { groups: [rollout(100)] }, { id: 2, active: false }),
      flag('deleted', { groups: [] }, { id: 3, deleted: true }),
      flag('remote', { groups: [] }, { id: 4, isRemoteConfiguration: true }),
    ]);
    expect(payload.flags.map((f) => f.key)).toEqual(['alpha', 'zeta']);
    expect(payload.flags[0]).toEqual({
      id: 2,
      team_id: 1,
      name: 'alpha',
      key: 'alpha',
      filters: { groups: [rollout(100)] },
      deleted: false,
      active: false,
      ensure_experience_continuity: false,
      has_encrypted_payloads: false,
      version: 1,
      evaluation_runtime: 'all',
      bucketing_identifier: 'distinct_id',
      evaluation_tags: [],
      evaluation_contexts: [],
    });
    expect(payload.group_type_mapping).toEqual({ '0': 'organization', '1': 'project' });
    expect(payload.cohorts).toEqual({});
  });

  it('copies the top-level flag fields', () => {
    const [f] = build([
      flag(
        'x',
        { groups: [] },
        {
          projectId: 9,
          ensureExperienceContinuity: true,
          hasEncryptedPayloads: true,
          version: null,
          evaluationRuntime: 'server',
          bucketingIdentifier: 'device_id',
          evaluationTags: ['web'],
        },
      ),
    ]).flags;
    expect(f).toMatchObject({
      team_id: 9,
      ensure_experience_continuity: true,
      has_encrypted_payloads: true,
      version: null,
      evaluation_runtime: 'server',
      bucketing_identifier: 'device_id',
      evaluation_tags: ['web'],
    });
  });
});

describe('flag dependency rewrite', () => {
  it('replaces stored ids with keys and adds the evaluation chain', () => {
    const flags = [
      flag('c', { groups: [rollout(100)] }, { id: 3 }),
      flag('b', { groups: [{ properties: [dep(3)] }] }, { id: 2 }),
      flag('a', { groups: [{ properties: [dep(2, 'variant')] }, { properties: [dep(3, false)] }] }, { id: 1 }),
    ];
    const original = JSON.stringify(flags);
    const f = byKey(build(flags));
    expect(f.a.filters.groups).toEqual([
      { properties: [{ key: 'b', type: 'flag', operator: 'flag_evaluates_to', value: 'variant', dependency_chain: ['c', 'b'] }] },
      { properties: [{ key: 'c', type: 'flag', operator: 'flag_evaluates_to', value: false, dependency_chain: ['c'] }] },
    ]);
    expect((f.b.filters.groups as any)[0].properties[0]).toMatchObject({ key: 'c', dependency_chain: ['c'] });
    expect(JSON.stringify(flags)).toBe(original); // inputs untouched
  });

  it('gives an empty chain for cycles, self-dependencies and missing or deleted flags', () => {
    const f = byKey(
      build([
        flag('x', { groups: [{ properties: [dep(11)] }] }, { id: 10 }),
        flag('y', { groups: [{ properties: [dep(10)] }] }, { id: 11 }),
        flag('self', { groups: [{ properties: [dep(12)] }] }, { id: 12 }),
        flag('missing', { groups: [{ properties: [dep(999)] }] }, { id: 13 }),
        flag('on-deleted', { groups: [{ properties: [dep(15)] }] }, { id: 14 }),
        flag('deleted', { groups: [] }, { id: 15, deleted: true }),
        flag('on-x', { groups: [{ properties: [dep(10)] }] }, { id: 16 }),
      ]),
    );
    const prop = (k: string) => (f[k].filters.groups as any)[0].properties[0];
    expect(prop('x')).toMatchObject({ key: 'y', dependency_chain: [] });
    expect(prop('y')).toMatchObject({ key: 'x', dependency_chain: [] });
    expect(prop('self')).toMatchObject({ key: 'self', dependency_chain: [] });
    expect(prop('missing')).toMatchObject({ key: '999', dependency_chain: [] });
    expect(prop('on-deleted')).toMatchObject({ key: '15', dependency_chain: [] });
    expect(prop('on-x')).toMatchObject({ key: 'x', dependency_chain: [] });
  });
});

describe('send_cohorts', () => {
  const inner = cohort(2, { properties: { type: 'AND', values: [{ type: 'AND', values: [person('plan', 'pro', 'exact', { label: 'ignored' })] }] } });
  const outer = cohort(1, { properties: { type: 'OR', values: [{ type: 'OR', values: [inCohort(2), person('email', '@x.com', 'icontains')] }] } });

  it('ships every referenced dynamic cohort (transitively) keyed by id, leaving filters untouched', () => {
    const flags = [flag('f', { groups: [{ properties: [inCohort(1)], rollout_percentage: 30 }] })];
    const payload = build(
      flags,
      [
        outer,
        inner,
        cohort(3, { properties: { type: 'AND', values: [] } }), // unreferenced
        cohort(4, {}, { isStatic: true }),
      ],
      true,
    );
    expect(payload.flags[0].filters).toEqual(flags[0].filters);
    expect(Object.keys(payload.cohorts).sort()).toEqual(['1', '2']);
    expect(payload.cohorts['1']).toEqual({
      type: 'OR',
      values: [
        {
          type: 'OR',
          values: [
            { key: 'id', type: 'cohort', value: 2 },
            { key: 'email', operator: 'icontains', type: 'person', value: '@x.com' },
          ],
        },
      ],
    });
    // Django's Property drops unknown keys
    expect(payload.cohorts['2']).toEqual({
      type: 'AND',
      values: [{ type: 'AND', values: [{ key: 'plan', operator: 'exact', type: 'person', value: 'pro' }] }],
    });
  });

  it('omits static, deleted and missing cohorts', () => {
    const payload = build(
      [flag('f', { groups: [{ properties: [inCohort(4)] }, { properties: [inCohort(5)] }, { properties: [inCohort(6)] }] })],
      [cohort(4, {}, { isStatic: true }), cohort(5, { properties: { type: 'AND', values: [] } }, { deleted: true })],
      true,
    );
    expect(payload.cohorts).toEqual({});
  });

  it('keeps negation and behavioral fields of cohort properties', () => {
    const c = cohort(1, {
      properties: {
        type: 'AND',
        values: [
          {
            type: 'AND',
            values: [
              person('plan', 'pro', 'exact', { negation: true }),
              { key: '$pageview', type: 'behavioral', value: 'performed_event', event_type: 'events', time_value: 30, time_interval: 'day', negation: false },
            ],
          },
        ],
      },
    });
    const payload = build([flag('f', { groups: [{ properties: [inCohort(1)] }] })], [c], true);
    expect((payload.cohorts['1'] as any).values[0].values).toEqual([
      { key: 'plan', operator: 'exact', type: 'person', negation: true, value: 'pro' },
      { key: '$pageview', type: 'behavioral', event_type: 'events', time_value: 30, time_interval: 'day', negation: false, value: 'performed_event' },
    ]);
  });
});

describe('cohort expansion without send_cohorts', () => {
  const props = {
    a: person('a', 1),
    b: person('b', 'x', 'icontains'),
    c: person('c', true),
  };
  const expand = (cohortFilters: Record<string, unknown>, groups: unknown[], extraCohorts: CohortDefinition[] = []) => {
    const payload = build([flag('f', { groups, payloads: { true: '1' } })], [cohort(1, cohortFilters), ...extraCohorts]);
    expect(payload.cohorts).toEqual({});
    return payload.flags[0].filters;
  };
  const only = (rolloutPct: number | null = 40) => [{ properties: [inCohort(1)], rollout_percentage: rolloutPct }];

  it('turns an AND of person properties into one condition set, keeping the rollout', () => {
    const filters = expand({ properties: { type: 'AND', values: [{ type: 'AND', values: [props.a, props.b] }] } }, only());
    expect(filters).toEqual({
      groups: [
        {
          properties: [
            { key: 'a', type: 'person', value: 1 },
            { key: 'b', operator: 'icontains', type: 'person', value: 'x' },
          ],
          rollout_percentage: 40,
        },
      ],
      payloads: { true: '1' },
    });
  });

  it('turns an OR of properties into one condition set per property', () => {
    const filters = expand({ properties: { type: 'OR', values: [{ type: 'OR', values: [props.a, props.b] }] } }, only(null));
    expect(filters.groups).toEqual([
      { properties: [{ key: 'a', type: 'person', value: 1 }], rollout_percentage: null },
      { properties: [{ key: 'b', operator: 'icontains', type: 'person', value: 'x' }], rollout_percentage: null },
    ]);
  });

  it('turns an OR of ANDs into one condition set per branch', () => {
    const filters = expand(
      {
        properties: {
          type: 'OR',
          values: [
            { type: 'AND', values: [props.a, props.b] },
            { type: 'AND', values: [props.c] },
          ],
        },
      },
      only(25),
    );
    expect(filters.groups).toEqual([
      {
        properties: [
          { key: 'a', type: 'person', value: 1 },
          { key: 'b', operator: 'icontains', type: 'person', value: 'x' },
        ],
        rollout_percentage: 25,
      },
      { properties: [{ key: 'c', type: 'person', value: true }], rollout_percentage: 25 },
    ]);
  });

  it('collapses a single property', () => {
    const filters = expand({ properties: { type: 'AND', values: [{ type: 'OR', values: [props.c] }] } }, only(10));
    expect(filters.groups).toEqual([{ properties: [{ key: 'c', type: 'person', value: true }], rollout_percentage: 10 }]);
  });

  it('keeps other condition sets first and uses the last condition set’s rollout (PostHog quirk)', () => {
    const groups = [
      { properties: [inCohort(1)], rollout_percentage: 10 },
      { properties: [props.c], rollout_percentage: 90 },
    ];
    const filters = expand({ properties: { type: 'AND', values: [{ type: 'AND', values: [props.a] }] } }, groups);
    expect(filters.groups).toEqual([
      { properties: [props.c], rollout_percentage: 90 },
      { properties: [{ key: 'a', type: 'person', value: 1 }], rollout_percentage: 90 },
    ]);
  });

  it.each([
    [
      'an AND of ORs',
      {
        properties: {
          type: 'AND',
          values: [
            { type: 'OR', values: [props.a, props.b] },
            { type: 'OR', values: [props.c, props.a] },
          ],
        },
      },
      only(),
    ],
    ['a negated property', { properties: { type: 'AND', values: [{ type: 'AND', values: [{ ...props.a, negation: true }] }] } }, only()],
    [
      'a behavioral filter',
      {
        properties: {
          type: 'AND',
          values: [
            {
              type: 'AND',
              values: [props.a, { key: '$pageview', type: 'behavioral', value: 'performed_event', event_type: 'events', time_value: 1, time_interval: 'day' }],
            },
          ],
        },
      },
      only(),
    ],
    ['an empty cohort', { properties: { type: 'AND', values: [] } }, only()],
    [
      'a variant override anywhere',
      { properties: { type: 'AND', values: [{ type: 'AND', values: [props.a] }] } },
      [...only(), { properties: [], rollout_percentage: 100, variant: 'x' }],
    ],
    [
      'a cohort sharing its condition set',
      { properties: { type: 'AND', values: [{ type: 'AND', values: [props.a] }] } },
      [{ properties: [inCohort(1), props.b], rollout_percentage: 100 }],
    ],
  ])('leaves conditions unchanged for %s', (_name, cohortFilters, groups) => {
    const filters = expand(cohortFilters as Record<string, unknown>, groups as unknown[]);
    expect(filters.groups).toEqual(groups);
  });

  it('does not expand when two cohorts are involved (directly or nested)', () => {
    const simple = { properties: { type: 'AND', values: [{ type: 'AND', values: [props.a] }] } };
    const two = build([flag('f', { groups: [{ properties: [inCohort(1)] }, { properties: [inCohort(2)] }] })], [cohort(1, simple), cohort(2, simple)]);
    expect(two.flags[0].filters.groups).toEqual([{ properties: [inCohort(1)] }, { properties: [inCohort(2)] }]);
    const nested = build(
      [flag('f', { groups: [{ properties: [inCohort(1)] }] })],
      [cohort(1, { properties: { type: 'AND', values: [{ type: 'AND', values: [inCohort(2)] }] } }), cohort(2, simple)],
    );
    expect(nested.flags[0].filters.groups).toEqual([{ properties: [inCohort(1)] }]);
  });

  it('does not expand static or deleted cohorts', () => {
    const groups = [{ properties: [inCohort(7)], rollout_percentage: 100 }];
    const stat = build([flag('f', { groups })], [cohort(7, {}, { isStatic: true })]);
    expect(stat.flags[0].filters.groups).toEqual(groups);
    const deleted = build(
      [flag('f', { groups })],
      [cohort(7, { properties: { type: 'AND', values: [{ type: 'AND', values: [props.a] }] } }, { deleted: true })],
    );
    expect(deleted.flags[0].filters.groups).toEqual(groups);
  });
});

// Flag matching (docs/compatibility.md#sdk-3.4 to #sdk-3.7, #sdk-3.11, #sdk-3.12): reasons,
// groups, holdouts, gates, bucketing, dependencies, payloads.
import { describe, expect, it } from 'vitest';
import { evaluateFlags, flagHash, holdoutHash, type EvaluationRequest, type FlagDefinition } from '../../src/evaluation/index.js';
import { flag, person, project, rollout } from './fixtures.js';

const COMPANY = [
  { groupType: 'company', groupTypeIndex: 0 },
  { groupType: 'project', groupTypeIndex: 1 },
];

function run(flags: FlagDefinition[], request: Partial<EvaluationRequest> = {}) {
  const p = project(flags, [], COMPANY);
  const results = evaluateFlags(p, { distinctId: 'user-1', ...request });
  return Object.fromEntries(results.map((r) => [r.key, r]));
}

function one(filters: Record<string, unknown>, request: Partial<EvaluationRequest> = {}, overrides: Partial<FlagDefinition> = {}) {
  return run([flag('f', filters, overrides)], request).f;
}

/** A distinct id whose rollout hash for `key` is above/below `threshold`. */
function idWithHash(key: string, predicate: (h: number) => boolean): string {
  for (let i = 0; i < 10_000; i++) if (predicate(flagHash(key, `id-${i}`))) return `id-${i}`;
  throw new Error('no id found');
}

describe('reasons and priorities', () => {
  it('reports no_group_type for a flag with zero conditions', () => {
    expect(one({ groups: [] })).toMatchObject({
      enabled: false,
      variant: null,
      reason: { code: 'no_group_type', conditionIndex: null, description: 'No group type' },
    });
  });

  it('reports condition_match with the 1-based set number', () => {
    const r = one({ groups: [{ properties: [person('plan', 'pro')] }, { properties: [person('plan', 'free')] }] }, { personProperties: { plan: 'free' } });
    expect(r).toMatchObject({ enabled: true, variant: null, reason: { code: 'condition_match', conditionIndex: 1, description: 'Matched condition set 2' } });
  });

  it('prefers out_of_rollout_bound over no_condition_match, and later conditions on ties', () => {
    const out = idWithHash('f', (h) => h > 0.1);
    const r = one({ groups: [rollout(10), { properties: [person('plan', 'pro')] }] }, { distinctId: out });
    expect(r.reason).toEqual({ code: 'out_of_rollout_bound', conditionIndex: 0, description: 'Out of rollout bound' });

    const tie = one({ groups: [{ properties: [person('a', 1)] }, { properties: [person('b', 2)] }] });
    expect(tie.reason).toEqual({ code: 'no_condition_match', conditionIndex: 1, description: 'No matching condition set' });

    const both = one({ groups: [{ properties: [person('a', 1)] }, rollout(10), { properties: [person('b', 2)] }] }, { distinctId: out });
    expect(both.reason).toMatchObject({ code: 'out_of_rollout_bound', conditionIndex: 1 });
  });

  it('treats a null rollout as 100 % and matches without hashing at exactly 100', () => {
    expect(one({ groups: [rollout(null)] }).enabled).toBe(true);
    expect(one({ groups: [rollout(100)] }, { distinctId: '' }).enabled).toBe(true);
    expect(one({ groups: [rollout(0)] }).enabled).toBe(false);
  });

  it('compares the rollout hash with <=', () => {
    const h = flagHash('f', 'user-1');
    expect(one({ groups: [rollout(h * 100 + 1e-9)] }).enabled).toBe(true);
    expect(one({ groups: [rollout(h * 100 - 1e-9)] }).enabled).toBe(false);
  });
});

describe('variants and payloads', () => {
  const variants = {
    variants: [
      { key: 'control', rollout_percentage: 50 },
      { key: 'test', rollout_percentage: 50 },
    ],
  };
  const payloads = { control: '{"color":"blue"}', test: '{"color":"red"}', true: '"plain"' };

  it('picks the variant from the variant hash and returns its stored payload unchanged', () => {
    const r = one({ groups: [rollout(100)], multivariate: variants, payloads });
    const expected = flagHash('f', 'user-1', 'variant') < 0.5 ? 'control' : 'test';
    expect(r.variant).toBe(expected);
    expect(r.payload).toBe(payloads[expected as 'control' | 'test']);
  });

  it('uses a condition variant override only when it names an existing variant', () => {
    expect(one({ groups: [rollout(100, { variant: 'test' })], multivariate: variants }).variant).toBe('test');
    const hashed = one({ groups: [rollout(100)], multivariate: variants }).variant;
    expect(one({ groups: [rollout(100, { variant: 'nope' })], multivariate: variants }).variant).toBe(hashed);
  });

  it('evaluates conditions in stored order (no variant-override reordering)', () => {
    const r = one({ groups: [rollout(100, { variant: 'control' }), rollout(100, { variant: 'test' })], multivariate: variants });
    expect(r).toMatchObject({ variant: 'control', reason: { conditionIndex: 0 } });
  });

  it('falls back to boolean true past the end of the variant table', () => {
    const partial = { variants: [{ key: 'tiny', rollout_percentage: 0 }] };
    const r = one({ groups: [rollout(100)], multivariate: partial, payloads });
    expect(r).toMatchObject({ enabled: true, variant: null, payload: '"plain"' });
  });

  it('has no payload for false results or when none is stored', () => {
    expect(one({ groups: [rollout(0)], payloads }).payload).toBeUndefined();
    expect(one({ groups: [rollout(100)] }).payload).toBeUndefined();
    expect(one({ groups: [rollout(100)], payloads: { true: null } }).payload).toBeNull();
  });
});

describe('group flags and mixed targeting', () => {
  const groupFlag = (extra: Record<string, unknown> = {}) => ({
    aggregation_group_type_index: 0,
    groups: [{ properties: [{ key: 'size', value: 10, operator: 'gt', type: 'group', group_type_index: 0 }], rollout_percentage: 100 }],
    ...extra,
  });

  it('needs the group key of the flag aggregation', () => {
    expect(one(groupFlag())).toMatchObject({ enabled: false, reason: { code: 'no_group_type', conditionIndex: 0 } });
    expect(one(groupFlag(), { groups: { company: '' } }).reason.code).toBe('no_group_type');
    expect(one(groupFlag(), { groups: { project: 'p' } }).reason.code).toBe('no_group_type');
    const ok = { groups: { company: 'acme' }, groupProperties: { company: { size: 50 } } };
    expect(one(groupFlag(), ok)).toMatchObject({ enabled: true, reason: { code: 'condition_match' } });
    expect(one(groupFlag(), { ...ok, groups: { company: 42 } }).enabled).toBe(true);
    expect(one(groupFlag(), { groups: { company: 'acme' } })).toMatchObject({ enabled: false, reason: { code: 'no_condition_match' } });
  });

  it('reports no_group_type when the mapping lacks the index', () => {
    expect(one({ aggregation_group_type_index: 7, groups: [rollout(100)] }, { groups: { company: 'acme' } }).reason.code).toBe('no_group_type');
  });

  it('buckets rollout and variants on the group key', () => {
    const f = { aggregation_group_type_index: 0, groups: [rollout(50)] };
    const inKey = (() => {
      for (let i = 0; ; i++) if (flagHash('f', `org-${i}`) <= 0.5) return `org-${i}`;
    })();
    const outKey = (() => {
      for (let i = 0; ; i++) if (flagHash('f', `org-${i}`) > 0.5) return `org-${i}`;
    })();
    for (const distinctId of ['a', 'b', 'c']) {
      expect(one(f, { distinctId, groups: { company: inKey } }).enabled).toBe(true);
      expect(one(f, { distinctId, groups: { company: outKey } }).enabled).toBe(false);
    }
  });

  it('lets each condition choose its aggregation; skipped group conditions shape the description', () => {
    const mixed = {
      aggregation_group_type_index: null,
      groups: [
        {
          aggregation_group_type_index: 0,
          properties: [{ key: 'size', value: 10, operator: 'gt', type: 'group', group_type_index: 0 }],
          rollout_percentage: 100,
        },
        { aggregation_group_type_index: null, properties: [person('plan', 'pro')], rollout_percentage: 100 },
      ],
    };
    expect(one(mixed, { personProperties: { plan: 'pro' } })).toMatchObject({ enabled: true, reason: { conditionIndex: 1 } });
    expect(one(mixed, { personProperties: { plan: 'free' } })).toMatchObject({
      enabled: false,
      reason: {
        code: 'no_condition_match',
        conditionIndex: 1,
        description: 'No matching condition set (group conditions were not evaluated because no group type was provided)',
      },
    });
    expect(one(mixed, { groups: { company: 'acme' }, groupProperties: { company: { size: 11 } } })).toMatchObject({
      enabled: true,
      reason: { conditionIndex: 0 },
    });
    // a group type passed without properties is evaluated with empty properties
    expect(one(mixed, { groups: { company: 'acme' }, personProperties: { plan: 'free' } }).reason).toMatchObject({
      code: 'no_condition_match',
      description: 'No matching condition set',
    });
  });

  it('an explicit null condition aggregation means person on a group flag', () => {
    const f = {
      aggregation_group_type_index: 0,
      groups: [{ aggregation_group_type_index: null, properties: [person('plan', 'pro')], rollout_percentage: 100 }],
    };
    expect(one(f, { personProperties: { plan: 'pro' } }).enabled).toBe(true);
  });
});

describe('filters shared between flags', () => {
  const plan = (type: Record<string, unknown>) => ({ groups: [{ properties: [{ key: 'plan', value: 'pro', ...type }], rollout_percentage: 100 }] });
  const flags = () => [
    flag('person-a', plan({ type: 'person' })),
    flag('person-b', plan({ type: 'person', operator: 'exact' })),
    flag('company', plan({ type: 'group', group_type_index: 0 })),
    flag('project', plan({ type: 'group', group_type_index: 1 })),
    flag('legacy-person', plan({})),
    flag('legacy-company', { aggregation_group_type_index: 0, ...plan({}) }),
    flag('other-value', { groups: [{ properties: [person('plan', 'free')], rollout_percentage: 100 }] }),
  ];

  it('evaluates one filter once per request, however many flags repeat it', () => {
    // person-a, person-b and legacy-person read the same person property the same way, and so
    // do company and legacy-company (a group flag's untyped filter reads the group).
    expect(project(flags(), [], COMPANY).filterSlots).toBe(4);
  });

  it('keeps filters apart when they read different properties', () => {
    const results = run(flags(), {
      groups: { company: 'acme', project: 'p1' },
      personProperties: { plan: 'pro' },
      groupProperties: { company: { plan: 'free' }, project: { plan: 'pro' } },
    });
    const enabled = Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.enabled]));
    expect(enabled).toEqual({
      'person-a': true,
      'person-b': true,
      company: false,
      project: true,
      'legacy-person': true,
      'legacy-company': false,
      'other-value': false,
    });
    const flipped = run(flags(), {
      groups: { company: 'acme', project: 'p1' },
      personProperties: { plan: 'free' },
      groupProperties: { company: { plan: 'pro' }, project: { plan: 'free' } },
    });
    expect(Object.fromEntries(Object.entries(flipped).map(([k, r]) => [k, r.enabled]))).toEqual({
      'person-a': false,
      'person-b': false,
      company: true,
      project: false,
      'legacy-person': false,
      'legacy-company': true,
      'other-value': true,
    });
  });
});

describe('holdout', () => {
  const filters = (pct: unknown) => ({
    groups: [rollout(100)],
    multivariate: {
      variants: [
        { key: 'control', rollout_percentage: 50 },
        { key: 'test', rollout_percentage: 50 },
      ],
    },
    holdout: { id: 7, exclusion_percentage: pct },
    payloads: { 'holdout-7': '"held"' },
  });

  it('holds out people whose holdout hash is within the exclusion percentage', () => {
    expect(holdoutHash('distinct_id_2')).toBeCloseTo(0.461, 3);
    expect(holdoutHash('distinct_id_0')).toBeCloseTo(0.656, 3);
    expect(one(filters(50), { distinctId: 'distinct_id_2' })).toMatchObject({
      enabled: true,
      variant: 'holdout-7',
      payload: '"held"',
      reason: { code: 'holdout_condition_value', conditionIndex: null, description: 'Holdout condition value' },
    });
    expect(one(filters(50), { distinctId: 'distinct_id_0' }).reason.code).toBe('condition_match');
  });

  it('clamps the percentage and ignores a non-numeric one', () => {
    expect(one(filters(100), { distinctId: 'distinct_id_0' }).variant).toBe('holdout-7');
    expect(one(filters(250), { distinctId: 'distinct_id_0' }).variant).toBe('holdout-7');
    expect(one(filters(0), { distinctId: 'distinct_id_2' }).reason.code).toBe('condition_match');
    expect(one(filters(-5), { distinctId: 'distinct_id_2' }).reason.code).toBe('condition_match');
    expect(one(filters(null), { distinctId: 'distinct_id_2' }).reason.code).toBe('condition_match');
  });
});

describe('early_exit', () => {
  it('stops at the first rollout miss', () => {
    const out = idWithHash('f', (h) => h > 0.2);
    const filters = { groups: [rollout(20), rollout(100)] };
    expect(one(filters, { distinctId: out }).enabled).toBe(true);
    expect(one({ ...filters, early_exit: true }, { distinctId: out })).toMatchObject({
      enabled: false,
      reason: { code: 'out_of_rollout_bound', conditionIndex: 0, description: 'Out of rollout bound' },
    });
  });

  it('never triggers on a property mismatch', () => {
    const filters = { early_exit: true, groups: [{ properties: [person('plan', 'pro')], rollout_percentage: 100 }, rollout(100)] };
    expect(one(filters, { personProperties: { plan: 'free' } })).toMatchObject({ enabled: true, reason: { conditionIndex: 1 } });
  });
});

describe('early-access gates', () => {
  const enrollment = { feature_enrollment: true, groups: [rollout(0)], payloads: { true: '"beta"' } };

  it('feature_enrollment answers from $feature_enrollment/<key>', () => {
    const yes = one(enrollment, { personProperties: { '$feature_enrollment/f': true } });
    expect(yes).toMatchObject({
      enabled: true,
      variant: null,
      payload: '"beta"',
      reason: { code: 'super_condition_value', conditionIndex: 0, description: 'Super condition value' },
    });
    expect(one(enrollment, { personProperties: { '$feature_enrollment/f': 'true' } }).enabled).toBe(true);
    expect(one(enrollment, { personProperties: { '$feature_enrollment/f': 'TRUE' } }).enabled).toBe(false);
    expect(one(enrollment, { personProperties: { '$feature_enrollment/f': false } })).toMatchObject({
      enabled: false,
      reason: { code: 'super_condition_value' },
    });
    // absent: normal conditions
    expect(one(enrollment, { personProperties: {} }).reason.code).toBe('out_of_rollout_bound');
  });

  it('super_groups apply when any of their property keys is present', () => {
    const filters = {
      super_groups: [{ properties: [{ key: '$feature_enrollment/f', value: ['true'], operator: 'exact', type: 'person' }], rollout_percentage: 100 }],
      groups: [rollout(0)],
    };
    expect(one(filters, { personProperties: { '$feature_enrollment/f': true } })).toMatchObject({
      enabled: true,
      reason: { code: 'super_condition_value', conditionIndex: 0 },
    });
    expect(one(filters, { personProperties: { '$feature_enrollment/f': false } })).toMatchObject({
      enabled: false,
      reason: { code: 'super_condition_value' },
    });
    expect(one(filters, { personProperties: {} }).reason.code).toBe('out_of_rollout_bound');
  });

  it('feature_enrollment takes precedence over super_groups', () => {
    const filters = { ...enrollment, super_groups: [{ properties: [person('x', 1)], rollout_percentage: 100 }] };
    expect(one(filters, { personProperties: { x: 1 } }).reason.code).toBe('out_of_rollout_bound');
  });
});

describe('bucketing identifiers', () => {
  const half = {
    groups: [rollout(50)],
    multivariate: {
      variants: [
        { key: 'a', rollout_percentage: 50 },
        { key: 'b', rollout_percentage: 50 },
      ],
    },
  };

  it('device_id flags bucket on the device id', () => {
    for (const device of ['dev-1', 'dev-2', 'dev-3', 'dev-4']) {
      const byDevice = one(half, { distinctId: 'someone', deviceId: device }, { bucketingIdentifier: 'device_id' });
      const byDistinct = one(half, { distinctId: device });
      expect([byDevice.enabled, byDevice.variant]).toEqual([byDistinct.enabled, byDistinct.variant]);
    }
  });

  it('falls back to the $device_id person property', () => {
    const fromProp = one(half, { distinctId: 'x', personProperties: { $device_id: 'dev-3' } }, { bucketingIdentifier: 'device_id' });
    const direct = one(half, { distinctId: 'x', deviceId: 'dev-3' }, { bucketingIdentifier: 'device_id' });
    const all = one({ groups: [rollout(100)] }, { distinctId: 'x', personProperties: { $device_id: 'dev-3' } }, { bucketingIdentifier: 'device_id' });
    expect(all.enabled).toBe(true);
    expect([fromProp.enabled, fromProp.variant, fromProp.reason]).toEqual([direct.enabled, direct.variant, direct.reason]);
  });

  it('skips person conditions without a device id as out_of_rollout_bound', () => {
    const r = one({ groups: [rollout(100)] }, { distinctId: 'x' }, { bucketingIdentifier: 'device_id' });
    expect(r).toMatchObject({ enabled: false, reason: { code: 'out_of_rollout_bound', conditionIndex: 0 } });
    // group conditions of a mixed flag still work
    const mixed = { groups: [{ aggregation_group_type_index: 0, properties: [], rollout_percentage: 100 }] };
    expect(one(mixed, { groups: { company: 'acme' } }, { bucketingIdentifier: 'device_id' }).enabled).toBe(true);
  });

  it('experience continuity buckets on the stored override, else the anon id, else distinct_id', () => {
    const results = (request: Partial<EvaluationRequest>, ec = true) => {
      const r = one(half, request, { ensureExperienceContinuity: ec });
      return [r.enabled, r.variant];
    };
    for (const anon of ['anon-1', 'anon-2', 'anon-3', 'anon-4']) {
      expect(results({ distinctId: 'identified', anonDistinctId: anon })).toEqual(results({ distinctId: anon }, false));
      expect(results({ distinctId: 'identified', anonDistinctId: 'other', hashKeyOverrides: { f: anon } })).toEqual(results({ distinctId: anon }, false));
      // without continuity the anon id is ignored
      expect(results({ distinctId: anon, anonDistinctId: 'zzz' }, false)).toEqual(results({ distinctId: anon }, false));
    }
    expect(results({ distinctId: 'identified' })).toEqual(results({ distinctId: 'identified' }, false));
  });
});

describe('flag dependencies', () => {
  const dep = (id: number, value: unknown) => ({ key: String(id), type: 'flag', operator: 'flag_evaluates_to', value });

  it('evaluates dependencies first and compares their values', () => {
    const base = flag('base', { groups: [rollout(100)], multivariate: { variants: [{ key: 'v1', rollout_percentage: 100 }] } }, { id: 1 });
    const off = flag('off', { groups: [rollout(0)] }, { id: 2 });
    // dependents listed before their dependencies on purpose
    const flags = [
      flag('needs-true', { groups: [{ properties: [dep(1, true)] }] }, { id: 10 }),
      flag('needs-v1', { groups: [{ properties: [dep(1, 'v1')] }] }, { id: 11 }),
      flag('needs-V1', { groups: [{ properties: [dep(1, 'V1')] }] }, { id: 12 }),
      flag('needs-false', { groups: [{ properties: [dep(2, false)] }] }, { id: 13 }),
      flag('base-false', { groups: [{ properties: [dep(1, false)] }] }, { id: 14 }),
      flag('number', { groups: [{ properties: [dep(1, 1)] }] }, { id: 15 }),
      flag('chain', { groups: [{ properties: [dep(10, true), dep(13, true)] }] }, { id: 16 }),
      base,
      off,
    ];
    const r = run(flags);
    expect(r['needs-true'].enabled).toBe(true);
    expect(r['needs-v1'].enabled).toBe(true);
    expect(r['needs-V1'].enabled).toBe(false);
    expect(r['needs-false'].enabled).toBe(true);
    expect(r['base-false'].enabled).toBe(false);
    expect(r.number.enabled).toBe(false);
    expect(r.chain.enabled).toBe(true);
    // answer order follows the input, not the evaluation order
    expect(Object.keys(r)).toEqual(flags.map((f) => f.key));
  });

  it('fails closed with missing_dependency for missing, cyclic and transitively broken dependencies', () => {
    const r = run([
      flag('missing', { groups: [{ properties: [dep(999, true)] }] }, { id: 20 }),
      flag('downstream', { groups: [{ properties: [dep(20, false)] }] }, { id: 21 }),
      flag('cycle-a', { groups: [{ properties: [dep(23, true)] }] }, { id: 22 }),
      flag('cycle-b', { groups: [{ properties: [dep(22, true)] }] }, { id: 23 }),
      flag('self', { groups: [{ properties: [dep(24, true)] }] }, { id: 24 }),
      flag('deleted-dep', { groups: [{ properties: [dep(26, false)] }] }, { id: 25 }),
      flag('gone', { groups: [rollout(100)] }, { id: 26, deleted: true }),
    ]);
    for (const key of ['missing', 'downstream', 'cycle-a', 'cycle-b', 'self', 'deleted-dep']) {
      expect(r[key]).toMatchObject({
        enabled: false,
        variant: null,
        reason: { code: 'missing_dependency', conditionIndex: null, description: 'Flag cannot be evaluated due to missing dependency' },
      });
    }
    expect(r.gone).toBeUndefined();
  });

  it('counts inactive and filtered-out dependencies as false', () => {
    const r = run(
      [
        flag('inactive', { groups: [rollout(100)] }, { id: 30, active: false }),
        flag('client-only', { groups: [rollout(100)] }, { id: 31, evaluationRuntime: 'client' }),
        flag('on-inactive', { groups: [{ properties: [dep(30, false)] }] }, { id: 32 }),
        flag('on-client', { groups: [{ properties: [dep(31, false)] }] }, { id: 33 }),
        flag('on-inactive-true', { groups: [{ properties: [dep(30, true)] }] }, { id: 34 }),
      ],
      { runtime: 'server' },
    );
    expect(r.inactive).toBeUndefined();
    expect(r['client-only']).toBeUndefined();
    expect(r['on-inactive'].enabled).toBe(true);
    expect(r['on-client'].enabled).toBe(true);
    expect(r['on-inactive-true'].enabled).toBe(false);
  });

  it('an inactive flag does not propagate its own broken dependencies', () => {
    const r = run([
      flag('inactive-broken', { groups: [{ properties: [dep(999, true)] }] }, { id: 40, active: false }),
      flag('uses-it', { groups: [{ properties: [dep(40, false)] }] }, { id: 41 }),
    ]);
    expect(r['uses-it'].enabled).toBe(true);
  });

  it('a dependency whose evaluation failed matches no value', () => {
    const r = run([
      flag('broken-cohort', { groups: [{ properties: [{ key: 'id', type: 'cohort', value: 404 }] }] }, { id: 50 }),
      flag('wants-false', { groups: [{ properties: [dep(50, false)] }] }, { id: 51 }),
    ]);
    expect(r['broken-cohort'].failed).toBe(true);
    expect(r['wants-false'].enabled).toBe(false);
  });

  it('a group-aggregated dependency keeps bucketing on its group key', () => {
    const r = run(
      [
        flag('company-flag', { aggregation_group_type_index: 0, groups: [rollout(100)] }, { id: 60 }),
        flag('person-flag', { groups: [{ properties: [dep(60, true)] }] }, { id: 61 }),
      ],
      { groups: { company: 'acme' } },
    );
    expect(r['person-flag'].enabled).toBe(true);
    const without = run([
      flag('company-flag', { aggregation_group_type_index: 0, groups: [rollout(100)] }, { id: 60 }),
      flag('person-flag', { groups: [{ properties: [dep(60, true)] }] }, { id: 61 }),
    ]);
    expect(without['person-flag'].enabled).toBe(false);
  });
});

describe('purity', () => {
  it('does not mutate its inputs', () => {
    const deepFreeze = <T>(o: T): T => {
      if (o && typeof o === 'object') {
        Object.values(o).forEach(deepFreeze);
        Object.freeze(o);
      }
      return o;
    };
    const flags = deepFreeze([
      flag('a', { groups: [{ properties: [person('plan', 'pro'), { key: 'id', type: 'cohort', value: 1 }] }], payloads: { true: '1' } }),
    ]);
    const request = deepFreeze({ distinctId: 'u', personProperties: { plan: 'pro' }, groups: {}, flagKeys: ['a'] });
    const p = project(flags, deepFreeze([{ id: 1, name: 'c', filters: { properties: { type: 'AND', values: [] } }, isStatic: false, deleted: false }]));
    expect(() => evaluateFlags(p, request)).not.toThrow();
    expect(evaluateFlags(p, request)[0].enabled).toBe(true);
  });

  it('shares one frozen result per flag outcome between requests', () => {
    const p = project([
      flag('mv', {
        groups: [rollout(100)],
        multivariate: {
          variants: [
            { key: 'a', rollout_percentage: 50 },
            { key: 'b', rollout_percentage: 50 },
          ],
        },
        payloads: { a: '"pa"', b: '"pb"' },
      }),
      flag('plan', { groups: [{ properties: [person('plan', 'pro')], rollout_percentage: 100 }] }),
    ]);
    const answers = Array.from({ length: 40 }, (_, i) => evaluateFlags(p, { distinctId: `u${i}`, personProperties: { plan: i % 2 ? 'pro' : 'free' } }));
    const distinct = new Set(answers.flat());
    // mv: variant a or b; plan: on or off. Nothing else.
    expect(distinct.size).toBe(4);
    for (const r of distinct) expect(Object.isFrozen(r)).toBe(true);
    const byVariant = new Map([...distinct].filter((r) => r.key === 'mv').map((r) => [r.variant, r.payload]));
    expect(Object.fromEntries(byVariant)).toEqual({ a: '"pa"', b: '"pb"' });
  });
});

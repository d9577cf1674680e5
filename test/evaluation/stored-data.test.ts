// Which flags need stored data for a request (propertyReadsByFlag + readsStoredData), and flags a
// request marks as failed because that data could not be read (EvaluationRequest.failedFlags).
import { describe, expect, it } from 'vitest';
import {
  evaluateFlags,
  propertyReadsByFlag,
  readsStoredData,
  requestedClosure,
  requestedReadsStoredData,
  type EvaluationRequest,
} from '../../src/evaluation/index.js';
import { cohort, flag, person, project, rollout } from './fixtures.js';

const inCohort = (id: number) => ({ key: 'id', type: 'cohort', value: id });

const flags = [
  flag('plain', { groups: [rollout(100)] }),
  flag('by-email', { groups: [{ properties: [person('email', 'example.com', 'icontains')], rollout_percentage: 100 }] }),
  flag('dynamic', { groups: [{ properties: [inCohort(1)], rollout_percentage: 100 }] }),
  flag('static', { groups: [{ properties: [inCohort(2)], rollout_percentage: 100 }] }),
  flag('via-dynamic', { groups: [{ properties: [inCohort(3)], rollout_percentage: 100 }] }),
  flag('company', {
    aggregation_group_type_index: 0,
    groups: [{ properties: [{ key: 'size', value: 10, operator: 'gt', type: 'group', group_type_index: 0 }], rollout_percentage: 100 }],
  }),
  flag('off', { groups: [rollout(100)] }, { active: false }),
];
const cohorts = [
  cohort(1, { properties: { type: 'AND', values: [person('plan', 'pro')] } }),
  cohort(2, {}, { isStatic: true }),
  cohort(3, { properties: { type: 'OR', values: [inCohort(2)] } }),
];
const groupTypeNames = ['company'];

function needing(request: Partial<EvaluationRequest>): string[] {
  const reads = propertyReadsByFlag(flags, cohorts);
  const full = { distinctId: 'ada', personProperties: { distinct_id: 'ada' }, ...request };
  return [...reads].filter(([, r]) => readsStoredData(r, full, groupTypeNames)).map(([key]) => key);
}

describe('flags that need stored data', () => {
  it('a flag needs stored data when it reads a property the request lacks, or reaches a static cohort', () => {
    expect(needing({})).toEqual(['by-email', 'dynamic', 'static', 'via-dynamic']);
  });

  it('properties the request carries need no lookup; groups the request does not name are not evaluated', () => {
    expect(needing({ personProperties: { email: 'a@example.com', plan: 'pro' } })).toEqual(['static', 'via-dynamic']);
    expect(needing({ groups: { company: 'acme' } })).toContain('company');
    expect(needing({ groups: { company: 'acme' }, groupProperties: { company: { size: 50 } } })).not.toContain('company');
  });

  it('inactive flags are not listed', () => {
    expect([...propertyReadsByFlag(flags, cohorts).keys()]).not.toContain('off');
  });
});

describe('failed flags', () => {
  it('a flag the request marks failed is false and failed with the given reason; the others evaluate as usual', () => {
    const compiled = project(flags, cohorts, [{ groupType: 'company', groupTypeIndex: 0 }]);
    const error = { code: 'database_unavailable', description: 'database unavailable' };
    const results = evaluateFlags(compiled, {
      distinctId: 'ada',
      personProperties: { email: 'a@example.com' },
      failedFlags: new Map([['static', error]]),
    });
    const byKey = Object.fromEntries(results.map((r) => [r.key, r]));
    expect(byKey.static).toMatchObject({
      enabled: false,
      variant: null,
      failed: true,
      reason: { code: 'database_unavailable', conditionIndex: null, description: 'database unavailable' },
    });
    expect(byKey.static.payload).toBeUndefined();
    expect(byKey['by-email']).toMatchObject({ enabled: true, reason: { code: 'condition_match' } });
    expect(byKey['by-email'].failed).toBeUndefined();
    // Another code for the same flag gets its own reason.
    const timeout = { code: 'timeout:client_timeout', description: 'Timeout: client_timeout' };
    const again = evaluateFlags(compiled, { distinctId: 'ada', failedFlags: new Map([['static', timeout]]) });
    expect(again.find((r) => r.key === 'static')!.reason).toEqual({
      code: 'timeout:client_timeout',
      conditionIndex: null,
      description: 'Timeout: client_timeout',
    });
  });
});

describe('stored data for requested flags (requestedReadsStoredData)', () => {
  // Flags sharing what they read, so that equal reads share a check.
  const more = [
    ...flags,
    flag('by-email-2', { groups: [{ properties: [person('email', 'corp', 'icontains')], rollout_percentage: 100 }] }),
    flag('email-and-plan', { groups: [{ properties: [person('plan', 'pro'), person('email', 'x')], rollout_percentage: 100 }] }),
    flag('kept', { groups: [rollout(50)] }, { ensureExperienceContinuity: true }),
  ];
  const compiled = project(more, cohorts, [{ groupType: 'company', groupTypeIndex: 0 }]);
  const byFlag = propertyReadsByFlag(more, cohorts);
  const continuity = ['kept'];
  const perFlag = (asked: string[], request: EvaluationRequest) =>
    requestedClosure(compiled, asked).some((i) => {
      const key = compiled.flags[i].key;
      const reads = byFlag.get(key);
      return continuity.includes(key) || (reads !== undefined && readsStoredData(reads, request, groupTypeNames));
    });

  it('agrees with checking each requested flag on its own', () => {
    const keys = more.map((f) => f.key);
    const propertySets = [{}, { email: 'a@example.com' }, { plan: 'pro' }, { email: 'a', plan: 'free' }];
    let seed = 3;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    let needed = 0;
    for (let n = 0; n < 300; n++) {
      const asked = keys.filter(() => rnd() < 0.2);
      const request: EvaluationRequest = {
        distinctId: 'ada',
        personProperties: { distinct_id: 'ada', ...propertySets[n % propertySets.length] },
        groups: n % 2 ? { company: 'acme' } : {},
        groupProperties: n % 4 === 1 ? { company: { size: 3 } } : {},
      };
      const expected = perFlag(asked, request);
      if (expected) needed++;
      expect(requestedReadsStoredData(compiled, byFlag, continuity, requestedClosure(compiled, asked), request)).toBe(expected);
    }
    // Both answers occurred.
    expect(needed).toBeGreaterThan(30);
    expect(needed).toBeLessThan(280);
  });

  it('a flag with experience continuity always needs stored data; one that reads nothing never does', () => {
    const request: EvaluationRequest = { distinctId: 'ada', personProperties: { email: 'a', plan: 'pro' } };
    expect(requestedReadsStoredData(compiled, byFlag, continuity, requestedClosure(compiled, ['plain', 'by-email-2']), request)).toBe(false);
    expect(requestedReadsStoredData(compiled, byFlag, continuity, requestedClosure(compiled, ['plain', 'kept']), request)).toBe(true);
    // The same reads with another continuity list are indexed again.
    expect(requestedReadsStoredData(compiled, byFlag, [], requestedClosure(compiled, ['plain', 'kept']), request)).toBe(false);
  });
});

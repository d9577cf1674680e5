// Cohort membership inside flag conditions: nested groups, negation, cohort-in-cohort, static and behavioral cohorts.
import { describe, expect, it } from 'vitest';
import { evaluateFlags, type CohortDefinition, type EvaluationRequest } from '../../src/evaluation/index.js';
import { cohort, flag, person, project } from './fixtures.js';

function inCohort(id: number, operator?: string) {
  return { key: 'id', type: 'cohort', value: id, ...(operator ? { operator } : {}) };
}

function evaluate(
  cohorts: CohortDefinition[],
  props: Record<string, unknown>,
  filter: Record<string, unknown> = inCohort(1),
  extra: Partial<EvaluationRequest> = {},
) {
  const p = project([flag('cohort-flag', { groups: [{ properties: [filter], rollout_percentage: 100 }] })], cohorts);
  return evaluateFlags(p, { distinctId: 'user', personProperties: props, ...extra })[0];
}

const isMember = (cohorts: CohortDefinition[], props: Record<string, unknown>, extra: Partial<EvaluationRequest> = {}) =>
  evaluate(cohorts, props, inCohort(1), extra).enabled;

const stored = (type: 'AND' | 'OR', values: unknown[]) => ({ properties: { type, values } });

describe('dynamic cohorts', () => {
  const nested = cohort(
    1,
    stored('OR', [
      { type: 'AND', values: [person('email', '@posthog.com', 'icontains'), person('plan', 'pro')] },
      { type: 'AND', values: [person('age', 30, 'gt')] },
    ]),
  );

  it('evaluates the stored two-level AND/OR tree against person properties', () => {
    expect(isMember([nested], { email: 'a@posthog.com', plan: 'pro' })).toBe(true);
    expect(isMember([nested], { email: 'a@posthog.com', plan: 'free' })).toBe(false);
    expect(isMember([nested], { age: 31 })).toBe(true);
    expect(isMember([nested], { age: 30 })).toBe(false);
  });

  it('accepts the definitions-payload form {type, values} and deeper nesting', () => {
    const bare = cohort(1, {
      type: 'AND',
      values: [{ type: 'OR', values: [person('a', 1), { type: 'AND', values: [person('b', 2), person('c', 3)] }] }, person('d', 4)],
    });
    expect(isMember([bare], { a: 1, d: 4 })).toBe(true);
    expect(isMember([bare], { b: 2, c: 3, d: 4 })).toBe(true);
    expect(isMember([bare], { b: 2, d: 4 })).toBe(false);
    expect(isMember([bare], { a: 1 })).toBe(false);
  });

  it('applies a property filter negation', () => {
    const c = cohort(
      1,
      stored('OR', [
        {
          type: 'AND',
          values: [person('email', '^.*@example.com$', 'regex'), person('email', 'excluded.user', 'icontains', { negation: true })],
        },
      ]),
    );
    expect(isMember([c], { email: 'test.user@example.com' })).toBe(true);
    expect(isMember([c], { email: 'excluded.user@example.com' })).toBe(false);
    expect(isMember([c], { email: 'test.user@other.com' })).toBe(false);
  });

  it('treats a missing property as a plain non-match (no inconclusive fallback)', () => {
    const c = cohort(1, stored('AND', [{ type: 'AND', values: [person('plan', 'pro', 'is_not')] }]));
    expect(isMember([c], {})).toBe(true); // is_not on a missing key is true
    const d = cohort(1, stored('AND', [{ type: 'AND', values: [person('plan', 'pro')] }]));
    expect(isMember([d], {})).toBe(false);
  });

  it('empty groups: AND is true, OR is false; a cohort without a group never matches', () => {
    expect(isMember([cohort(1, stored('AND', []))], {})).toBe(true);
    expect(isMember([cohort(1, stored('OR', []))], {})).toBe(false);
    expect(isMember([cohort(1, stored('AND', [{ type: 'OR', values: [] }]))], {})).toBe(false);
    expect(isMember([cohort(1, {})], {})).toBe(false);
    expect(isMember([cohort(1, { properties: {} })], {})).toBe(false);
  });

  it('reads person properties even in a group-aggregated condition', () => {
    const c = cohort(1, stored('AND', [{ type: 'AND', values: [person('plan', 'pro')] }]));
    const p = project(
      [flag('g', { aggregation_group_type_index: 0, groups: [{ properties: [inCohort(1)], rollout_percentage: 100 }] })],
      [c],
      [{ groupType: 'company', groupTypeIndex: 0 }],
    );
    const request = { distinctId: 'u', groups: { company: 'acme' }, groupProperties: { company: { plan: 'free' } } };
    expect(evaluateFlags(p, { ...request, personProperties: { plan: 'pro' } })[0].enabled).toBe(true);
    expect(evaluateFlags(p, { ...request, personProperties: { plan: 'free' } })[0].enabled).toBe(false);
  });
});

describe('cohort-in-cohort references', () => {
  const inner = cohort(2, stored('AND', [{ type: 'AND', values: [person('plan', 'pro')] }]));

  it('evaluates referenced cohorts recursively', () => {
    const outer = cohort(1, stored('AND', [{ type: 'AND', values: [inCohort(2), person('country', 'us')] }]));
    expect(isMember([outer, inner], { plan: 'pro', country: 'US' })).toBe(true);
    expect(isMember([outer, inner], { plan: 'free', country: 'US' })).toBe(false);
    const three = cohort(3, stored('OR', [{ type: 'OR', values: [inCohort(1)] }]));
    expect(evaluate([three, outer, inner], { plan: 'pro', country: 'us' }, inCohort(3)).enabled).toBe(true);
  });

  it('supports not_in references', () => {
    const outer = cohort(1, stored('AND', [{ type: 'AND', values: [inCohort(2, 'not_in')] }]));
    expect(isMember([outer, inner], { plan: 'free' })).toBe(true);
    expect(isMember([outer, inner], { plan: 'pro' })).toBe(false);
  });

  it('honours a reference negation inside an AND group but ignores it inside an OR group (server detail)', () => {
    const negatedInAnd = cohort(1, stored('AND', [{ type: 'AND', values: [{ ...inCohort(2), negation: true }] }]));
    expect(isMember([negatedInAnd, inner], { plan: 'pro' })).toBe(false);
    expect(isMember([negatedInAnd, inner], { plan: 'free' })).toBe(true);

    const negatedInOr = cohort(1, stored('AND', [{ type: 'OR', values: [{ ...inCohort(2), negation: true }] }]));
    expect(isMember([negatedInOr, inner], { plan: 'pro' })).toBe(true);
    expect(isMember([negatedInOr, inner], { plan: 'free' })).toBe(false);
  });

  it('makes every cohort on a reference cycle a non-member', () => {
    const a = cohort(1, stored('OR', [{ type: 'OR', values: [inCohort(2), person('plan', 'pro')] }]));
    const b = cohort(2, stored('OR', [{ type: 'OR', values: [inCohort(1)] }]));
    expect(isMember([a, b], { plan: 'pro' })).toBe(false);
    expect(evaluate([a, b], { plan: 'pro' }, inCohort(1, 'not_in')).enabled).toBe(true);
    const self = cohort(1, stored('OR', [{ type: 'OR', values: [inCohort(1), person('plan', 'pro')] }]));
    expect(isMember([self], { plan: 'pro' })).toBe(false);
    // a cohort that only reaches the cycle is affected too
    const upstream = cohort(3, stored('OR', [{ type: 'OR', values: [inCohort(1), person('plan', 'pro')] }]));
    expect(evaluate([a, b, upstream], { plan: 'pro' }, inCohort(3)).enabled).toBe(false);
  });
});

describe('static and behavioral cohorts', () => {
  const staticCohort = cohort(5, {}, { isStatic: true });

  it('takes static membership from the request', () => {
    expect(evaluate([staticCohort], {}, inCohort(5), { staticCohortIds: new Set([5]) }).enabled).toBe(true);
    expect(evaluate([staticCohort], {}, inCohort(5), { staticCohortIds: new Set([6]) }).enabled).toBe(false);
    expect(evaluate([staticCohort], {}, inCohort(5)).enabled).toBe(false);
    expect(evaluate([staticCohort], {}, inCohort(5, 'not_in')).enabled).toBe(true);
  });

  it('uses static membership for a static cohort referenced by a dynamic one', () => {
    const dynamic = cohort(1, stored('AND', [{ type: 'AND', values: [inCohort(5), person('plan', 'pro')] }]));
    expect(isMember([dynamic, staticCohort], { plan: 'pro' }, { staticCohortIds: new Set([5]) })).toBe(true);
    expect(isMember([dynamic, staticCohort], { plan: 'pro' })).toBe(false);
  });

  it('treats cohorts with behavioral filters as non-members', () => {
    const behavioral = cohort(
      1,
      stored('OR', [
        {
          type: 'OR',
          values: [{ key: '$pageview', type: 'behavioral', value: 'performed_event', event_type: 'events', time_value: 30, time_interval: 'day' }],
        },
        { type: 'OR', values: [person('plan', 'pro')] },
      ]),
    );
    expect(isMember([behavioral], { plan: 'pro' })).toBe(false);
    expect(evaluate([behavioral], { plan: 'pro' }, inCohort(1, 'not_in')).enabled).toBe(true);
  });
});

describe('missing cohorts and flag-level cohort filters', () => {
  it('fails the flag when it references a deleted or unknown cohort', () => {
    const deleted = cohort(1, stored('AND', []), { deleted: true });
    expect(evaluate([deleted], {})).toMatchObject({
      enabled: false,
      failed: true,
      reason: { code: 'dependency_not_found_cohort', conditionIndex: null, description: 'Cohort dependency not found' },
    });
    expect(evaluate([], {}, inCohort(99)).failed).toBe(true);
    const reachesMissing = cohort(1, stored('AND', [{ type: 'AND', values: [inCohort(42)] }]));
    expect(evaluate([reachesMissing], {}).failed).toBe(true);
  });

  it('evaluates cohort filters after the other filters of the condition', () => {
    const p = project([flag('f', { groups: [{ properties: [inCohort(99), person('plan', 'pro')], rollout_percentage: 100 }] })]);
    // the property filter fails first, so the missing cohort is never looked at
    expect(evaluateFlags(p, { distinctId: 'u', personProperties: { plan: 'free' } })[0]).toMatchObject({
      enabled: false,
      reason: { code: 'no_condition_match' },
    });
    expect(evaluateFlags(p, { distinctId: 'u', personProperties: { plan: 'pro' } })[0].failed).toBe(true);
  });

  it('supports not_in at flag level and ignores other operators', () => {
    const c = cohort(1, stored('AND', [{ type: 'AND', values: [person('plan', 'pro')] }]));
    expect(evaluate([c], { plan: 'free' }, inCohort(1, 'not_in')).enabled).toBe(true);
    expect(evaluate([c], { plan: 'pro' }, inCohort(1, 'not_in')).enabled).toBe(false);
    expect(evaluate([c], { plan: 'pro' }, inCohort(1, 'exact')).enabled).toBe(false);
    expect(evaluate([c], { plan: 'pro' }, { key: 'id', type: 'cohort', value: '1' }).enabled).toBe(true);
  });
});

// validateFlagWrite / checkStateTransition against a real database: PostHog's messages, codes and
// attrs for every validation rule of docs/compatibility.md#api-3 (acceptance cases #case-1 to #case-34
// and #case-80 at the service level; the titles' "case N" are those of docs/compatibility.md#api-11).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { cohorts, dashboards, featureFlags, projects } from '../../src/platform/db/schema.ts';
import { checkStateTransition, validateFlagWrite, type ValidatedFlagWrite, type WriteMode } from '../../src/flags/validation.ts';
import { MAX_PROPERTY_VALUES } from '../../src/flags/validation-filters.ts';
import { isValidFlagDate, pyJsonDumps, pyRepr } from '../../src/flags/validation-values.ts';
import { regexCost, regexWithinBudget } from '../../src/evaluation/regex-cost.ts';
import type { FeatureFlagRow } from '../../src/flags/repository.ts';
import type { Project } from '../../src/access/organizations/projects-repository.ts';
import { ApiError } from '../../src/platform/errors.ts';

let t: TestApp;
let project: Project;
let otherProject: Project;

beforeAll(async () => {
  t = await createTestApp();
  project = t.boot.project;
  [otherProject] = await t.ctx.db
    .insert(projects)
    .values({ organizationId: t.boot.organization.id, name: 'Other', apiToken: 'phc_other_validation', secretApiToken: 'phs_other_validation' })
    .returning();
});
afterAll(async () => {
  await t?.close();
});

const ve = (code: string, detail: string, attr: string | null) => ({ type: 'validation_error', code, detail, attr });

async function validate(body: unknown, mode: WriteMode = 'create', existing?: FeatureFlagRow, p: Project = project): Promise<ValidatedFlagWrite> {
  return validateFlagWrite(t.ctx.db, { mode, project: p, body, existing });
}

/** The error envelope validation answers (fails the test when the body is accepted). */
async function rejection(body: unknown, mode: WriteMode = 'create', existing?: FeatureFlagRow, p: Project = project): Promise<unknown> {
  try {
    await validate(body, mode, existing, p);
  } catch (err) {
    if (err instanceof ApiError) {
      expect(err.statusCode).toBe(400);
      return err.body;
    }
    throw err;
  }
  throw new Error(`accepted: ${JSON.stringify(body).slice(0, 200)}`);
}

let seq = 0;
const uniqueKey = (prefix: string) => `${prefix}-${++seq}`;

async function seedFlag(key: string, extra: Partial<typeof featureFlags.$inferInsert> = {}): Promise<FeatureFlagRow> {
  const [row] = await t.ctx.db
    .insert(featureFlags)
    .values({ projectId: project.id, key, ...extra })
    .returning();
  return row;
}

async function seedCohort(name: string, filters: Record<string, unknown>, extra: Partial<typeof cohorts.$inferInsert> = {}) {
  const [row] = await t.ctx.db
    .insert(cohorts)
    .values({ projectId: project.id, name, filters, ...extra })
    .returning();
  return row;
}

const groups = (...properties: unknown[]) => ({ groups: [{ properties, rollout_percentage: 50 }] });
const person = (extra: Record<string, unknown>) => ({ key: 'email', type: 'person', operator: 'exact', value: 'a@b.c', ...extra });
const dependsOn = (id: number | string, value: unknown = true) => ({ key: String(id), type: 'flag', operator: 'flag_evaluates_to', value });
const behavioral = { key: '$pageview', event_type: 'events', time_value: 2, time_interval: 'week', value: 'performed_event', type: 'behavioral' };
const cohortFilters = (...values: unknown[]) => ({ properties: { type: 'OR', values: [{ type: 'AND', values }] } });

describe('request body', () => {
  it('must be a dictionary; an empty body is {}', async () => {
    expect(await rejection(['a'])).toEqual(ve('invalid_input', 'Invalid data. Expected a dictionary, but got list.', null));
    expect(await rejection('text')).toEqual(ve('invalid_input', 'Invalid data. Expected a dictionary, but got str.', null));
    expect(await rejection(5)).toEqual(ve('invalid_input', 'Invalid data. Expected a dictionary, but got int.', null));
    // docs/compatibility.md#case-5 (null too: Fastify passes an empty body to the route as null)
    expect(await rejection(null)).toEqual(ve('required', 'This field is required.', 'key'));
    expect(await rejection(undefined)).toEqual(ve('required', 'This field is required.', 'key'));
    expect(await rejection({})).toEqual(ve('required', 'This field is required.', 'key'));
  });

  it('ignores unknown fields; PATCH needs nothing; PUT needs a key', async () => {
    const existing = await seedFlag(uniqueKey('body'));
    const ok = await validate({ key: uniqueKey('ok'), whatever: 1, id: 99, created_by: 5 });
    expect(Object.keys(ok.values)).toEqual(['key']);
    expect(ok.shouldCreateUsageDashboard).toBe(true);
    expect((await validate({}, 'partial_update', existing)).values).toEqual({});
    expect(await rejection({ name: 'x' }, 'update', existing)).toEqual(ve('required', 'This field is required.', 'key'));
    expect((await validate({ key: existing.key, name: 'x' }, 'update', existing)).values).toEqual({ key: existing.key, name: 'x' });
  });

  it('reports the first field in serializer order, object-level errors after every field', async () => {
    expect(await rejection({ name: null, key: 'bad key' })).toEqual(ve('null', 'This field may not be null.', 'name'));
    expect(await rejection({ key: 'bad key', filters: [] })).toEqual(
      ve('invalid_key', 'Only letters, numbers, hyphens (-) & underscores (_) are allowed.', 'key'),
    );
    expect(await rejection({ key: uniqueKey('o'), filters: 5, active: 'maybe' })).toEqual(
      ve('not_a_dict', 'Expected a dictionary of items but got type "int".', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('o'), evaluation_runtime: 'x', active: 'maybe' })).toEqual(
      ve('invalid_input', 'Must be a valid boolean.', 'active'),
    );
    expect(await rejection({ key: uniqueKey('o'), tags: ['a'], evaluation_tags: ['b'], bucketing_identifier: 'x' })).toEqual(
      ve('invalid_choice', '"x" is not a valid choice.', 'bucketing_identifier'),
    );
  });
});

describe('key (API 3.1)', () => {
  it('case 2: unique among live flags of the project, excluding the flag itself', async () => {
    const red = await seedFlag(uniqueKey('red_button'));
    expect(await rejection({ name: 'Beta feature', key: red.key })).toEqual(ve('unique', 'There is already a feature flag with this key.', 'key'));
    const other = await seedFlag(uniqueKey('other'));
    expect(await rejection({ key: red.key }, 'partial_update', other)).toEqual(ve('unique', 'There is already a feature flag with this key.', 'key'));
    expect((await validate({ key: red.key }, 'partial_update', red)).values.key).toBe(red.key);
    // docs/compatibility.md#case-10: soft-deleted flags do not hold their key; other projects are
    // separate
    const gone = await seedFlag(uniqueKey('gone'), { deleted: true });
    expect((await validate({ key: gone.key })).values.key).toBe(gone.key);
    expect((await validate({ key: red.key }, 'create', undefined, otherProject)).values.key).toBe(red.key);
  });

  it('case 3: only letters, numbers, hyphens and underscores', async () => {
    for (const key of ['foo?bar=baz', 'foo/bar', 'foo\\bar', 'foo.bar', 'foo bar', 'ключ']) {
      expect(await rejection({ key })).toEqual(ve('invalid_key', 'Only letters, numbers, hyphens (-) & underscores (_) are allowed.', 'key'));
    }
  });

  it('case 4: at most 400 characters', async () => {
    expect(await rejection({ key: 'a'.repeat(401) })).toEqual(ve('max_length', 'Ensure this field has no more than 400 characters.', 'key'));
    expect((await validate({ key: 'b'.repeat(400) })).values.key).toHaveLength(400);
  });

  it('null, blank, wrong type, NUL; numbers are stringified and whitespace trimmed like DRF', async () => {
    expect(await rejection({ key: null })).toEqual(ve('null', 'This field may not be null.', 'key'));
    expect(await rejection({ key: '' })).toEqual(ve('blank', 'This field may not be blank.', 'key'));
    expect(await rejection({ key: '   ' })).toEqual(ve('blank', 'This field may not be blank.', 'key'));
    expect(await rejection({ key: ['a'] })).toEqual(ve('invalid_input', 'Not a valid string.', 'key'));
    expect(await rejection({ key: true })).toEqual(ve('invalid_input', 'Not a valid string.', 'key'));
    expect(await rejection({ key: 'a\u0000b' })).toEqual(ve('null_characters_not_allowed', 'Null characters are not allowed.', 'key'));
    expect(await rejection({ key: 'a\ud800' })).toEqual(ve('surrogate_characters_not_allowed', 'Surrogate characters are not allowed: U+D800.', 'key'));
    expect((await validate({ key: 987654 })).values.key).toBe('987654');
    expect((await validate({ key: '  padded-key  ' })).values.key).toBe('padded-key');
  });
});

describe('other fields (API 3.3)', () => {
  it('name: any string, blank allowed, trimmed; not null', async () => {
    expect((await validate({ key: uniqueKey('n'), name: '' })).values.name).toBe('');
    expect((await validate({ key: uniqueKey('n'), name: '  Described  ' })).values.name).toBe('Described');
    expect(await rejection({ key: uniqueKey('n'), name: { a: 1 } })).toEqual(ve('invalid_input', 'Not a valid string.', 'name'));
    expect(await rejection({ key: uniqueKey('n'), name: 'x\u0000' })).toEqual(ve('null_characters_not_allowed', 'Null characters are not allowed.', 'name'));
  });

  it('DRF booleans; nullable ones accept null', async () => {
    const ok = await validate({
      key: uniqueKey('b'),
      active: 'False',
      deleted: 0,
      ensure_experience_continuity: null,
      has_enriched_analytics: 'yes',
      is_remote_configuration: 'on',
      has_encrypted_payloads: '0',
      performed_rollback: true,
    });
    expect(ok.values).toMatchObject({
      active: false,
      deleted: false,
      ensureExperienceContinuity: null,
      hasEnrichedAnalytics: true,
      isRemoteConfiguration: true,
      hasEncryptedPayloads: false,
      performedRollback: true,
    });
    expect(await rejection({ key: uniqueKey('b'), active: null })).toEqual(ve('null', 'This field may not be null.', 'active'));
    expect(await rejection({ key: uniqueKey('b'), deleted: 2 })).toEqual(ve('invalid_input', 'Must be a valid boolean.', 'deleted'));
    expect(await rejection({ key: uniqueKey('b'), _should_create_usage_dashboard: 'perhaps' })).toEqual(
      ve('invalid_input', 'Must be a valid boolean.', '_should_create_usage_dashboard'),
    );
    expect((await validate({ key: uniqueKey('b'), _should_create_usage_dashboard: false })).shouldCreateUsageDashboard).toBe(false);
  });

  it('active: true clears performed_rollback', async () => {
    const out = await validate({ key: uniqueKey('r'), active: true, performed_rollback: true });
    expect(out.values.performedRollback).toBe(false);
    expect(out.validated.performed_rollback).toBe(false);
  });

  it('version: a DRF integer', async () => {
    expect((await validate({ key: uniqueKey('v'), version: '3' })).version).toBe(3);
    expect((await validate({ key: uniqueKey('v'), version: 4 })).version).toBe(4);
    expect((await validate({ key: uniqueKey('v') })).version).toBeUndefined();
    for (const version of ['abc', 1.5, true, [1]]) {
      expect(await rejection({ key: uniqueKey('v'), version })).toEqual(ve('invalid_input', 'A valid integer is required.', 'version'));
    }
    expect(await rejection({ key: uniqueKey('v'), version: null })).toEqual(ve('null', 'This field may not be null.', 'version'));
  });

  it('case 8: evaluation_runtime, bucketing_identifier and creation_context are choices', async () => {
    for (const runtime of ['server', 'client', 'all']) {
      expect((await validate({ key: uniqueKey('e'), evaluation_runtime: runtime })).values.evaluationRuntime).toBe(runtime);
    }
    expect((await validate({ key: uniqueKey('e'), evaluation_runtime: null })).values.evaluationRuntime).toBe('all');
    expect(await rejection({ key: uniqueKey('e'), evaluation_runtime: 'both' })).toEqual(
      ve('invalid_choice', '"both" is not a valid choice.', 'evaluation_runtime'),
    );
    expect((await validate({ key: uniqueKey('e'), bucketing_identifier: 'device_id' })).values.bucketingIdentifier).toBe('device_id');
    expect(await rejection({ key: uniqueKey('e'), bucketing_identifier: 'email' })).toEqual(
      ve('invalid_choice', '"email" is not a valid choice.', 'bucketing_identifier'),
    );
    const created = await validate({ key: uniqueKey('e'), creation_context: 'surveys' });
    expect(created.creationContext).toBe('surveys');
    expect(created.values.creationContext).toBe('surveys');
    expect(await rejection({ key: uniqueKey('e'), creation_context: ['x'] })).toEqual(
      ve('invalid_choice', `"['x']" is not a valid choice.`, 'creation_context'),
    );
  });

  it('rollback_conditions: any JSON, stored verbatim, but storable', async () => {
    const conditions = [{ threshold: 50, threshold_metric: {}, operator: 'lt', threshold_type: 'insight' }];
    expect((await validate({ key: uniqueKey('rb'), rollback_conditions: conditions })).values.rollbackConditions).toEqual(conditions);
    expect(await rejection({ key: uniqueKey('rb'), rollback_conditions: { a: 'x\u0000' } })).toEqual(
      ve('null_characters_not_allowed', 'Null characters are not allowed.', 'rollback_conditions'),
    );
  });

  it('tags: a list of strings, trimmed, lower-cased, de-duplicated', async () => {
    expect((await validate({ key: uniqueKey('t'), tags: [' App ', 'app', 'DOCS'] })).values.tags).toEqual(['app', 'docs']);
    expect(await rejection({ key: uniqueKey('t'), tags: 'app' })).toEqual(ve('not_a_list', 'Expected a list of items but got type "str".', 'tags'));
    expect(await rejection({ key: uniqueKey('t'), tags: [5] })).toEqual(ve('invalid_input', 'Not a valid string.', 'tags'));
    expect(await rejection({ key: uniqueKey('t'), tags: ['x'.repeat(256)] })).toEqual(
      ve('max_length', 'Ensure this field has no more than 255 characters.', 'tags'),
    );
  });

  it('case 7: analytics_dashboards of the same project only', async () => {
    const [own] = await t.ctx.db.insert(dashboards).values({ projectId: project.id, name: 'mine' }).returning();
    const [foreign] = await t.ctx.db.insert(dashboards).values({ projectId: otherProject.id, name: 'theirs' }).returning();
    expect((await validate({ key: uniqueKey('d'), analytics_dashboards: [own.id] })).analyticsDashboards).toEqual([own.id]);
    expect(await rejection({ key: uniqueKey('d'), analytics_dashboards: [own.id, foreign.id] })).toEqual(
      ve('does_not_exist', `Invalid pk "${foreign.id}" - object does not exist.`, 'analytics_dashboards'),
    );
    const existing = await seedFlag(uniqueKey('d'));
    expect(await rejection({ analytics_dashboards: [foreign.id] }, 'partial_update', existing)).toEqual(
      ve('does_not_exist', `Invalid pk "${foreign.id}" - object does not exist.`, 'analytics_dashboards'),
    );
    expect(await rejection({ key: uniqueKey('d'), analytics_dashboards: ['abc'] })).toEqual(
      ve('incorrect_type', 'Incorrect type. Expected pk value, received str.', 'analytics_dashboards'),
    );
    expect(await rejection({ key: uniqueKey('d'), analytics_dashboards: 5 })).toEqual(
      ve('not_a_list', 'Expected a list of items but got type "int".', 'analytics_dashboards'),
    );
  });
});

describe('filters (API 3.2)', () => {
  it('case 1: list values are limited', async () => {
    const emails = Array.from({ length: MAX_PROPERTY_VALUES + 1 }, (_, i) => `user${i}@example.com`);
    expect(await rejection({ name: 'Beta feature', key: 'beta-x', filters: groups(person({ value: emails })) })).toEqual(
      ve('invalid_input', `Property group expressions of type email cannot contain more than ${MAX_PROPERTY_VALUES} values.`, 'filters'),
    );
    expect((await validate({ key: uniqueKey('l'), filters: groups(person({ value: emails.slice(1) })) })).values.filters).toBeDefined();
  });

  it('not a dictionary, or null', async () => {
    expect(await rejection({ key: uniqueKey('f'), filters: 'x' })).toEqual(ve('not_a_dict', 'Expected a dictionary of items but got type "str".', 'filters'));
    expect(await rejection({ key: uniqueKey('f'), filters: null })).toEqual(ve('null', 'This field may not be null.', 'filters'));
  });

  it('case 24: create needs a group; updates may send none; PATCH without groups keeps the filters', async () => {
    const none = ve('invalid_input', 'Feature flags must have at least one condition set (group).', 'filters');
    expect(await rejection({ key: uniqueKey('g'), filters: { groups: [] } })).toEqual(none);
    expect(await rejection({ key: uniqueKey('g'), filters: {} })).toEqual(none);
    expect(await rejection({ key: uniqueKey('g'), filters: { groups: null } })).toEqual(none);
    const ok = await validate({ key: uniqueKey('g'), filters: { groups: [{ properties: [], rollout_percentage: 50 }] } });
    expect(ok.values.filters).toEqual({ groups: [{ properties: [], rollout_percentage: 50 }] });
    const existing = await seedFlag(uniqueKey('g'), { filters: { groups: [{ rollout_percentage: 20 }] } });
    expect((await validate({ filters: { groups: [] } }, 'partial_update', existing)).values.filters).toEqual({ groups: [] });
    expect((await validate({ key: existing.key, filters: { groups: [] } }, 'update', existing)).values.filters).toEqual({ groups: [] });
    const ignored = await validate({ filters: { payloads: 'nonsense', multivariate: 7 } }, 'partial_update', existing);
    expect('filters' in ignored.values).toBe(false);
    expect('filters' in ignored.validated).toBe(false);
    // where PostHog would answer 500
    expect(await rejection({ key: existing.key, filters: { multivariate: null } }, 'update', existing)).toEqual(
      ve('invalid_input', 'Filters are not valid (groups must be a list)', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('g'), filters: { groups: 'abc' } })).toEqual(
      ve('invalid_input', 'Filters are not valid (groups must be a list)', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('g'), filters: { groups: [5] } })).toEqual(
      ve('invalid_input', 'Filters are not valid (each condition set must be an object)', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('g'), filters: { groups: [{ properties: 'x' }] } })).toEqual(
      ve('invalid_input', 'Filters are not valid (properties must be a list)', 'filters'),
    );
  });

  it('rollout_percentage is not range-checked but must be a number or null', async () => {
    for (const rollout of [0, 100, 150, -5, 33.3, null]) {
      expect((await validate({ key: uniqueKey('rp'), filters: { groups: [{ properties: [], rollout_percentage: rollout }] } })).values.filters).toBeDefined();
    }
    expect(await rejection({ key: uniqueKey('rp'), filters: { groups: [{ rollout_percentage: '50' }] } })).toEqual(
      ve('invalid_input', 'Filters are not valid (rollout_percentage must be a number or null)', 'filters'),
    );
  });

  it('person flags: person, cohort and flag properties only; flag properties use flag_evaluates_to', async () => {
    expect(await rejection({ key: uniqueKey('p'), filters: groups(person({}), { key: '$browser', type: 'event', value: 'x' }) })).toEqual(
      ve('invalid_input', 'Filters are not valid (can only use person, cohort, and flag properties)', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('p'), filters: groups({ key: '$browser', value: 'x' }) })).toEqual(
      ve('invalid_input', 'Filters are not valid (can only use person, cohort, and flag properties)', 'filters'),
    );
    const dep = await seedFlag(uniqueKey('dep'));
    expect(await rejection({ key: uniqueKey('p'), filters: groups({ key: String(dep.id), type: 'flag', operator: 'exact', value: true }) })).toEqual(
      ve('invalid_input', "Flag properties must use the 'flag_evaluates_to' operator", 'filters'),
    );
  });

  it('malformed properties answer 400 where PostHog would fail with 500', async () => {
    expect(await rejection({ key: uniqueKey('m'), filters: groups({ key: 'email', type: 'person', operator: 'exact' }) })).toEqual(
      ve('invalid_input', 'Value must be set for property type person & operator exact', 'filters'),
    );
    expect((await validate({ key: uniqueKey('m'), filters: groups({ key: 'email', type: 'person', operator: 'is_set' }) })).values.filters).toBeDefined();
    expect(await rejection({ key: uniqueKey('m'), filters: groups({ key: 'email', type: 'persona', value: 'x' }) })).toEqual(
      ve('invalid_input', 'Invalid property type: persona', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('m'), filters: groups({ type: 'person', value: 'x' }) })).toEqual(
      ve('invalid_input', 'Missing required attr key for property type person with key None', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('m'), filters: groups('email') })).toEqual(
      ve('invalid_input', 'Filters are not valid (each property must be an object)', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('m'), filters: groups(person({ operator: 'matches' })) })).toEqual(
      ve('invalid_choice', '"matches" is not a valid choice.', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('m'), filters: groups(person({ value: 'a\u0000' })) })).toEqual(
      ve('null_characters_not_allowed', 'Null characters are not allowed.', 'filters'),
    );
    let deep: unknown = 'x';
    for (let i = 0; i < 80; i++) deep = [deep];
    expect(await rejection({ key: uniqueKey('m'), filters: groups(person({ value: deep })) })).toEqual(
      ve('invalid_input', 'Filters are not valid (nested deeper than 64 levels)', 'filters'),
    );
  });

  it('case 12: string operators need a string value (message shows the Python repr)', async () => {
    for (const operator of ['icontains', 'regex', 'not_icontains', 'not_regex', 'lt', 'gt', 'lte', 'gte']) {
      expect(await rejection({ key: uniqueKey('s'), filters: groups(person({ operator, value: ['@posthog.com'] })) })).toEqual(
        ve('invalid_value', `Invalid value for operator ${operator}: ['@posthog.com']`, 'filters'),
      );
    }
    expect(await rejection({ key: uniqueKey('s'), filters: groups(person({ operator: 'gt', value: 5 })) })).toEqual(
      ve('invalid_value', 'Invalid value for operator gt: 5', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('s'), filters: groups(person({ operator: 'icontains', value: { "it's": true } })) })).toEqual(
      ve('invalid_value', `Invalid value for operator icontains: {"it's": True}`, 'filters'),
    );
  });

  it('case 13: a JSON-looking string is a string', async () => {
    const out = await validate({ key: uniqueKey('s'), filters: groups(person({ operator: 'not_regex', value: '["@posthog.com"]' })) });
    expect(out.values.filters).toBeDefined();
  });

  it('case 14/15: in and not_in only for cohorts', async () => {
    for (const operator of ['in', 'not_in']) {
      expect(await rejection({ key: uniqueKey('i'), filters: groups(person({ operator, value: ['a'] })) })).toEqual(
        ve('invalid_operator', `The '${operator}' operator is only valid for cohort properties, not 'person' properties.`, 'filters'),
      );
      const cohort = await seedCohort(uniqueKey('people'), cohortFilters({ key: 'email', type: 'person', value: 'x', operator: 'icontains' }));
      const ok = await validate({ key: uniqueKey('i'), filters: groups({ key: 'id', type: 'cohort', value: cohort.id, operator }) });
      expect(ok.values.filters).toBeDefined();
    }
  });

  it('case 20: date operators need a date or relative date', async () => {
    expect(await rejection({ key: uniqueKey('dt'), filters: groups(person({ key: 'joined', operator: 'is_date_before', value: '6hed' })) })).toEqual(
      ve('invalid_date', 'Invalid date value: 6hed', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('dt'), filters: groups(person({ key: 'joined', operator: 'is_date_after', value: '1234-02-993284' })) })).toEqual(
      ve('invalid_date', 'Invalid date value: 1234-02-993284', 'filters'),
    );
    for (const value of [
      '-30d',
      '6h',
      '2w',
      '-1m',
      '1y',
      '2024-01-31',
      '2024-02-29T10:00:00Z',
      '2024-01-01 12:30:00.123+02:00',
      '2024/01/31',
      'January 5, 2024',
    ]) {
      expect(
        (await validate({ key: uniqueKey('dt'), filters: groups(person({ key: 'joined', operator: 'is_date_before', value })) })).values.filters,
      ).toBeDefined();
    }
  });

  it('case 21: cohorts must exist in the project (deleted ones still exist)', async () => {
    expect(await rejection({ key: uniqueKey('c'), filters: groups({ key: 'id', type: 'cohort', value: 5151 }) })).toEqual(
      ve('cohort_does_not_exist', 'Cohort with id 5151 does not exist', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('c'), filters: groups({ key: 'id', type: 'cohort', value: 'abc' }) })).toEqual(
      ve('cohort_does_not_exist', 'Cohort with id abc does not exist', 'filters'),
    );
    const [foreign] = await t.ctx.db.insert(cohorts).values({ projectId: otherProject.id, name: 'foreign', filters: {} }).returning();
    expect(await rejection({ key: uniqueKey('c'), filters: groups({ key: 'id', type: 'cohort', value: foreign.id }) })).toEqual(
      ve('cohort_does_not_exist', `Cohort with id ${foreign.id} does not exist`, 'filters'),
    );
    const deleted = await seedCohort(uniqueKey('deleted'), {}, { deleted: true });
    expect((await validate({ key: uniqueKey('c'), filters: groups({ key: 'id', type: 'cohort', value: String(deleted.id) }) })).values.filters).toBeDefined();
  });

  it('case 22: behavioral cohorts, directly or referenced, on create and PATCH', async () => {
    const cohort2 = await seedCohort('cohort2', cohortFilters(behavioral));
    const message = ve('behavioral_cohort_found', "Cohort 'cohort2' with filters on events cannot be used in feature flags.", 'filters');
    expect(await rejection({ key: uniqueKey('bc'), filters: groups({ key: 'id', type: 'cohort', value: cohort2.id }) })).toEqual(message);
    const existing = await seedFlag(uniqueKey('bc'));
    expect(await rejection({ filters: groups({ key: 'id', type: 'cohort', value: cohort2.id }) }, 'partial_update', existing)).toEqual(message);
    const wrapper = await seedCohort('wrapper', cohortFilters({ key: 'id', type: 'cohort', value: cohort2.id }));
    expect(await rejection({ key: uniqueKey('bc'), filters: groups({ key: 'id', type: 'cohort', value: wrapper.id }) })).toEqual(message);
    // a deleted referenced cohort is not followed
    const gone = await seedCohort('gone-behavioral', cohortFilters(behavioral), { deleted: true });
    const wrapsGone = await seedCohort('wraps-gone', cohortFilters({ key: 'id', type: 'cohort', value: gone.id }));
    expect((await validate({ key: uniqueKey('bc'), filters: groups({ key: 'id', type: 'cohort', value: wrapsGone.id }) })).values.filters).toBeDefined();
  });

  it('case 23: group flags use group properties of their group type', async () => {
    const prop = { key: 'industry', type: 'group', group_type_index: 0, value: 'tech', operator: 'exact' };
    const filters = (agg: unknown, ...props: unknown[]) => ({ aggregation_group_type_index: agg, groups: [{ properties: props, rollout_percentage: 50 }] });
    expect((await validate({ key: uniqueKey('gf'), filters: filters(0, prop) })).values.filters).toBeDefined();
    const message = ve('invalid_input', 'Filters are not valid (can only use group properties)', 'filters');
    expect(await rejection({ key: uniqueKey('gf'), filters: filters(3, prop) })).toEqual(message);
    expect(await rejection({ key: uniqueKey('gf'), filters: filters(0, person({})) })).toEqual(message);
    expect(await rejection({ key: uniqueKey('gf'), filters: filters(0, { ...prop, group_type_index: 7 }) })).toEqual(
      ve('invalid_input', 'group_type_index is required to be at least 0 and less than 5', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('gf'), filters: filters(9) })).toEqual(
      ve('invalid_input', 'aggregation_group_type_index is required to be at least 0 and less than 5', 'filters'),
    );
  });

  it('case 16–18: variant rollouts sum to 100', async () => {
    const mv = (...pcts: number[]) => ({ variants: pcts.map((p, i) => ({ key: `v${i}`, name: `V${i}`, rollout_percentage: p })) });
    const ok = await validate({ key: uniqueKey('mv'), filters: { groups: [{ properties: [], rollout_percentage: null }], multivariate: mv(50, 25, 25) } });
    expect(ok.values.filters).toBeDefined();
    const message = ve('invalid_input', 'Invalid variant definitions: Variant rollout percentages must sum to 100.', 'filters');
    expect(await rejection({ key: uniqueKey('mv'), filters: { groups: [{ properties: [] }], multivariate: mv(50, 25, 0) } })).toEqual(message);
    expect(await rejection({ key: uniqueKey('mv'), filters: { groups: [{ properties: [] }], multivariate: mv(50, 25, 50) } })).toEqual(message);
    const existing = await seedFlag(uniqueKey('mv'), { filters: { groups: [{ properties: [] }], multivariate: mv(50, 50) } });
    expect(await rejection({ filters: { groups: [{ properties: [] }], multivariate: mv(50, 40) } }, 'partial_update', existing)).toEqual(message);
    expect(await rejection({ key: uniqueKey('mv'), filters: { groups: [{}], multivariate: { variants: [{ key: 'a' }] } } })).toEqual(message);
    expect((await validate({ key: uniqueKey('mv'), filters: { groups: [{}], multivariate: { variants: [] } } })).values.filters).toBeDefined();
    expect(await rejection({ key: uniqueKey('mv'), filters: { groups: [{}], multivariate: { variants: [{ key: 'a', rollout_percentage: '100' }] } } })).toEqual(
      ve('invalid_input', 'Filters are not valid (variant rollout_percentage must be a number)', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('mv'), filters: { groups: [{}], multivariate: { variants: null } } })).toEqual(
      ve('invalid_input', 'Filters are not valid (variants must be a list)', 'filters'),
    );
  });

  it('case 19: a group variant override must be a variant', async () => {
    const filters = {
      groups: [{ properties: [], rollout_percentage: 50, variant: 'unknown-variant' }],
      multivariate: { variants: [{ key: 'a', rollout_percentage: 100 }] },
    };
    const message = ve('invalid_input', 'Filters are not valid (variant override does not exist)', 'filters');
    expect(await rejection({ key: uniqueKey('vo'), filters })).toEqual(message);
    const existing = await seedFlag(uniqueKey('vo'));
    expect(await rejection({ filters }, 'partial_update', existing)).toEqual(message);
    expect((await validate({ key: uniqueKey('vo'), filters: { ...filters, groups: [{ properties: [], variant: 'a' }] } })).values.filters).toBeDefined();
    expect((await validate({ key: uniqueKey('vo'), filters: { groups: [{ properties: [], variant: null }] } })).values.filters).toBeDefined();
  });

  it('case 25: payloads of boolean flags', async () => {
    const payload = (payloads: unknown) => ({ key: uniqueKey('pl'), filters: { groups: [{ properties: [], rollout_percentage: 100 }], payloads } });
    for (const value of [300, 42, true, null, [1, 2], '{"a": 1}', '"text"']) {
      expect(((await validate(payload({ true: value }))).values.filters as { payloads: unknown }).payloads).toEqual({ true: value });
    }
    expect(await rejection(payload({ 'some-fake-key': 300 }))).toEqual(ve('invalid_input', "Payload keys must be 'true' for boolean flags", 'filters'));
    expect(await rejection(payload({ true: 1, false: 2 }))).toEqual(ve('invalid_input', "Payload keys must be 'true' for boolean flags", 'filters'));
    expect(await rejection(payload({ true: '{invalid_json}' }))).toEqual(ve('invalid_input', 'Payload value is not valid JSON', 'filters'));
    expect(await rejection(payload(['x']))).toEqual(ve('invalid_input', 'Payloads must be passed as a dictionary', 'filters'));
    expect(await rejection(payload(null))).toEqual(ve('invalid_input', 'Payloads must be passed as a dictionary', 'filters'));
    const stored = (await validate(payload({ true: { key: 'value' } }))).values.filters as { payloads: Record<string, unknown> };
    expect(stored.payloads.true).toBe('{"key": "value"}');
    const nested = (await validate(payload({ true: { a: 'é', b: [1, 2.5, 1e-7], c: null, d: { e: false } } }))).values.filters as {
      payloads: Record<string, unknown>;
    };
    expect(nested.payloads.true).toBe('{"a": "\\u00e9", "b": [1, 2.5, 1e-07], "c": null, "d": {"e": false}}');
  });

  it('case 26: payloads of multivariate flags are keyed by variant', async () => {
    const multivariate = { variants: ['first', 'second', 'third'].map((v, i) => ({ key: `${v}-variant`, rollout_percentage: [50, 25, 25][i] })) };
    const body = (payloads: unknown) => ({ key: uniqueKey('mp'), filters: { groups: [{ properties: [], rollout_percentage: null }], multivariate, payloads } });
    expect((await validate(body({ 'first-variant': { some: 'value' }, 'second-variant': 5 }))).values.filters).toBeDefined();
    const message = ve('invalid_input', 'Payload keys must match a variant key for multivariate flags', 'filters');
    expect(await rejection(body({ 'first-variant': 1, 'fourth-variant': 2 }))).toEqual(message);
    expect(await rejection(body({ 'first-variant': 1, true: 2 }))).toEqual(message);
  });

  it('case 28: a regex PostgreSQL cannot compile fails on create (not on update, not with dependencies)', async () => {
    const cannot = ve('invalid_input', "Can't evaluate flag - please check release conditions", null);
    const regex = person({ operator: 'regex', value: '2.3.9{0-9}{1}' });
    expect(await rejection({ key: uniqueKey('rx'), filters: groups(regex) })).toEqual(cannot);
    const groupFlag = {
      aggregation_group_type_index: 0,
      groups: [{ properties: [{ key: 'v', type: 'group', group_type_index: 0, operator: 'not_regex', value: '2.3.9{0-9}{1}' }] }],
    };
    expect(await rejection({ key: uniqueKey('rx'), filters: groupFlag })).toEqual(cannot);
    expect((await validate({ key: uniqueKey('rx'), filters: groups(person({ operator: 'regex', value: '^2\\.3\\.9[0-9]$' })) })).values.filters).toBeDefined();
    const existing = await seedFlag(uniqueKey('rx'));
    expect((await validate({ filters: groups(regex) }, 'partial_update', existing)).values.filters).toBeDefined();
    const dep = await seedFlag(uniqueKey('rxdep'));
    expect((await validate({ key: uniqueKey('rx'), filters: groups(regex, dependsOn(dep.id)) })).values.filters).toBeDefined();
    // too costly to compile: refused without asking the database (PGlite would break on it)
    for (const value of ['(a{255}){255}', '((a|b){99}){50}', '(a|b)*'.repeat(300), 'x'.repeat(20_000)]) {
      expect(await rejection({ key: uniqueKey('rx'), filters: groups(person({ operator: 'regex', value })) })).toEqual(cannot);
    }
    expect(
      (await validate({ key: uniqueKey('rx'), filters: groups(person({ operator: 'regex', value: '^([a-z0-9]+\\.)*[a-z]{2,}$' })) })).values.filters,
    ).toBeDefined();
    // the field error wins over the create-time check
    expect(await rejection({ key: uniqueKey('rx'), filters: groups(regex), tags: 5 })).toEqual(
      ve('not_a_list', 'Expected a list of items but got type "int".', 'tags'),
    );
  });
});

describe('flag dependencies (API 3.6)', () => {
  it('case 30: a flag cannot depend on itself', async () => {
    const x = await seedFlag(uniqueKey('self'));
    expect(await rejection({ filters: groups(dependsOn(x.id)) }, 'partial_update', x)).toEqual(
      ve('invalid_input', `Feature flag '${x.key}' cannot depend on itself`, 'filters'),
    );
  });

  it('case 31: cycles, reported from the saved flag', async () => {
    const a = await seedFlag('flag_a');
    await seedFlag('flag_b', { filters: groups(dependsOn(a.id)) });
    const b = (await t.sql<{ id: number }>("select id from feature_flags where key = 'flag_b'"))[0];
    expect(await rejection({ filters: groups(dependsOn(b.id)) }, 'partial_update', a)).toEqual(
      ve('invalid_input', 'Circular dependency detected: flag_a → flag_b → flag_a', 'filters'),
    );
    const c = await seedFlag('flag_c', { filters: groups(dependsOn(b.id)) });
    expect(await rejection({ filters: groups(dependsOn(c.id)) }, 'partial_update', a)).toEqual(
      ve('invalid_input', 'Circular dependency detected: flag_a → flag_c → flag_b → flag_a', 'filters'),
    );
  });

  it('case 32/33: references are ids of live flags of the project', async () => {
    expect(await rejection({ key: uniqueKey('ref'), filters: groups(dependsOn(99999)) })).toEqual(
      ve('invalid_input', 'Flag dependency references non-existent flag with ID 99999', 'filters'),
    );
    expect(await rejection({ key: uniqueKey('ref'), filters: groups(dependsOn('invalid_flag_key')) })).toEqual(
      ve('invalid_input', "Flag dependencies must reference flag IDs (integers), not flag keys. Invalid reference: 'invalid_flag_key'", 'filters'),
    );
    const deleted = await seedFlag(uniqueKey('ref'), { deleted: true });
    expect(await rejection({ key: uniqueKey('ref'), filters: groups(dependsOn(deleted.id)) })).toEqual(
      ve('invalid_input', `Flag dependency references non-existent flag with ID ${deleted.id}`, 'filters'),
    );
    const [foreign] = await t.ctx.db
      .insert(featureFlags)
      .values({ projectId: otherProject.id, key: uniqueKey('foreign') })
      .returning();
    expect(await rejection({ key: uniqueKey('ref'), filters: groups(dependsOn(foreign.id)) })).toEqual(
      ve('invalid_input', `Flag dependency references non-existent flag with ID ${foreign.id}`, 'filters'),
    );
    const off = await seedFlag(uniqueKey('off'), { active: false });
    expect(await rejection({ key: uniqueKey('ref'), filters: groups(dependsOn(off.id)) })).toEqual(
      ve(
        'invalid_input',
        `Cannot create dependency on disabled flag '${off.key}' (ID: ${off.id}). Flag dependencies must reference active flags only.`,
        'filters',
      ),
    );
    expect(await rejection({ key: uniqueKey('ref'), filters: groups({ ...dependsOn(1), key: '' }) })).toEqual(
      ve('invalid_input', "Flag dependencies must reference flag IDs (integers), not flag keys. Invalid reference: ''", 'filters'),
    );
  });

  it('case 34: diamonds are cycles too; flag and person conditions mix', async () => {
    const a = await seedFlag(uniqueKey('dia-a'));
    const b = await seedFlag(uniqueKey('dia-b'), { filters: groups(dependsOn(a.id)) });
    const c = await seedFlag(uniqueKey('dia-c'), { filters: groups(dependsOn(a.id)) });
    const d = await seedFlag(uniqueKey('dia-d'), { filters: { groups: [{ properties: [dependsOn(b.id), dependsOn(c.id, 'variant')] }] } });
    expect(await rejection({ filters: groups(dependsOn(d.id)) }, 'partial_update', a)).toEqual(
      ve('invalid_input', `Circular dependency detected: ${a.key} → ${d.key} → ${b.key} → ${a.key}`, 'filters'),
    );
    const mixed = await validate({ key: uniqueKey('mix'), filters: groups(dependsOn(d.id), person({})) });
    expect(mixed.values.filters).toBeDefined();
  });
});

describe('checkStateTransition (API 3.6)', () => {
  const transition = async (existing: FeatureFlagRow, nextActive: boolean, nextDeleted: boolean) => {
    try {
      await checkStateTransition(t.ctx.db, { project, existing, nextActive, nextDeleted });
    } catch (err) {
      return (err as ApiError).body;
    }
    return 'ok';
  };

  it('disabling or deleting a flag active flags depend on; first five by key, then "and N more"', async () => {
    const base = await seedFlag(uniqueKey('base'));
    const dependents: FeatureFlagRow[] = [];
    for (const name of ['g', 'c', 'a', 'f', 'b', 'e', 'd']) dependents.push(await seedFlag(`dep-${name}-${seq}`, { filters: groups(dependsOn(base.id)) }));
    await seedFlag(uniqueKey('inactive-dep'), { active: false, filters: groups(dependsOn(base.id)) });
    await seedFlag(uniqueKey('deleted-dep'), { deleted: true, filters: groups(dependsOn(base.id)) });
    const sorted = [...dependents].sort((x, y) => (x.key < y.key ? -1 : 1));
    const listed = `${sorted
      .slice(0, 5)
      .map((f) => `${f.key} (ID: ${f.id})`)
      .join(', ')}, and 2 more`;
    expect(await transition(base, false, false)).toEqual(
      ve(
        'invalid_input',
        `Cannot disable this feature flag because other flags depend on it: ${listed}. Please update or disable the dependent flags first.`,
        null,
      ),
    );
    expect(await transition(base, true, true)).toEqual(
      ve(
        'invalid_input',
        `Cannot delete this feature flag because other flags depend on it: ${listed}. Please update or delete the dependent flags first.`,
        null,
      ),
    );
    expect(await transition(base, true, false)).toBe('ok');
  });

  it('only active dependents block', async () => {
    const base = await seedFlag(uniqueKey('lonely'));
    await seedFlag(uniqueKey('sleeping'), { active: false, filters: groups(dependsOn(base.id)) });
    expect(await transition(base, false, false)).toBe('ok');
    expect(await transition(base, true, true)).toBe('ok');
  });

  it('enabling a flag whose stored dependencies are disabled', async () => {
    const off1 = await seedFlag(uniqueKey('zz-off'), { active: false });
    const off2 = await seedFlag(uniqueKey('aa-off'), { active: false });
    const on = await seedFlag(uniqueKey('on'));
    const flag = await seedFlag(uniqueKey('wants-on'), { active: false, filters: groups(dependsOn(off1.id), dependsOn(on.id), dependsOn(off2.id)) });
    expect(await transition(flag, true, false)).toEqual(
      ve(
        'invalid_input',
        `Cannot enable this feature flag because it depends on disabled flags: ${off2.key} (ID: ${off2.id}), ${off1.key} (ID: ${off1.id}). Please enable the dependency flags first.`,
        null,
      ),
    );
    expect(await transition(flag, false, true)).toBe('ok');
  });
});

describe('evaluation tags (API 3.4, case 80)', () => {
  it('must be a subset of the tags sent in the same request', async () => {
    const ok = await validate({ key: uniqueKey('et'), tags: ['app', 'marketing', 'docs'], evaluation_tags: ['app', 'docs'] });
    expect(ok.values.tags).toEqual(['app', 'marketing', 'docs']);
    expect(ok.values.evaluationTags).toEqual(['app', 'docs']);
    expect(await rejection({ key: uniqueKey('et'), tags: ['app', 'docs'], evaluation_tags: ['app', 'marketing', 'Zeta'] })).toEqual(
      ve('invalid_input', 'Evaluation tags must be a subset of tags. Invalid evaluation tags: marketing, zeta', null),
    );
    expect(await rejection({ key: uniqueKey('et'), tags: [], evaluation_tags: ['app'] })).toEqual(
      ve('invalid_input', 'Evaluation tags must be a subset of tags. Invalid evaluation tags: app', null),
    );
    const existing = await seedFlag(uniqueKey('et'), { tags: ['app'], evaluationTags: ['app'] });
    expect(await rejection({ evaluation_tags: ['app'] }, 'partial_update', existing)).toEqual(
      ve('invalid_input', 'Evaluation tags must be a subset of tags. Invalid evaluation tags: app', null),
    );
    const cleared = await validate({ evaluation_tags: [] }, 'partial_update', existing);
    expect(cleared.values).toEqual({ evaluationTags: [] });
  });

  it('require_evaluation_contexts: creates need one, updates cannot remove all; surveys are exempt', async () => {
    const strict = { ...project, requireEvaluationContexts: true };
    expect(await rejection({ key: uniqueKey('rq') }, 'create', undefined, strict)).toEqual(
      ve('invalid_input', 'At least one evaluation context tag is required to create a new feature flag.', null),
    );
    expect((await validate({ key: uniqueKey('rq'), tags: ['web'], evaluation_tags: ['web'] }, 'create', undefined, strict)).values.evaluationTags).toEqual([
      'web',
    ]);
    expect((await validate({ key: uniqueKey('rq'), creation_context: 'surveys' }, 'create', undefined, strict)).values.key).toBeDefined();
    const tagged = await seedFlag(uniqueKey('rq'), { tags: ['web'], evaluationTags: ['web'] });
    expect(await rejection({ evaluation_tags: [] }, 'partial_update', tagged, strict)).toEqual(
      ve(
        'invalid_input',
        'Cannot remove all evaluation context tags. At least one tag is required because this flag already has evaluation tags and the team requires them.',
        null,
      ),
    );
    expect((await validate({ name: 'x' }, 'partial_update', tagged, strict)).values).toEqual({ name: 'x' });
    const untagged = await seedFlag(uniqueKey('rq'));
    expect((await validate({ evaluation_tags: [] }, 'partial_update', untagged, strict)).values).toEqual({ evaluationTags: [] });
  });
});

describe('conflict-detection inputs', () => {
  it('validated holds snake_case values of the fields sent; version and original_flag pass through', async () => {
    const existing = await seedFlag(uniqueKey('vf'));
    const out = await validate(
      {
        name: 'n',
        active: 'true',
        version: '2',
        original_flag: { name: 'old' },
        filters: groups(person({})),
        tags: ['A'],
        evaluation_tags: ['a'],
        evaluation_runtime: 'server',
      },
      'partial_update',
      existing,
    );
    expect(out.validated).toEqual({
      name: 'n',
      active: true,
      performed_rollback: false,
      version: 2,
      filters: groups(person({})),
      tags: ['a'],
      evaluation_runtime: 'server',
    });
    expect(out.version).toBe(2);
    expect(out.originalFlag).toEqual({ name: 'old' });
    expect((await validate({ original_flag: 'x' }, 'partial_update', existing)).originalFlag).toBeUndefined();
  });
});

describe('regex cost screen', () => {
  it('estimates states and empty transitions of PostgreSQL regexes', () => {
    expect(regexCost('abc')).toEqual({ states: 3, empties: 0, bracketChars: 0 });
    expect(regexCost('(a|b)*')).toEqual({ states: 8, empties: 1, bracketChars: 0 });
    expect(regexCost('[a-z]{3}')).toEqual({ states: 3, empties: 0, bracketChars: 5 });
    expect(regexCost('(a{255}){255}').states).toBe(65_535);
    expect(regexCost('(a{0,9}){11}')).toEqual({ states: 121, empties: 99, bracketChars: 0 });
    expect(regexCost('***=((((').states).toBe(4);
    expect(regexWithinBudget('^1\\.2\\.\\d+(-beta)?$')).toBe(true);
    expect(regexWithinBudget('(a{255}){255}')).toBe(false);
  });
});

describe('Python renderings', () => {
  it('repr, json.dumps and dates', () => {
    expect(pyRepr(['@posthog.com'])).toBe("['@posthog.com']");
    expect(pyRepr({ a: [true, null, 1.5, "it's"] })).toBe(`{'a': [True, None, 1.5, "it's"]}`);
    expect(pyRepr(1e-7)).toBe('1e-07');
    expect(pyRepr(1e22)).toBe('10000000000000000000000');
    expect(pyRepr(0.5)).toBe('0.5');
    expect(pyJsonDumps({ k: 'v', n: [1, { x: '\n"' }] })).toBe('{"k": "v", "n": [1, {"x": "\\n\\""}]}');
    expect(pyJsonDumps({ emoji: '😀' })).toBe('{"emoji": "\\ud83d\\ude00"}');
    expect(isValidFlagDate('-30d')).toBe(true);
    expect(isValidFlagDate('10000d')).toBe(false);
    expect(isValidFlagDate('2023-02-29')).toBe(false);
    expect(isValidFlagDate('2024-02-29')).toBe(true);
  });
});

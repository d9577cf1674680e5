// Acceptance cases docs/compatibility.md#case-1 to #case-34 and #case-80 over real HTTP:
// PostHog's exact validation envelopes, and no database change after any 4xx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { cohorts, dashboards, projects } from '../../src/platform/db/schema.ts';
import { MAX_PROPERTY_VALUES } from '../../src/flags/validation-filters.ts';
import type supertest from 'supertest';

let t: TestApp;
let otherProjectId: number;
const P = '/api/projects/1/feature_flags';

beforeAll(async () => {
  t = await createTestApp();
  const [other] = await t.ctx.db
    .insert(projects)
    .values({ organizationId: t.boot.organization.id, name: 'Other', apiToken: 'phc_other_api_validation', secretApiToken: 'phs_other_api_validation' })
    .returning();
  otherProjectId = other.id;
});
afterAll(async () => {
  await t?.close();
});

const ve = (code: string, detail: string, attr: string | null) => ({ type: 'validation_error', code, detail, attr });

/** Every row a flag write may touch, as text: compared before and after a refused request. */
async function snapshot(): Promise<string> {
  const [row] = await t.sql<{ s: string }>(`
    select concat_ws('|',
      (select string_agg(f::text, ',' order by id) from feature_flags f),
      (select string_agg(d::text, ',' order by id) from dashboards d),
      (select string_agg(l::text, ',' order by feature_flag_id, dashboard_id) from feature_flag_dashboards l),
      (select count(*)::text from activity_log),
      (select string_agg(p.revision::text, ',' order by id) from projects p)) as s`);
  return row.s;
}

/** Sends `request`, expects a 4xx with `body`, and that nothing in the database changed. */
async function refused(request: () => supertest.Test, body: unknown, status = 400): Promise<void> {
  const before = await snapshot();
  const res = await request();
  expect(res.status).toBe(status);
  expect(res.body).toEqual(body);
  expect(await snapshot()).toBe(before);
}

const post =
  (body: unknown, path = `${P}/`) =>
  () =>
    t.api('post', path).send(body as object);
const patch = (id: number, body: unknown) => () => t.api('patch', `${P}/${id}/`).send(body as object);
async function create(body: Record<string, unknown>) {
  const res = await t.api('post', `${P}/`).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: number; key: string; filters: Record<string, unknown>; [k: string]: unknown };
}
async function seedCohort(name: string, filters: Record<string, unknown>, projectId = 1) {
  const [row] = await t.ctx.db.insert(cohorts).values({ projectId, name, filters }).returning();
  return row;
}

const groups = (...properties: unknown[]) => ({ groups: [{ properties, rollout_percentage: 65 }] });
const person = (extra: Record<string, unknown>) => ({ key: 'email', type: 'person', operator: 'exact', value: 'a@b.c', ...extra });
const dependsOn = (id: number | string) => ({ key: String(id), type: 'flag', operator: 'flag_evaluates_to', value: true });
const behavioral = { key: '$pageview', event_type: 'events', time_value: 2, time_interval: 'week', value: 'performed_event', type: 'behavioral' };
const cohortFilters = (...values: unknown[]) => ({ properties: { type: 'OR', values: [{ type: 'AND', values }] } });

describe('create / key validation', () => {
  it('case 1: too many values in a list property', async () => {
    const emails = Array.from({ length: MAX_PROPERTY_VALUES + 1 }, (_, i) => `user${i}@posthog.com`);
    await refused(
      post({ name: 'Beta feature', key: 'beta-x', filters: groups(person({ value: emails })) }),
      ve('invalid_input', `Property group expressions of type email cannot contain more than ${MAX_PROPERTY_VALUES} values.`, 'filters'),
    );
  });

  it('case 2: duplicate key, with and without trailing slash', async () => {
    await create({ name: 'Red button', key: 'red_button' });
    const message = ve('unique', 'There is already a feature flag with this key.', 'key');
    await refused(post({ name: 'Beta feature', key: 'red_button' }), message);
    await refused(post({ name: 'Beta feature', key: 'red_button' }, P), message);
  });

  it('case 3: invalid key characters', async () => {
    for (const key of ['foo?bar=baz', 'foo/bar', 'foo\\bar', 'foo.bar', 'foo bar']) {
      await refused(post({ key }), ve('invalid_key', 'Only letters, numbers, hyphens (-) & underscores (_) are allowed.', 'key'));
    }
  });

  it('case 4: key longer than 400 characters', async () => {
    await refused(post({ key: 'a'.repeat(401) }), ve('max_length', 'Ensure this field has no more than 400 characters.', 'key'));
  });

  it('case 5: empty body', async () => {
    await refused(() => t.api('post', `${P}/`), ve('required', 'This field is required.', 'key'));
    await refused(post({}), ve('required', 'This field is required.', 'key'));
  });

  it('a body that is not a dictionary', async () => {
    await refused(post(['key']), ve('invalid_input', 'Invalid data. Expected a dictionary, but got list.', null));
  });

  it('case 6: a key alone is enough; filters are stored as {}', async () => {
    const flag = await create({ key: 'omega-feature' });
    expect(flag.name).toBe('');
    const [row] = await t.sql<{ filters: unknown }>('select filters from feature_flags where id = $1', [flag.id]);
    expect(row.filters).toEqual({});
  });

  it('case 7: analytics dashboards of the same project only (POST and PATCH)', async () => {
    const [own] = await t.ctx.db.insert(dashboards).values({ projectId: 1, name: 'own' }).returning();
    const [foreign] = await t.ctx.db.insert(dashboards).values({ projectId: otherProjectId, name: 'foreign' }).returning();
    const flag = await create({ key: 'with-dashboard', analytics_dashboards: [own.id], _should_create_usage_dashboard: false });
    expect(flag.analytics_dashboards).toEqual([own.id]);
    const message = ve('does_not_exist', `Invalid pk "${foreign.id}" - object does not exist.`, 'analytics_dashboards');
    await refused(post({ key: 'foreign-dashboard', analytics_dashboards: [foreign.id] }), message);
    await refused(patch(flag.id, { analytics_dashboards: [foreign.id] }), message);
  });

  it('case 8: evaluation_runtime', async () => {
    for (const runtime of ['server', 'client', 'all']) {
      expect((await create({ key: `runtime-${runtime}`, evaluation_runtime: runtime })).evaluation_runtime).toBe(runtime);
    }
    const plain = await create({ key: 'runtime-default' });
    expect(plain.evaluation_runtime).toBe('all');
    const res = await t.api('patch', `${P}/${plain.id}/`).send({ evaluation_runtime: 'server' });
    expect(res.status).toBe(200);
    expect(res.body.evaluation_runtime).toBe('server');
    await refused(patch(plain.id, { evaluation_runtime: 'both' }), ve('invalid_choice', '"both" is not a valid choice.', 'evaluation_runtime'));
  });

  it('case 9: _should_create_usage_dashboard', async () => {
    expect((await create({ key: 'no-usage-dashboard', _should_create_usage_dashboard: false })).usage_dashboard).toBeNull();
    await refused(
      post({ key: 'bad-usage-dashboard', _should_create_usage_dashboard: 'sometimes' }),
      ve('invalid_input', 'Must be a valid boolean.', '_should_create_usage_dashboard'),
    );
  });

  it('case 10: a soft-deleted flag does not hold its key', async () => {
    const old = await create({ key: 'reborn' });
    expect((await t.api('patch', `${P}/${old.id}/`).send({ deleted: true })).status).toBe(200);
    expect((await create({ key: 'reborn' })).key).toBe('reborn');
  });

  it('case 11: a personal API key creates flags', async () => {
    const member = await t.userWithKey({ email: 'creator@example.com', level: 'member' });
    const res = await t.api('post', `${P}/`, member.key).send({ key: 'via-pak' });
    expect(res.status).toBe(201);
  });
});

describe('filters validation', () => {
  it('case 12: string operators with a list value', async () => {
    for (const operator of ['icontains', 'regex', 'not_icontains', 'not_regex', 'lt', 'gt', 'lte', 'gte']) {
      await refused(
        post({ key: `op-${operator}`, filters: groups(person({ operator, value: ['@posthog.com'] })) }),
        ve('invalid_value', `Invalid value for operator ${operator}: ['@posthog.com']`, 'filters'),
      );
    }
  });

  it('case 13: a string that looks like JSON is fine', async () => {
    await create({ key: 'json-looking', filters: groups(person({ operator: 'not_regex', value: '["@posthog.com"]' })) });
  });

  it('case 14: in / not_in on person properties', async () => {
    for (const operator of ['in', 'not_in']) {
      await refused(
        post({ key: `person-${operator}`, filters: groups(person({ operator, value: ['a'] })) }),
        ve('invalid_operator', `The '${operator}' operator is only valid for cohort properties, not 'person' properties.`, 'filters'),
      );
    }
  });

  it('case 15: in / not_in on cohorts', async () => {
    const cohort = await seedCohort('people', cohortFilters({ key: 'email', type: 'person', value: '@posthog.com', operator: 'icontains' }));
    for (const operator of ['in', 'not_in'])
      await create({ key: `cohort-${operator}`, filters: groups({ key: 'id', type: 'cohort', value: cohort.id, operator }) });
  });

  const variants = (...pcts: number[]) => ({
    variants: pcts.map((p, i) => ({ key: ['first-variant', 'second-variant', 'third-variant'][i], name: `V${i}`, rollout_percentage: p })),
  });

  it('case 16/17: variants sum to 100', async () => {
    await create({ key: 'mv-ok', filters: { groups: [{ properties: [], rollout_percentage: null }], multivariate: variants(50, 25, 25) } });
    for (const pcts of [
      [50, 25, 0],
      [50, 25, 50],
    ]) {
      await refused(
        post({ key: 'mv-bad', filters: { groups: [{ properties: [], rollout_percentage: null }], multivariate: variants(...pcts) } }),
        ve('invalid_input', 'Invalid variant definitions: Variant rollout percentages must sum to 100.', 'filters'),
      );
    }
  });

  it('case 18: PATCH to a bad sum keeps the stored variants', async () => {
    const flag = await create({ key: 'mv-patch', filters: { groups: [{ properties: [] }], multivariate: variants(50, 50) } });
    await refused(
      patch(flag.id, { filters: { groups: [{ properties: [] }], multivariate: variants(50, 40) } }),
      ve('invalid_input', 'Invalid variant definitions: Variant rollout percentages must sum to 100.', 'filters'),
    );
    const [row] = await t.sql<{ filters: { multivariate: unknown } }>('select filters from feature_flags where id = $1', [flag.id]);
    expect(row.filters.multivariate).toEqual(variants(50, 50));
  });

  it('case 19: unknown variant override on create and PATCH', async () => {
    const filters = { groups: [{ properties: [], rollout_percentage: 50, variant: 'unknown-variant' }], multivariate: variants(100) };
    const message = ve('invalid_input', 'Filters are not valid (variant override does not exist)', 'filters');
    await refused(post({ key: 'override', filters }), message);
    const flag = await create({ key: 'override', filters: { groups: [{ properties: [] }], multivariate: variants(100) } });
    await refused(patch(flag.id, { filters }), message);
  });

  it('case 20: invalid dates', async () => {
    await refused(
      post({ key: 'date-before', filters: groups(person({ key: 'joined', operator: 'is_date_before', value: '6hed' })) }),
      ve('invalid_date', 'Invalid date value: 6hed', 'filters'),
    );
    await refused(
      post({ key: 'date-after', filters: groups(person({ key: 'joined', operator: 'is_date_after', value: '1234-02-993284' })) }),
      ve('invalid_date', 'Invalid date value: 1234-02-993284', 'filters'),
    );
    await create({ key: 'date-ok', filters: groups(person({ key: 'joined', operator: 'is_date_after', value: '-30d' })) });
  });

  it('case 21: missing cohort', async () => {
    await refused(
      post({ key: 'missing-cohort', filters: groups({ key: 'id', type: 'cohort', value: 5151 }) }),
      ve('cohort_does_not_exist', 'Cohort with id 5151 does not exist', 'filters'),
    );
    const foreign = await seedCohort('foreign', {}, otherProjectId);
    await refused(
      post({ key: 'foreign-cohort', filters: groups({ key: 'id', type: 'cohort', value: foreign.id }) }),
      ve('cohort_does_not_exist', `Cohort with id ${foreign.id} does not exist`, 'filters'),
    );
  });

  it('case 22: behavioral cohorts, directly or through a referencing cohort, on create and PATCH', async () => {
    const cohort2 = await seedCohort('cohort2', cohortFilters(behavioral));
    const wrapper = await seedCohort('wrapper', cohortFilters({ key: 'id', type: 'cohort', value: cohort2.id }));
    const message = ve('behavioral_cohort_found', "Cohort 'cohort2' with filters on events cannot be used in feature flags.", 'filters');
    await refused(post({ key: 'behavioral', filters: groups({ key: 'id', type: 'cohort', value: cohort2.id }) }), message);
    await refused(post({ key: 'behavioral', filters: groups({ key: 'id', type: 'cohort', value: wrapper.id }) }), message);
    const flag = await create({ key: 'behavioral-patch' });
    await refused(patch(flag.id, { filters: groups({ key: 'id', type: 'cohort', value: cohort2.id }) }), message);
  });

  it('case 23: group flags', async () => {
    const prop = { key: 'industry', type: 'group', group_type_index: 0, value: 'tech', operator: 'exact' };
    await create({ key: 'group-flag', filters: { aggregation_group_type_index: 0, groups: [{ properties: [prop], rollout_percentage: 50 }] } });
    const message = ve('invalid_input', 'Filters are not valid (can only use group properties)', 'filters');
    await refused(post({ key: 'group-flag-3', filters: { aggregation_group_type_index: 3, groups: [{ properties: [prop] }] } }), message);
    await refused(post({ key: 'group-flag-person', filters: { aggregation_group_type_index: 0, groups: [{ properties: [person({})] }] } }), message);
  });

  it('case 24: at least one group on create; [] on update', async () => {
    await refused(
      post({ key: 'no-groups', filters: { groups: [] } }),
      ve('invalid_input', 'Feature flags must have at least one condition set (group).', 'filters'),
    );
    const flag = await create({ key: 'one-group', filters: { groups: [{ properties: [], rollout_percentage: 50 }] } });
    const res = await t.api('patch', `${P}/${flag.id}/`).send({ filters: { groups: [] } });
    expect(res.status).toBe(200);
    expect(res.body.filters.groups).toEqual([]);
  });

  it('PATCH filters without groups are ignored; PUT filters without groups are a 400', async () => {
    const flag = await create({ key: 'quirk', filters: { groups: [{ properties: [], rollout_percentage: 30 }] } });
    const res = await t.api('patch', `${P}/${flag.id}/`).send({ filters: { multivariate: 'garbage' }, name: 'renamed' });
    expect(res.status).toBe(200);
    expect(res.body.filters).toEqual({ groups: [{ properties: [], rollout_percentage: 30 }] });
    await refused(
      () => t.api('put', `${P}/${flag.id}/`).send({ key: 'quirk', filters: { multivariate: null } }),
      ve('invalid_input', 'Filters are not valid (groups must be a list)', 'filters'),
    );
  });

  it('400 instead of PostHog 500: property without value, unknown type', async () => {
    await refused(
      post({ key: 'no-value', filters: groups({ key: 'email', type: 'person', operator: 'exact' }) }),
      ve('invalid_input', 'Value must be set for property type person & operator exact', 'filters'),
    );
    await refused(
      post({ key: 'odd-type', filters: groups({ key: 'email', type: 'nope', value: 1 }) }),
      ve('invalid_input', 'Invalid property type: nope', 'filters'),
    );
    await refused(
      post({ key: 'nul', filters: groups(person({ value: 'a\u0000b' })) }),
      ve('null_characters_not_allowed', 'Null characters are not allowed.', 'filters'),
    );
    await refused(post({ key: 'nul\u0000key' }), ve('null_characters_not_allowed', 'Null characters are not allowed.', 'key'));
    await refused(post({ key: 'nul-tag', tags: ['a\u0000'] }), ve('null_characters_not_allowed', 'Null characters are not allowed.', 'tags'));
  });

  const boolPayload = (key: string, payloads: unknown) => ({ key, filters: { groups: [{ properties: [], rollout_percentage: 100 }], payloads } });

  it('case 25: payloads of boolean flags', async () => {
    await create(boolPayload('payload-300', { true: 300 }));
    await refused(post(boolPayload('payload-fake', { 'some-fake-key': 300 })), ve('invalid_input', "Payload keys must be 'true' for boolean flags", 'filters'));
    await refused(post(boolPayload('payload-invalid', { true: '{invalid_json}' })), ve('invalid_input', 'Payload value is not valid JSON', 'filters'));
    const object = await create(boolPayload('payload-object', { true: { key: 'value' } }));
    expect((object.filters.payloads as Record<string, unknown>).true).toBe('{"key": "value"}');
    await create(boolPayload('payload-42', { true: 42 }));
    await create(boolPayload('payload-bool', { true: true }));
  });

  it('case 26: payloads of multivariate flags', async () => {
    const body = (key: string, payloads: unknown) => ({
      key,
      filters: { groups: [{ properties: [], rollout_percentage: null }], multivariate: variants(50, 25, 25), payloads },
    });
    await create(body('mv-payload', { 'first-variant': { some: 'value' } }));
    const message = ve('invalid_input', 'Payload keys must match a variant key for multivariate flags', 'filters');
    await refused(post(body('mv-payload-4', { 'first-variant': 1, 'fourth-variant': 2 })), message);
    await refused(post(body('mv-payload-true', { 'first-variant': 1, true: 2 })), message);
  });

  it('case 28: a regex PostgreSQL cannot evaluate', async () => {
    const cannot = ve('invalid_input', "Can't evaluate flag - please check release conditions", null);
    await refused(post({ key: 'bad-regex', filters: groups(person({ key: 'version', operator: 'regex', value: '2.3.9{0-9}{1}' })) }), cannot);
    await refused(
      post({
        key: 'bad-group-regex',
        filters: {
          aggregation_group_type_index: 0,
          groups: [{ properties: [{ key: 'v', type: 'group', group_type_index: 0, operator: 'regex', value: '2.3.9{0-9}{1}' }], variant: null }],
        },
      }),
      cannot,
    );
  });

  it('a regex too costly to compile is refused and the database keeps working', async () => {
    const cannot = ve('invalid_input', "Can't evaluate flag - please check release conditions", null);
    await refused(post({ key: 'costly-regex', filters: groups(person({ key: 'v', operator: 'regex', value: '(a{255}){255}' })) }), cannot);
    await create({ key: 'after-costly-regex', filters: groups(person({ key: 'v', operator: 'regex', value: '^a{2,5}$' })) });
  });

  it('case 29: cohort properties carry cohort_name on retrieve', async () => {
    const cohort = await seedCohort('named cohort', cohortFilters({ key: 'email', type: 'person', value: 'x', operator: 'icontains' }));
    const flag = await create({ key: 'cohort-name', filters: groups({ key: 'id', type: 'cohort', value: cohort.id }) });
    const res = await t.api('get', `${P}/${flag.id}/`);
    expect(res.body.filters.groups[0].properties[0].cohort_name).toBe('named cohort');
  });
});

describe('flag dependencies', () => {
  it('case 30: self reference', async () => {
    const x = await create({ key: 'self-ref' });
    await refused(patch(x.id, { filters: groups(dependsOn(x.id)) }), ve('invalid_input', "Feature flag 'self-ref' cannot depend on itself", 'filters'));
  });

  it('case 31: cycles', async () => {
    const a = await create({ key: 'flag_a' });
    const b = await create({ key: 'flag_b', filters: groups(dependsOn(a.id)) });
    await refused(patch(a.id, { filters: groups(dependsOn(b.id)) }), ve('invalid_input', 'Circular dependency detected: flag_a → flag_b → flag_a', 'filters'));
    const c = await create({ key: 'flag_c', filters: groups(dependsOn(b.id)) });
    await refused(
      patch(a.id, { filters: groups(dependsOn(c.id)) }),
      ve('invalid_input', 'Circular dependency detected: flag_a → flag_c → flag_b → flag_a', 'filters'),
    );
  });

  it('case 32: non-existent flag', async () => {
    await refused(
      post({ key: 'dep-missing', filters: groups(dependsOn(99999)) }),
      ve('invalid_input', 'Flag dependency references non-existent flag with ID 99999', 'filters'),
    );
  });

  it('case 33: a key instead of an id', async () => {
    await refused(
      post({ key: 'dep-by-key', filters: groups(dependsOn('invalid_flag_key')) }),
      ve('invalid_input', "Flag dependencies must reference flag IDs (integers), not flag keys. Invalid reference: 'invalid_flag_key'", 'filters'),
    );
  });

  it('case 34: a diamond is a cycle; flag and person conditions mix', async () => {
    const a = await create({ key: 'diamond_a' });
    const b = await create({ key: 'diamond_b', filters: groups(dependsOn(a.id)) });
    const c = await create({ key: 'diamond_c', filters: groups(dependsOn(a.id)) });
    const d = await create({ key: 'diamond_d', filters: groups(dependsOn(b.id), dependsOn(c.id)) });
    await refused(
      patch(a.id, { filters: groups(dependsOn(d.id)) }),
      ve('invalid_input', 'Circular dependency detected: diamond_a → diamond_d → diamond_b → diamond_a', 'filters'),
    );
    await create({ key: 'mixed-conditions', filters: groups(dependsOn(a.id), person({})) });
  });

  it('disabling, deleting and enabling respect dependencies', async () => {
    const base = await create({ key: 'dep-base' });
    const child = await create({ key: 'dep-child', filters: groups(dependsOn(base.id)) });
    await refused(
      patch(base.id, { active: false }),
      ve(
        'invalid_input',
        `Cannot disable this feature flag because other flags depend on it: dep-child (ID: ${child.id}). Please update or disable the dependent flags first.`,
        null,
      ),
    );
    await refused(
      patch(base.id, { deleted: true }),
      ve(
        'invalid_input',
        `Cannot delete this feature flag because other flags depend on it: dep-child (ID: ${child.id}). Please update or delete the dependent flags first.`,
        null,
      ),
    );
    expect((await t.api('patch', `${P}/${child.id}/`).send({ active: false })).status).toBe(200);
    expect((await t.api('patch', `${P}/${base.id}/`).send({ active: false })).status).toBe(200);
    await refused(
      patch(child.id, { active: true }),
      ve(
        'invalid_input',
        `Cannot enable this feature flag because it depends on disabled flags: dep-base (ID: ${base.id}). Please enable the dependency flags first.`,
        null,
      ),
    );
    await refused(
      post({ key: 'dep-on-disabled', filters: groups(dependsOn(base.id)) }),
      ve(
        'invalid_input',
        `Cannot create dependency on disabled flag 'dep-base' (ID: ${base.id}). Flag dependencies must reference active flags only.`,
        'filters',
      ),
    );
  });
});

describe('evaluation tags (case 80)', () => {
  it('subset of the tags of the same request; [] clears them and keeps the tags', async () => {
    const flag = await create({ key: 'eval-tags', tags: ['app', 'marketing', 'docs'], evaluation_tags: ['app', 'docs'] });
    expect(flag.tags).toHaveLength(3);
    expect(flag.evaluation_tags).toHaveLength(2);
    await refused(
      post({ key: 'eval-tags-bad', tags: ['app', 'docs'], evaluation_tags: ['app', 'marketing'] }),
      ve('invalid_input', 'Evaluation tags must be a subset of tags. Invalid evaluation tags: marketing', null),
    );
    await refused(
      post({ key: 'eval-tags-empty', tags: [], evaluation_tags: ['app'] }),
      ve('invalid_input', 'Evaluation tags must be a subset of tags. Invalid evaluation tags: app', null),
    );
    const cleared = await t.api('patch', `${P}/${flag.id}/`).send({ evaluation_tags: [] });
    expect(cleared.status).toBe(200);
    expect(cleared.body.evaluation_tags).toEqual([]);
    expect([...cleared.body.tags].sort()).toEqual(['app', 'docs', 'marketing']);
  });

  it('require_evaluation_contexts', async () => {
    await t.sql('update projects set require_evaluation_contexts = true where id = 1');
    try {
      await refused(post({ key: 'needs-context' }), ve('invalid_input', 'At least one evaluation context tag is required to create a new feature flag.', null));
      const flag = await create({ key: 'has-context', tags: ['web'], evaluation_tags: ['web'] });
      await refused(
        patch(flag.id, { evaluation_tags: [] }),
        ve(
          'invalid_input',
          'Cannot remove all evaluation context tags. At least one tag is required because this flag already has evaluation tags and the team requires them.',
          null,
        ),
      );
      await create({ key: 'survey-flag', creation_context: 'surveys' });
    } finally {
      await t.sql('update projects set require_evaluation_contexts = false where id = 1');
    }
  });
});

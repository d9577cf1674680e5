// The documented flag API's remaining endpoints and shapes (docs/compatibility.md#api-1.3,
// #api-2.3, #api-3.11, #api-7.10, #api-7.11): dependent_flags, versions, copy_flags, the
// legacy bodies (multipart, filters as JSON text, top-level rollout_percentage), the "both"
// runtime filter, a flag without filters served as the API shows it, and the fields PostHog
// returns that flaghost had left out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { cohortFilters, createCohort, createFlag, dependsOn, inCohort, patchFlag, person, type Json } from '../helpers/sdk.ts';
import { createProject } from '../../src/access/organizations/admin.ts';
import type { Project } from '../../src/access/organizations/projects-repository.ts';

let t: TestApp;
const P = '/api/projects/1/feature_flags';

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const flagsFor = async (distinctId: string, properties: Json = {}) => {
  const res = await t.http.post('/flags/?v=2').send({ api_key: PROJECT_TOKEN, distinct_id: distinctId, person_properties: properties });
  expect(res.status).toBe(200);
  return res.body.flags as Record<string, { enabled: boolean; reason: { code: string } }>;
};
const definitions = async () => {
  const res = await t.http.get('/api/feature_flag/local_evaluation').set('Authorization', `Bearer ${ADMIN_KEY}`);
  expect(res.status).toBe(200);
  return Object.fromEntries((res.body.flags as Json[]).map((f) => [f.key, f]));
};

describe('dependent_flags', () => {
  let base: Json;
  beforeAll(async () => {
    base = await createFlag(t, { key: 'dep-base', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    const direct = await createFlag(t, {
      key: 'dep-b-direct',
      name: 'Direct',
      filters: { groups: [{ properties: [dependsOn(base.id)], rollout_percentage: 100 }] },
    });
    await createFlag(t, { key: 'dep-a-chained', filters: { groups: [{ properties: [dependsOn(direct.id)], rollout_percentage: 100 }] } });
    const off = await createFlag(t, { key: 'dep-c-off', filters: { groups: [{ properties: [dependsOn(base.id)], rollout_percentage: 100 }] } });
    await patchFlag(t, off.id, { active: false });
    const gone = await createFlag(t, { key: 'dep-d-deleted', filters: { groups: [{ properties: [dependsOn(base.id)], rollout_percentage: 100 }] } });
    await patchFlag(t, gone.id, { deleted: true });
  });

  it('lists the active dependents, direct and through a chain, by key, with the name falling back to the key', async () => {
    const res = await t.api('get', `${P}/${base.id}/dependent_flags/`);
    expect(res.status).toBe(200);
    expect(res.body.map((f: Json) => [f.key, f.name])).toEqual([
      ['dep-a-chained', 'dep-a-chained'],
      ['dep-b-direct', 'Direct'],
    ]);
    expect(Object.keys(res.body[0]).sort()).toEqual(['id', 'key', 'name']);
    const legacy = await t.api('get', `/api/feature_flag/${base.id}/dependent_flags`);
    expect(legacy.body).toEqual(res.body);
  });

  it('answers [] for a flag nothing depends on, 404 for an unknown flag, and needs feature_flag:read', async () => {
    const lone = await createFlag(t, { key: 'dep-lone' });
    expect((await t.api('get', `${P}/${lone.id}/dependent_flags/`)).body).toEqual([]);
    expect((await t.api('get', `${P}/999999/dependent_flags/`)).status).toBe(404);
    const cohortsOnly = await t.userWithKey({ email: 'dep-scope@example.com', scopes: ['cohort:read'] });
    const refused = await t.api('get', `${P}/${base.id}/dependent_flags/`, cohortsOnly.key);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe("API key missing required scope 'feature_flag:read'");
    const reader = await t.userWithKey({ email: 'dep-reader@example.com', scopes: ['feature_flag:read'] });
    expect((await t.api('get', `${P}/${base.id}/dependent_flags/`, reader.key)).status).toBe(200);
  });
});

describe('versions', () => {
  it('rebuilds each earlier version from the activity log; the current one is not historical', async () => {
    const flag = await createFlag(t, { key: 'versioned', name: 'first', filters: { groups: [{ properties: [], rollout_percentage: 10 }] } });
    await patchFlag(t, flag.id, { name: 'second' });
    await patchFlag(t, flag.id, { filters: { groups: [{ properties: [person('plan', ['pro'])], rollout_percentage: 50 }] }, active: false });

    const v1 = (await t.api('get', `${P}/${flag.id}/versions/1/`)).body;
    expect(v1).toMatchObject({ id: flag.id, key: 'versioned', name: 'first', version: 1, active: true, is_historical: true });
    expect(v1.filters.groups).toEqual([{ properties: [], rollout_percentage: 10 }]);
    expect(v1.version_timestamp).toBe(flag.created_at);
    expect(typeof v1.modified_by).toBe('number');

    const v2 = (await t.api('get', `${P}/${flag.id}/versions/2`)).body;
    expect(v2).toMatchObject({ name: 'second', version: 2, active: true, is_historical: true });
    expect(v2.filters.groups[0].rollout_percentage).toBe(10);

    const v3 = await t.api('get', `/api/feature_flag/${flag.id}/versions/3`);
    expect(v3.status).toBe(200);
    expect(v3.body).toMatchObject({ name: 'second', version: 3, active: false, is_historical: false });
    expect(v3.body.filters.groups[0].rollout_percentage).toBe(50);

    for (const n of [0, 4, 'x']) expect((await t.api('get', `${P}/${flag.id}/versions/${n}/`)).status).toBe(404);
    expect((await t.api('get', `${P}/999999/versions/1/`)).status).toBe(404);
  });
});

describe('legacy bodies', () => {
  it('creates a flag from a multipart form, with filters as JSON text', async () => {
    const res = await t
      .api('post', `${P}/`)
      .field('key', 'from-form')
      .field('name', 'Made with curl -F')
      .field('filters', JSON.stringify({ groups: [{ properties: [], rollout_percentage: 40 }] }))
      .field('tags', 'one')
      .field('tags', 'two');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ key: 'from-form', name: 'Made with curl -F', rollout_percentage: 40, tags: ['one', 'two'] });
  });

  it('reads filters as JSON text in a urlencoded body too, and refuses text that is not JSON', async () => {
    const ok = await t
      .api('post', `${P}/`)
      .type('form')
      .send({ key: 'from-urlencoded', filters: JSON.stringify({ groups: [{ properties: [], rollout_percentage: 20 }] }) });
    expect(ok.status).toBe(201);
    expect(ok.body.rollout_percentage).toBe(20);
    const bad = await t.api('post', `${P}/`).field('key', 'bad-form').field('filters', '{not json');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ type: 'validation_error', code: 'invalid_input', detail: 'Value must be valid JSON.', attr: 'filters' });
    expect((await t.sql('select 1 from feature_flags where key = $1', ['bad-form'])).length).toBe(0);
  });

  it('stores a top-level rollout_percentage with filters.properties as one condition set that every reader agrees on', async () => {
    const res = await t
      .api('post', '/api/feature_flag/')
      .send({ key: 'legacy-rollout', rollout_percentage: 100, filters: { properties: [person('email', '@corp.example', 'icontains')] } });
    expect(res.status).toBe(201);
    expect(res.body.filters.groups).toEqual([{ properties: [person('email', '@corp.example', 'icontains')], rollout_percentage: 100 }]);
    const zero = await t.api('post', '/api/feature_flag/').field('key', 'legacy-zero').field('rollout_percentage', '0');
    expect(zero.status).toBe(201);
    expect(zero.body).toMatchObject({ rollout_percentage: 0, is_simple_flag: true });

    const defs = await definitions();
    expect(defs['legacy-rollout'].filters.groups).toEqual(res.body.filters.groups);
    expect((await flagsFor('corp-user', { email: 'ann@corp.example' }))['legacy-rollout'].enabled).toBe(true);
    expect((await flagsFor('other-user', { email: 'bob@else.example' }))['legacy-rollout'].enabled).toBe(false);
    expect((await flagsFor('corp-user', { email: 'ann@corp.example' }))['legacy-zero'].enabled).toBe(false);

    // An update with the rollout alone changes the flag's one condition set.
    const patched = await t.api('patch', `/api/feature_flag/${zero.body.id}/`).send({ rollout_percentage: 100 });
    expect(patched.status).toBe(200);
    expect(patched.body.filters.groups).toEqual([{ properties: [], rollout_percentage: 100 }]);
    expect((await flagsFor('anyone'))['legacy-zero'].enabled).toBe(true);
    const several = await createFlag(t, { key: 'legacy-several', filters: { groups: [{ rollout_percentage: 10 }, { rollout_percentage: 20 }] } });
    const refused = await t.api('patch', `${P}/${several.id}/`).send({ rollout_percentage: 30 });
    expect(refused.status).toBe(400);
    expect(refused.body.attr).toBe('rollout_percentage');
    const outOfRange = await t.api('post', `${P}/`).send({ key: 'legacy-range', rollout_percentage: 101 });
    expect(outOfRange.body).toMatchObject({ attr: 'rollout_percentage', detail: 'Ensure this value is between 0 and 100.' });
  });

  it('names the media type it refuses', async () => {
    const res = await t.api('post', `${P}/`).set('content-type', 'text/xml; charset=utf-8').send('<flag/>');
    expect(res.status).toBe(415);
    expect(res.body).toEqual({
      type: 'invalid_request',
      code: 'unsupported_media_type',
      detail: 'Unsupported media type "text/xml; charset=utf-8" in request.',
      attr: null,
    });
  });
});

describe('evaluation_runtime=both', () => {
  it('matches the flags stored as all', async () => {
    await createFlag(t, { key: 'runtime-all', evaluation_runtime: 'all' });
    await createFlag(t, { key: 'runtime-server', evaluation_runtime: 'server' });
    const res = await t.api('get', `${P}/?evaluation_runtime=both&search=runtime-&limit=100`);
    expect(res.body.results.map((f: Json) => f.key)).toEqual(['runtime-all']);
  });
});

describe('a flag created without filters', () => {
  it('shows one group for everyone, and the definitions and /flags serve it to everyone', async () => {
    const flag = await createFlag(t, { key: 'no-filters' });
    const shown = (await t.api('get', `${P}/${flag.id}/`)).body;
    expect(shown.filters).toEqual({ groups: [{ properties: [], rollout_percentage: null }] });
    expect((await definitions())['no-filters'].filters.groups).toEqual([{ properties: [], rollout_percentage: null }]);
    const answer = (await flagsFor('someone'))['no-filters'];
    expect(answer.enabled).toBe(true);
    expect(answer.reason.code).toBe('condition_match');
  });
});

describe('fields PostHog returns', () => {
  it('flags carry is_used_in_replay_settings; activity details carry id and merge', async () => {
    const flag = await createFlag(t, { key: 'fields-flag' });
    expect(flag.is_used_in_replay_settings).toBe(false);
    const list = await t.api('get', `${P}/?search=fields-flag`);
    expect(list.body.results[0].is_used_in_replay_settings).toBe(false);
    const activity = await t.api('get', `${P}/${flag.id}/activity`);
    expect(activity.body.results[0].detail).toMatchObject({ id: null, merge: null, changes: [] });
    expect(Object.keys(activity.body.results[0].detail).sort()).toEqual(['changes', 'id', 'merge', 'name', 'short_id', 'trigger', 'type']);
  });

  it('roles carry is_default; role access carries role_id', async () => {
    const role = await t.api('post', '/api/organizations/@current/roles/').send({ name: 'Field checkers' });
    expect(role.status).toBe(201);
    expect(role.body.is_default).toBe(false);
    const flag = await createFlag(t, { key: 'fields-role-flag' });
    const access = await t.api('post', `${P}/${flag.id}/role_access/`).send({ role_id: role.body.id });
    expect(access.status).toBe(201);
    expect(access.body.role_id).toBe(role.body.id);
    expect(access.body.role.is_default).toBe(false);
  });
});

describe('copy_flags', () => {
  let target: Project;
  let source: Json;
  const copy = (body: Json, key?: string) => t.api('post', '/api/organizations/@current/feature_flags/copy_flags/', key).send(body);

  beforeAll(async () => {
    target = await createProject(t.ctx, { name: 'Copy target' });
    const inner = await createCohort(t, { name: 'Copy inner', filters: cohortFilters({ type: 'AND', values: [person('country', ['SE'])] }) });
    const outer = await createCohort(t, { name: 'Copy outer', filters: cohortFilters({ type: 'AND', values: [inCohort(inner.id), person('plan', ['pro'])] }) });
    const dependency = await createFlag(t, { key: 'copy-dependency' });
    source = await createFlag(t, {
      key: 'copy-me',
      name: 'Copied flag',
      filters: {
        groups: [{ properties: [inCohort(outer.id), dependsOn(dependency.id)], rollout_percentage: 100 }],
        payloads: { true: '{"a": 1}' },
      },
    });
  });

  it('refuses bodies without the required fields, an unknown flag and a flag of another organization', async () => {
    expect((await copy({ feature_flag_key: 'copy-me' })).body).toEqual({ error: 'Missing required fields' });
    const unknown = await copy({ feature_flag_key: 'no-such-flag', from_project: 1, target_project_ids: [target.id] });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ error: 'Feature flag to copy does not exist.' });
  });

  it('reports a project where a dependency is missing, then copies with cohorts and dependencies remapped', async () => {
    const first = await copy({ feature_flag_key: 'copy-me', from_project: 1, target_project_ids: [target.id, 987654] });
    expect(first.status).toBe(200);
    expect(first.body.success).toEqual([]);
    expect(first.body.failed).toEqual([
      { project_id: target.id, errors: { error: `Flag dependency 'copy-dependency' does not exist in project ${target.id}: copy it first.` } },
      { project_id: 987654, errors: 'Target project does not exist.' },
    ]);
    expect(await t.sql('select 1 from cohorts where project_id = $1', [target.id])).toEqual([]);

    const dep = await copy({ feature_flag_key: 'copy-dependency', from_project: 1, target_project_ids: [target.id] });
    expect(dep.body.success).toHaveLength(1);
    const res = await copy({ feature_flag_key: 'copy-me', from_project: 1, target_project_ids: [target.id] });
    expect(res.body.failed).toEqual([]);
    const [copied] = res.body.success;
    expect(copied).toMatchObject({ key: 'copy-me', name: 'Copied flag', version: 1 });
    expect(copied.id).not.toBe(source.id);
    const [cond] = copied.filters.groups[0].properties;
    const cohorts = await t.sql<{ id: number; name: string; filters: Json }>('select id, name, filters from cohorts where project_id = $1 order by id', [
      target.id,
    ]);
    expect(cohorts.map((c) => c.name)).toEqual(['Copy inner', 'Copy outer']);
    expect(cond.value).toBe(cohorts[1].id);
    expect(JSON.stringify(cohorts[1].filters)).toContain(`"value":${cohorts[0].id}`);
    expect(copied.filters.groups[0].properties[1].key).toBe(String(dep.body.success[0].id));
    expect(copied.filters.payloads).toEqual({ true: '{"a": 1}' });

    // Copying again updates the copy and reuses the cohorts by name.
    const again = await copy({ feature_flag_key: 'copy-me', from_project: 1, target_project_ids: [target.id] });
    expect(again.body.success[0].id).toBe(copied.id);
    expect((await t.sql('select 1 from cohorts where project_id = $1', [target.id])).length).toBe(2);
  });

  it('needs edit rights on the flag and feature_flag:write', async () => {
    const readOnly = await t.userWithKey({ email: 'copy-reader@example.com', scopes: ['feature_flag:read'] });
    const res = await copy({ feature_flag_key: 'copy-me', from_project: 1, target_project_ids: [target.id] }, readOnly.key);
    expect(res.status).toBe(403);
  });
});

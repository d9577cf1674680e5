// Local-evaluation definitions over real HTTP: every URL spelling, authentication and scopes, the
// acceptance cases docs/compatibility.md#case-62 to #case-65 (group type mapping, cohort expansion,
// send_cohorts, ETag/304), which flags are served, the dependency rewrite, gzip, HEAD and OPTIONS.
import zlib from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, PROJECT_TOKEN, SECRET_TOKEN, type TestApp } from '../helpers/app.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { cohortFilters, createCohort, createFlag, createGroupType, dependsOn, inCohort, patchFlag, person, type Json } from '../helpers/sdk.ts';
import { createProject } from '../../src/access/organizations/admin.ts';
import type { Project } from '../../src/access/organizations/projects-repository.ts';

let t: TestApp;
let other: Project;

const SPELLINGS = ['/flags/definitions', '/flags/definitions/', '/api/feature_flag/local_evaluation', '/api/feature_flag/local_evaluation/'];

const defs = (path: string, key: string | null = ADMIN_KEY) => {
  const req = t.http.get(path);
  return key ? req.set('Authorization', `Bearer ${key}`) : req;
};
const byKey = (body: Json) => Object.fromEntries((body.flags as Json[]).map((f) => [f.key, f]));

beforeAll(async () => {
  t = await createTestApp();
  other = await createProject(t.ctx, { name: 'Other project' });
});
afterAll(async () => {
  await t?.close();
});

describe('URL spellings', () => {
  beforeAll(async () => {
    await createFlag(t, { key: 'spelling-flag', filters: { groups: [{ properties: [], rollout_percentage: 30 }] } });
  });

  it('serves the same body and ETag on all four SDK spellings and the project path', async () => {
    const answers = [];
    for (const path of SPELLINGS) answers.push(await defs(`${path}?token=${PROJECT_TOKEN}&send_cohorts`));
    answers.push(await defs('/api/projects/1/feature_flags/local_evaluation?send_cohorts'));
    answers.push(await defs('/api/projects/1/feature_flags/local_evaluation/?send_cohorts&unknown=1'));
    answers.push(await defs(`/api/projects/@current/feature_flags/local_evaluation?send_cohorts`));
    for (const [i, res] of answers.entries()) {
      expect(res.status, String(i)).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual(answers[0].body);
      expect(res.headers.etag).toBe(answers[0].headers.etag);
    }
    // Other tests add flags to project 1 too, before or after this one.
    expect(answers[0].body.flags.map((f: Json) => f.key)).toContain('spelling-flag');
    expect(answers[0].body).toEqual({ flags: expect.any(Array), group_type_mapping: {}, cohorts: {} });
  });

  it('serves the flag fields posthog-node reads', async () => {
    const res = await defs(`/flags/definitions?token=${PROJECT_TOKEN}`);
    const flag = byKey(res.body)['spelling-flag'];
    expect(flag).toEqual({
      id: expect.any(Number),
      team_id: 1,
      name: '',
      key: 'spelling-flag',
      filters: { groups: [{ properties: [], rollout_percentage: 30 }] },
      deleted: false,
      active: true,
      ensure_experience_continuity: false,
      has_encrypted_payloads: false,
      version: 1,
      evaluation_runtime: 'all',
      bucketing_identifier: 'distinct_id',
      evaluation_tags: [],
      evaluation_contexts: [],
    });
  });

  it('answers an unknown project id with 404 and refuses other methods', async () => {
    expect((await defs('/api/projects/999/feature_flags/local_evaluation')).status).toBe(404);
    const post = await t.http.post(`/flags/definitions?token=${PROJECT_TOKEN}`).set('Authorization', `Bearer ${ADMIN_KEY}`).send({});
    expect(post.status).toBe(405);
    const put = await t.http.put(`/api/feature_flag/local_evaluation?token=${PROJECT_TOKEN}`).set('Authorization', `Bearer ${ADMIN_KEY}`).send({});
    expect(put.status).toBe(405);
  });
});

describe('authentication (case 62 and PostHog auth rules)', () => {
  it('401 without credentials, with or without a token', async () => {
    for (const path of [
      `/api/feature_flag/local_evaluation?token=${PROJECT_TOKEN}`,
      '/api/feature_flag/local_evaluation',
      `/flags/definitions?token=${PROJECT_TOKEN}&send_cohorts`,
    ]) {
      const res = await defs(path, null);
      expect(res.status, path).toBe(401);
      expect(res.body).toEqual({
        type: 'authentication_error',
        code: 'not_authenticated',
        detail: 'Authentication credentials were not provided.',
        attr: null,
      });
    }
  });

  it('401 for an unknown token, an unknown personal key and an unknown secret', async () => {
    expect((await defs('/flags/definitions?token=phc_unknowntoken000000000000000')).status).toBe(401);
    const badKey = await defs(`/flags/definitions?token=${PROJECT_TOKEN}`, 'phx_doesnotexist000000000000000000000');
    expect(badKey.status).toBe(401);
    expect(badKey.body.code).toBe('authentication_failed');
    expect((await defs(`/flags/definitions?token=${PROJECT_TOKEN}`, 'phs_doesnotexist000000000000000')).status).toBe(401);
  });

  it('project secret: 200 for its own project, 403 for another project', async () => {
    expect((await defs(`/flags/definitions?token=${PROJECT_TOKEN}`, SECRET_TOKEN)).status).toBe(200);
    expect((await defs('/api/feature_flag/local_evaluation', SECRET_TOKEN)).status).toBe(200);
    const foreign = await defs(`/flags/definitions?token=${PROJECT_TOKEN}&send_cohorts`, other.secretApiToken);
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ type: 'authentication_error', code: 'permission_denied' });
    expect((await defs('/api/projects/1/feature_flags/local_evaluation', other.secretApiToken)).status).toBe(403);
    // Without a token the secret names its own project.
    const own = await defs('/flags/definitions', other.secretApiToken);
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ flags: [], group_type_mapping: {}, cohorts: {} });
    expect((await defs(`/flags/definitions?token=${other.apiToken}`, other.secretApiToken)).status).toBe(200);
  });

  it('personal API keys need feature_flag:read (or write, or *)', async () => {
    const none = await t.userWithKey({ email: 'cohorts-only@example.com', scopes: ['cohort:read'] });
    const denied = await defs(`/flags/definitions?token=${PROJECT_TOKEN}`, none.key);
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      type: 'authentication_error',
      code: 'permission_denied',
      detail: "API key missing required scope 'feature_flag:read'",
      attr: null,
    });
    for (const [email, scopes] of [
      ['reader@example.com', ['feature_flag:read']],
      ['writer@example.com', ['feature_flag:write']],
      ['star@example.com', ['*']],
    ] as const) {
      const { key } = await t.userWithKey({ email, scopes: [...scopes] });
      expect((await defs(`/flags/definitions?token=${PROJECT_TOKEN}&send_cohorts`, key)).status, email).toBe(200);
      expect((await defs('/api/projects/1/feature_flags/local_evaluation', key)).status, email).toBe(200);
    }
    const teamScoped = await t.userWithKey({ email: 'scoped@example.com', scopes: ['feature_flag:read'], scopedTeams: [other.id] });
    expect((await defs(`/flags/definitions?token=${PROJECT_TOKEN}`, teamScoped.key)).status).toBe(403);
    expect((await defs(`/flags/definitions?token=${other.apiToken}`, teamScoped.key)).status).toBe(200);
  });
});

describe('group types, cohorts and flag selection (cases 62–64)', () => {
  let project: Project;
  const P = () => `/api/projects/${project.id}`;
  const get = async (query: string) => {
    const res = await defs(`/api/feature_flag/local_evaluation?token=${project.apiToken}${query}`);
    expect(res.status).toBe(200);
    return res.body as Json;
  };

  // A project per test: what one test's flags reference must not show in another's payload.
  beforeEach(async () => {
    project = await createProject(t.ctx, { name: 'Cohorts' });
  });

  it('case 62: group_type_mapping by index', async () => {
    expect(await createGroupType(t, 'organization', project.id)).toBe(0);
    expect(await createGroupType(t, 'company', project.id)).toBe(1);
    expect((await get('')).group_type_mapping).toEqual({ 0: 'organization', 1: 'company' });
    expect((await get('&send_cohorts')).group_type_mapping).toEqual({ 0: 'organization', 1: 'company' });
  });

  it('case 63: a single simple cohort is expanded into person conditions without send_cohorts', async () => {
    const cohort = await createCohort(
      t,
      {
        name: 'simple',
        filters: cohortFilters({ type: 'OR', values: [person('$some_prop', 'nomatchihope'), person('$some_prop2', 'nomatchihope2')] }),
      },
      project.id,
    );
    await createFlag(t, { key: 'expanded', filters: { groups: [{ properties: [inCohort(cohort.id)], rollout_percentage: 20 }] } }, project.id);

    const plain = await get('');
    expect(plain.cohorts).toEqual({});
    const groups = byKey(plain).expanded.filters.groups;
    expect(groups).toHaveLength(2);
    expect(groups[0]).toEqual({ properties: [expect.objectContaining({ key: '$some_prop', type: 'person', value: 'nomatchihope' })], rollout_percentage: 20 });
    expect(groups[1]).toEqual({
      properties: [expect.objectContaining({ key: '$some_prop2', type: 'person', value: 'nomatchihope2' })],
      rollout_percentage: 20,
    });

    const withCohorts = await get('&send_cohorts');
    expect(byKey(withCohorts).expanded.filters.groups).toEqual([{ properties: [inCohort(cohort.id)], rollout_percentage: 20 }]);
    expect(Object.keys(withCohorts.cohorts)).toEqual([String(cohort.id)]);
    expect(withCohorts.cohorts[String(cohort.id)]).toEqual({
      type: 'OR',
      values: [
        {
          type: 'OR',
          values: [
            expect.objectContaining({ key: '$some_prop', type: 'person', value: 'nomatchihope' }),
            expect.objectContaining({ key: '$some_prop2', type: 'person', value: 'nomatchihope2' }),
          ],
        },
      ],
    });
  });

  it('case 64: send_cohorts lists referenced and nested dynamic cohorts only', async () => {
    const base = await createCohort(t, { name: 'base', filters: cohortFilters({ type: 'AND', values: [person('country', 'DE')] }) }, project.id);
    const nested = await createCohort(
      t,
      {
        name: 'nested',
        filters: cohortFilters({ type: 'AND', values: [inCohort(base.id), person('age', '18', 'gte')] }),
      },
      project.id,
    );
    const fixed = await createCohort(t, { name: 'static', is_static: true, distinct_ids: ['a', 'b'] }, project.id);
    const doomed = await createCohort(t, { name: 'doomed', filters: cohortFilters({ type: 'AND', values: [person('x', 'y')] }) }, project.id);
    const foreign = await createCohort(t, { name: 'foreign', filters: cohortFilters({ type: 'AND', values: [person('x', 'y')] }) }, other.id);

    const one = (id: number) => ({ groups: [{ properties: [inCohort(id)], rollout_percentage: 100 }] });
    await createFlag(t, { key: 'uses-nested', filters: one(nested.id) }, project.id);
    await createFlag(t, { key: 'uses-static', filters: one(fixed.id) }, project.id);
    const deletedRef = await createFlag(t, { key: 'uses-deleted', active: false, filters: one(doomed.id) }, project.id);
    const del = await t.api('patch', `${P()}/cohorts/${doomed.id}/`).send({ deleted: true });
    expect(del.status).toBe(200);
    // Foreign and missing cohort references cannot be written through the API: store them directly.
    const foreignRef = await createFlag(t, { key: 'uses-foreign', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }, project.id);
    const missingRef = await createFlag(t, { key: 'uses-missing', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }, project.id);
    await t.sql('update feature_flags set filters = $1 where id = $2', [JSON.stringify(one(foreign.id)), foreignRef.id]);
    await t.sql('update feature_flags set filters = $1 where id = $2', [JSON.stringify(one(99999)), missingRef.id]);
    await patchFlag(t, deletedRef.id, { active: true }, project.id); // commits a change: snapshots rebuild

    const body = await get('&send_cohorts');
    const flags = byKey(body);
    expect(flags['uses-foreign'].filters).toEqual(one(foreign.id));
    expect(flags['uses-missing'].filters).toEqual(one(99999));
    expect(flags['uses-static'].filters).toEqual(one(fixed.id));
    expect(flags['uses-deleted'].filters).toEqual(one(doomed.id));
    expect(flags['uses-nested'].filters).toEqual(one(nested.id));
    const ids = Object.keys(body.cohorts).sort();
    const previous = Object.keys((await get('&send_cohorts')).cohorts);
    expect(previous.sort()).toEqual(ids);
    // Of the five flags, only nested and the base it references count.
    expect(ids).toEqual([String(base.id), String(nested.id)].sort());
    expect(ids).not.toContain(String(fixed.id));
    expect(ids).not.toContain(String(doomed.id));
    expect(ids).not.toContain(String(foreign.id));
    expect(ids).not.toContain('99999');
    expect(body.cohorts[String(nested.id)]).toEqual({
      type: 'OR',
      values: [
        {
          type: 'AND',
          values: [
            expect.objectContaining({ key: 'id', type: 'cohort', value: base.id }),
            expect.objectContaining({ key: 'age', operator: 'gte', value: '18' }),
          ],
        },
      ],
    });
    expect(body.cohorts[String(base.id)]).toEqual({
      type: 'OR',
      values: [{ type: 'AND', values: [expect.objectContaining({ key: 'country', value: 'DE' })] }],
    });
  });

  it('serves inactive flags with active:false, leaves out deleted and remote-configuration flags', async () => {
    await createFlag(t, { key: 'switched-off', active: false, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }, project.id);
    const gone = await createFlag(t, { key: 'gone', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }, project.id);
    await patchFlag(t, gone.id, { deleted: true }, project.id);
    await createFlag(
      t,
      {
        key: 'remote-config',
        is_remote_configuration: true,
        filters: { groups: [{ properties: [], rollout_percentage: 100 }], payloads: { true: '{"a": 1}' } },
      },
      project.id,
    );
    for (const query of ['', '&send_cohorts']) {
      const flags = byKey(await get(query));
      expect(flags['switched-off']).toMatchObject({ active: false, deleted: false });
      expect(flags.gone).toBeUndefined();
      expect(Object.keys(flags).some((k) => k.startsWith('gone'))).toBe(false);
      expect(flags['remote-config']).toBeUndefined();
    }
  });

  it('rewrites flag dependencies to keys with their dependency_chain', async () => {
    const root = await createFlag(t, { key: 'dep-root', filters: { groups: [{ properties: [person('beta', 'yes')], rollout_percentage: 100 }] } }, project.id);
    const middle = await createFlag(t, { key: 'dep-middle', filters: { groups: [{ properties: [dependsOn(root.id)], rollout_percentage: 100 }] } }, project.id);
    await createFlag(
      t,
      {
        key: 'dep-leaf',
        filters: { groups: [{ properties: [dependsOn(middle.id, false), person('plan', 'pro')], rollout_percentage: 50 }] },
      },
      project.id,
    );
    for (const query of ['', '&send_cohorts']) {
      const flags = byKey(await get(query));
      expect(flags['dep-middle'].filters.groups[0].properties).toEqual([
        { key: 'dep-root', type: 'flag', value: true, operator: 'flag_evaluates_to', dependency_chain: ['dep-root'] },
      ]);
      expect(flags['dep-leaf'].filters.groups[0].properties[0]).toEqual({
        key: 'dep-middle',
        type: 'flag',
        value: false,
        operator: 'flag_evaluates_to',
        dependency_chain: ['dep-root', 'dep-middle'],
      });
      expect(flags['dep-leaf'].filters.groups[0].properties[1]).toMatchObject({ key: 'plan', type: 'person' });
      expect(flags['dep-root'].filters.groups[0].properties).toEqual([expect.objectContaining({ key: 'beta' })]);
    }
    // The stored filters keep the flag id.
    const stored = await t.api('get', `${P()}/feature_flags/${middle.id}/`);
    expect(stored.body.filters.groups[0].properties[0].key).toBe(String(root.id));
  });
});

describe('ETag, 304 and caching headers (case 65)', () => {
  const path = `/api/feature_flag/local_evaluation?token=${PROJECT_TOKEN}`;

  it('sends a weak ETag with Cache-Control and answers every If-None-Match form', async () => {
    const first = await defs(path);
    expect(first.status).toBe(200);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/"[^"]+"$/);
    expect(first.headers['cache-control']).toBe('private, must-revalidate');
    const raw = etag.slice(3, -1);

    for (let i = 0; i < 5; i++) {
      const again = await defs(path).set('If-None-Match', etag);
      expect(again.status).toBe(304);
      expect(again.text ?? '').toBe('');
      expect(again.headers.etag).toBe(etag);
      expect(again.headers['cache-control']).toBe('private, must-revalidate');
    }
    for (const form of [`"${raw}"`, raw, `"other", ${etag}`, `W/"nope", "${raw}"`]) {
      expect((await defs(path).set('If-None-Match', form)).status, form).toBe(304);
    }
    for (const form of ['"wrong-etag"', 'W/"wrong-etag"', `"${raw}x"`]) {
      const res = await defs(path).set('If-None-Match', form);
      expect(res.status, form).toBe(200);
      expect(res.body.flags).toBeInstanceOf(Array);
      expect(res.headers.etag).toBe(etag);
    }
  });

  it('304 carries no body bytes on the wire', async () => {
    const first = await rawRequest(t.baseUrl, 'GET', path, { authorization: `Bearer ${ADMIN_KEY}` });
    const res = await rawRequest(t.baseUrl, 'GET', path, { authorization: `Bearer ${ADMIN_KEY}`, 'if-none-match': first.headers.etag as string });
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
    expect(res.headers.etag).toBe(first.headers.etag);
  });

  it('a 304 still needs valid credentials', async () => {
    const etag = (await defs(path)).headers.etag as string;
    expect((await defs(path, null).set('If-None-Match', etag)).status).toBe(401);
    expect((await defs(path, other.secretApiToken).set('If-None-Match', etag)).status).toBe(403);
  });

  it('changes after an edit and differs with and without send_cohorts', async () => {
    const before = (await defs(path)).headers.etag as string;
    const withCohorts = (await defs(`${path}&send_cohorts`)).headers.etag as string;
    expect(withCohorts).toMatch(/^W\/"[^"]+"$/);
    expect(withCohorts).not.toBe(before);
    expect((await defs(`${path}&send_cohorts`).set('If-None-Match', before)).status).toBe(200);

    const flag = await createFlag(t, { key: 'etag-edit', filters: { groups: [{ properties: [], rollout_percentage: 10 }] } });
    const afterCreate = await defs(path).set('If-None-Match', before);
    expect(afterCreate.status).toBe(200);
    expect(afterCreate.headers.etag).not.toBe(before);
    expect(byKey(afterCreate.body)['etag-edit']).toBeDefined();

    await patchFlag(t, flag.id, { filters: { groups: [{ properties: [], rollout_percentage: 11 }] } });
    const afterEdit = await defs(path).set('If-None-Match', afterCreate.headers.etag);
    expect(afterEdit.status).toBe(200);
    expect(afterEdit.headers.etag).not.toBe(afterCreate.headers.etag);
    expect(byKey(afterEdit.body)['etag-edit'].filters.groups[0].rollout_percentage).toBe(11);
    expect((await defs(path).set('If-None-Match', afterEdit.headers.etag)).status).toBe(304);
  });
});

describe('transport: gzip, HEAD and OPTIONS', () => {
  const path = `/flags/definitions?token=${PROJECT_TOKEN}&send_cohorts`;
  const auth = { authorization: `Bearer ${ADMIN_KEY}` };

  beforeAll(async () => {
    await createFlag(t, { key: 'transport-flag', filters: { groups: [{ properties: [], rollout_percentage: 50 }] } });
  });

  it('gzips when the client accepts gzip, and only then', async () => {
    const plain = await rawRequest(t.baseUrl, 'GET', path, { ...auth, 'accept-encoding': 'identity' });
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const json = JSON.parse(plain.body.toString('utf8'));
    expect(json.flags.length).toBeGreaterThan(0);

    const none = await rawRequest(t.baseUrl, 'GET', path, auth);
    expect(none.headers['content-encoding']).toBeUndefined();

    const gz = await rawRequest(t.baseUrl, 'GET', path, { ...auth, 'accept-encoding': 'gzip, deflate, br' });
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toMatch(/Accept-Encoding/i);
    expect(gz.headers.etag).toBe(plain.headers.etag);
    expect(JSON.parse(zlib.gunzipSync(gz.body).toString('utf8'))).toEqual(json);
  });

  it('HEAD answers 200 with headers and no body', async () => {
    const res = await rawRequest(t.baseUrl, 'HEAD', path, auth);
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(res.headers.etag).toMatch(/^W\//);
    expect((await rawRequest(t.baseUrl, 'HEAD', path, {})).status).toBe(401);
  });

  it('OPTIONS answers 204 on every SDK spelling, with CORS for a browser origin', async () => {
    for (const spelling of SPELLINGS) {
      const res = await rawRequest(t.baseUrl, 'OPTIONS', `${spelling}?token=${PROJECT_TOKEN}`, {
        origin: 'https://app.example.com',
        'access-control-request-method': 'GET',
      });
      expect(res.status, spelling).toBe(204);
      expect(res.body.length).toBe(0);
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(res.headers['access-control-allow-methods']).toMatch(/GET/);
    }
  });
});

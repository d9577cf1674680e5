// The flag list: filters, ordering, pagination, token override and the legacy path
// (docs/compatibility.md#api-2; acceptance cases #case-49 to #case-57).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { createProject } from '../../src/access/organizations/admin.ts';

let t: TestApp;
let other: { key: string; userId: number };
const P = '/api/projects/1/feature_flags';
const ids: Record<string, number> = {};

const create = async (body: Record<string, unknown>, key?: string, base = P) => {
  const res = await t.api('post', `${base}/`, key).send(body);
  expect(res.status).toBe(201);
  ids[body.key as string] = res.body.id;
  return res.body;
};
const keysOf = (res: { body: { results: Array<{ key: string }> } }) => res.body.results.map((f) => f.key);
const daysAgo = (n: number) => new Date(Date.now() - n * 24 * 3600 * 1000).toISOString();

beforeAll(async () => {
  t = await createTestApp();
  other = await t.userWithKey({ email: 'other@example.com', level: 'member' });
  await create({ key: 'red_button', name: 'Red' });
  await create({ key: 'blue_button', name: 'search_term in name', tags: ['Marketing', 'app'] });
  await create({ key: 'orange_button', active: false }, other.key);
  await create({ key: 'green_button', active: false, tags: ['docs'], evaluation_tags: ['docs'] });
  await create({
    key: 'multi',
    filters: {
      groups: [{ rollout_percentage: 100 }],
      multivariate: {
        variants: [
          { key: 'a', rollout_percentage: 50 },
          { key: 'b', rollout_percentage: 50 },
        ],
      },
    },
    evaluation_runtime: 'server',
  });
  await create({ key: 'remote', is_remote_configuration: true, filters: { groups: [{ rollout_percentage: 100 }], payloads: { true: '{"a": 1}' } } });
});
afterAll(async () => {
  await t?.close();
});

describe('list', () => {
  it('defaults to -created_at and excludes deleted flags', async () => {
    const res = await t.api('get', `${P}/`);
    expect(res.status).toBe(200);
    expect(keysOf(res)).toEqual(['remote', 'multi', 'green_button', 'orange_button', 'blue_button', 'red_button']);
    expect(res.body).toMatchObject({ count: 6, next: null, previous: null });
  });

  it('case 51: created_by_id and active=false combine', async () => {
    const res = await t.api('get', `${P}/?created_by_id=${t.boot.user.id}&active=false`);
    expect(keysOf(res)).toEqual(['green_button']);
    expect(keysOf(await t.api('get', `${P}/?active=true`))).toEqual(['remote', 'multi', 'blue_button', 'red_button']);
    expect(keysOf(await t.api('get', `${P}/?active=anything`))).toEqual(['green_button', 'orange_button']);
  });

  it('case 52: type filters', async () => {
    expect(keysOf(await t.api('get', `${P}/?type=multivariant`))).toEqual(['multi']);
    expect(keysOf(await t.api('get', `${P}/?type=boolean`))).not.toContain('multi');
    expect(keysOf(await t.api('get', `${P}/?type=remote_config`))).toEqual(['remote']);
    expect(keysOf(await t.api('get', `${P}/?type=experiment`))).toEqual([]);
    expect((await t.api('get', `${P}/?type=unknown`)).body.count).toBe(6);
  });

  it('case 53: search is a case-insensitive substring of key or name', async () => {
    expect(keysOf(await t.api('get', `${P}/?active=true&search=SEARCH_TERM`))).toEqual(['blue_button']);
    expect(keysOf(await t.api('get', `${P}/?search=_butt`))).toHaveLength(4);
    expect(keysOf(await t.api('get', `${P}/?search=%25`))).toEqual([]);
  });

  it('case 55: evaluation_runtime is an exact match; "both", the documented value, means "all"', async () => {
    expect(keysOf(await t.api('get', `${P}/?evaluation_runtime=server`))).toEqual(['multi']);
    const all = keysOf(await t.api('get', `${P}/?evaluation_runtime=all`));
    expect(all).not.toContain('multi');
    expect(keysOf(await t.api('get', `${P}/?evaluation_runtime=both`))).toEqual(all);
    expect(keysOf(await t.api('get', `${P}/?evaluation_runtime=neither`))).toEqual([]);
  });

  it('tags (any of, lower-cased), excluded_properties, has_evaluation_tags', async () => {
    expect(keysOf(await t.api('get', `${P}/?tags=${encodeURIComponent('["marketing","docs"]')}`))).toEqual(['green_button', 'blue_button']);
    expect((await t.api('get', `${P}/?tags=not-json`)).body.count).toBe(6);
    expect((await t.api('get', `${P}/?tags=[]`)).body.count).toBe(6);
    expect(keysOf(await t.api('get', `${P}/?excluded_properties=${encodeURIComponent('["red_button","multi"]')}`))).toEqual([
      'remote',
      'green_button',
      'orange_button',
      'blue_button',
    ]);
    expect(keysOf(await t.api('get', `${P}/?has_evaluation_tags=true`))).toEqual(['green_button']);
    expect((await t.api('get', `${P}/?has_evaluation_tags=no`)).body.count).toBe(5);
  });

  it('order by any field, and a clear 400 for an unknown one', async () => {
    expect(keysOf(await t.api('get', `${P}/?order=key`))).toEqual(['blue_button', 'green_button', 'multi', 'orange_button', 'red_button', 'remote']);
    expect(keysOf(await t.api('get', `${P}/?order=-key`))[0]).toBe('remote');
    const bad = await t.api('get', `${P}/?order=${encodeURIComponent('key; drop table feature_flags')}`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ type: 'validation_error', attr: 'order' });
  });

  it('limit/offset pagination with absolute next/previous URLs (API 2.5)', async () => {
    const first = await t.api('get', `${P}/?limit=2&order=key`);
    expect(keysOf(first)).toEqual(['blue_button', 'green_button']);
    expect(first.body.next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/projects\/1\/feature_flags\/\?limit=2&offset=2&order=key$/);
    expect(first.body.previous).toBeNull();
    const second = await t.http
      .get(new URL(first.body.next).pathname + new URL(first.body.next).search)
      .set('Authorization', `Bearer ${t.boot.personalApiKey}`);
    expect(keysOf(second)).toEqual(['multi', 'orange_button']);
    expect(second.body.previous).toMatch(/\/feature_flags\/\?limit=2&order=key$/);
    const third = await t.api('get', `${P}/?limit=2&offset=4&order=key`);
    expect(third.body.next).toBeNull();
    expect(third.body.previous).toMatch(/\?limit=2&offset=2&order=key$/);
    // Every page, and a page past the end, carries the same count (the count rides with a page's ids).
    const total = first.body.count;
    expect(total).toBeGreaterThan(4);
    expect([second.body.count, third.body.count]).toEqual([total, total]);
    const past = await t.api('get', `${P}/?limit=2&offset=1000&order=key`);
    expect(past.status).toBe(200);
    expect(past.body).toMatchObject({ count: total, results: [] });
  });

  it('case 49: a flag without creator lists with created_by null', async () => {
    const flag = await create({ key: 'orphan' });
    await t.sql('update feature_flags set created_by_id = null where id = $1', [flag.id]);
    const res = await t.api('get', `${P}/?search=orphan`);
    expect(res.status).toBe(200);
    expect(res.body.results[0].created_by).toBeNull();
    await t.api('patch', `${P}/${flag.id}`).send({ deleted: true });
  });

  it('case 56: @current and ?token= select the project; an unknown token is 401', async () => {
    const plain = await t.api('get', `${P}/`);
    const viaToken = await t.api('get', `/api/projects/@current/feature_flags/?token=${PROJECT_TOKEN}`);
    expect(viaToken.status).toBe(200);
    expect(viaToken.body.count).toBe(plain.body.count);
    expect(keysOf(viaToken)).toEqual(keysOf(plain));
    const project = await createProject(t.ctx, { name: 'Second' });
    await t.api('post', `/api/projects/${project.id}/feature_flags/`).send({ key: 'second-project-flag' });
    const overridden = await t.api('get', `/api/projects/1/feature_flags/?token=${project.apiToken}`);
    expect(keysOf(overridden)).toEqual(['second-project-flag']);
    const invalid = await t.api('get', `${P}/?token=invalid`);
    expect(invalid.status).toBe(401);
    expect(invalid.body).toEqual({ type: 'authentication_error', code: 'authentication_failed', detail: 'Incorrect authentication credentials.', attr: null });
  });

  it('case 57: the legacy /api/feature_flag path', async () => {
    const res = await t.api('get', `/api/feature_flag?token=${PROJECT_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(6);
    expect((await t.http.get(`/api/feature_flag?token=${PROJECT_TOKEN}`)).status).toBe(401);
    const created = await t.api('post', '/api/feature_flag/').send({ key: 'legacy-created' });
    expect(created.status).toBe(201);
    expect((await t.api('get', `/api/feature_flag/${created.body.id}`)).body.key).toBe('legacy-created');
    await t.api('patch', `/api/feature_flag/${created.body.id}`).send({ deleted: true });
  });

  it('case 54: STALE returns usage-stale and config-stale active flags only', async () => {
    // A project of its own: the other tests count project 1's six flags.
    const PS = `/api/projects/${(await createProject(t.ctx, { name: 'Stale flags' })).id}/feature_flags`;
    const make = (body: Record<string, unknown>) => create(body, undefined, PS);
    const stale = await make({ key: 'stale-full', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    const staleNull = await make({ key: 'stale-mv-null', filters: { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: null } });
    const called = await make({ key: 'called-long-ago', filters: { groups: [{ rollout_percentage: 50 }] } });
    const recent = await make({ key: 'called-recently', filters: { groups: [{ rollout_percentage: 100 }] } });
    const partial = await make({ key: 'old-partial', filters: { groups: [{ rollout_percentage: 50 }] } });
    const withProps = await make({
      key: 'old-props',
      filters: { groups: [{ rollout_percentage: 100, properties: [{ key: 'email', type: 'person', value: 'x', operator: 'exact' }] }] },
    });
    const variant = await make({
      key: 'old-variant',
      filters: { groups: [{ rollout_percentage: 100 }], multivariate: { variants: [{ key: 'test', rollout_percentage: 100 }] } },
    });
    for (const flag of [stale, staleNull, called, recent, partial, withProps, variant]) {
      await t.sql('update feature_flags set created_at = $2 where id = $1', [flag.id, daysAgo(40)]);
    }
    await t.sql('update feature_flags set last_called_at = $2 where id = $1', [called.id, daysAgo(35)]);
    await t.sql('update feature_flags set last_called_at = $2 where id = $1', [recent.id, daysAgo(1)]);
    const res = await t.api('get', `${PS}/?active=STALE&order=key`);
    expect(keysOf(res)).toEqual(['called-long-ago', 'old-variant', 'stale-full', 'stale-mv-null']);
    expect(res.body.results.every((f: { status: string }) => f.status === 'STALE')).toBe(true);
  });
});

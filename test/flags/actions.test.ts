// Activity log, status and bulk_keys (docs/compatibility.md#api-7.1, #api-7.3, #api-7.6;
// acceptance cases #case-58 to #case-61, #case-70, #case-71).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createProject } from '../../src/access/organizations/admin.ts';

let t: TestApp;
const P = '/api/projects/1/feature_flags';
const daysAgo = (n: number) => new Date(Date.now() - n * 24 * 3600 * 1000).toISOString();

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const create = async (body: Record<string, unknown>) => {
  const res = await t.api('post', `${P}/`).send(body);
  expect(res.status).toBe(201);
  return res.body as { id: number; key: string };
};

describe('activity', () => {
  it('case 58: one flag: updated then created, with exact entry shapes', async () => {
    const flag = await create({ key: 'activity-flag', name: 'before' });
    await t.api('patch', `${P}/${flag.id}`).send({ name: 'after', filters: { groups: [{ rollout_percentage: 65 }] } });
    const res = await t.api('get', `${P}/${flag.id}/activity`);
    expect(res.status).toBe(200);
    expect(res.body.total_count).toBe(2);
    const [updated, created] = res.body.results;
    expect(created).toMatchObject({
      user: { first_name: 'Admin', email: 'admin@example.com' },
      activity: 'created',
      scope: 'FeatureFlag',
      item_id: String(flag.id),
      detail: { changes: [], trigger: null, type: null, name: 'activity-flag', short_id: null },
    });
    expect(created.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(updated.activity).toBe('updated');
    expect(updated.detail.changes).toEqual([
      { type: 'FeatureFlag', action: 'changed', field: 'name', before: 'before', after: 'after' },
      { type: 'FeatureFlag', action: 'created', field: 'filters', before: null, after: { groups: [{ rollout_percentage: 65 }] } },
      { type: 'FeatureFlag', action: 'changed', field: 'version', before: 1, after: 2 },
    ]);
    expect(typeof updated.id).toBe('string');
  });

  it('case 61: 15 flags paginate 10 per page with page/limit links', async () => {
    const project = await createProject(t.ctx, { name: 'Activity project' });
    const base = `/api/projects/${project.id}/feature_flags`;
    for (let i = 0; i < 15; i++) {
      expect((await t.api('post', `${base}/`).send({ key: `flag-${i}` })).status).toBe(201);
    }
    const first = await t.api('get', `${base}/activity`);
    expect(first.body.results.map((e: { detail: { name: string } }) => e.detail.name)).toEqual(Array.from({ length: 10 }, (_, i) => `flag-${14 - i}`));
    expect(first.body.next).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/api/projects/${project.id}/feature_flags/activity\\?page=2&limit=10$`));
    expect(first.body.previous).toBeNull();
    expect(first.body.total_count).toBe(15);
    const next = new URL(first.body.next);
    const second = await t.api('get', next.pathname + next.search);
    expect(second.body.results.map((e: { detail: { name: string } }) => e.detail.name)).toEqual(['flag-4', 'flag-3', 'flag-2', 'flag-1', 'flag-0']);
    expect(second.body.next).toBeNull();
    expect(second.body.previous).toMatch(/\/feature_flags\/activity\?page=1&limit=10$/);
  });

  it('a single flag updated 14 times paginates the same way', async () => {
    const flag = await create({ key: 'busy', name: 'v0' });
    for (let i = 1; i <= 14; i++) await t.api('patch', `${P}/${flag.id}`).send({ name: `v${i}` });
    const first = await t.api('get', `${P}/${flag.id}/activity`);
    expect(first.body.results).toHaveLength(10);
    expect(first.body.total_count).toBe(15);
    expect(first.body.next).toMatch(new RegExp(`/feature_flags/${flag.id}/activity\\?page=2&limit=10$`));
    const second = await t.api('get', `${P}/${flag.id}/activity?page=2&limit=10`);
    expect(second.body.results.at(-1).activity).toBe('created');
  });

  it('invalid page/limit and pages past the end are 400, unknown flags 404 with an empty body', async () => {
    const flag = await create({ key: 'paging-errors' });
    expect((await t.api('get', `${P}/${flag.id}/activity?page=0`)).body).toMatchObject({ type: 'validation_error', attr: 'page' });
    expect((await t.api('get', `${P}/${flag.id}/activity?limit=abc`)).body).toMatchObject({ type: 'validation_error', attr: 'limit' });
    expect((await t.api('get', `${P}/${flag.id}/activity?page=9`)).status).toBe(400);
    const missing = await t.api('get', `${P}/999999/activity`);
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('');
  });

  it('case 60: a flag of another organization is not reachable through our project', async () => {
    const { createOrganization } = await import('../../src/access/organizations/admin.ts');
    const org = await createOrganization(t.ctx, 'Other org');
    const foreign = await createProject(t.ctx, { name: 'Foreign', organizationId: org.id });
    const [row] = await t.sql<{ id: number }>("insert into feature_flags (project_id, key, filters) values ($1, 'foreign-flag', '{}'::jsonb) returning id", [
      foreign.id,
    ]);
    expect((await t.api('get', `${P}/${row.id}/activity`)).status).toBe(404);
    expect((await t.api('get', `${P}/${row.id}`)).status).toBe(404);
    expect((await t.api('get', `/api/projects/${foreign.id}/feature_flags/`)).status).toBe(403);
  });
});

describe('status', () => {
  it('case 70: the staleness matrix', async () => {
    const missing = await t.api('get', `${P}/999999/status`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ status: 'unknown', reason: 'Flag could not be found' });

    const check = async (body: Record<string, unknown>, sql: { created?: number; called?: number }, expected: { status: string; reason: string }) => {
      const flag = await create(body);
      if (sql.created !== undefined) await t.sql('update feature_flags set created_at = $2 where id = $1', [flag.id, daysAgo(sql.created)]);
      if (sql.called !== undefined) await t.sql('update feature_flags set last_called_at = $2 where id = $1', [flag.id, daysAgo(sql.called)]);
      const res = await t.api('get', `${P}/${flag.id}/status`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(expected);
      return flag;
    };

    const deleted = await create({ key: 'status-deleted' });
    await t.api('patch', `${P}/${deleted.id}`).send({ deleted: true });
    expect((await t.api('get', `${P}/${deleted.id}/status`)).body).toEqual({ status: 'deleted', reason: 'Flag has been deleted' });

    await check({ key: 'status-disabled', active: false }, { called: 1 }, { status: 'active', reason: 'Flag is disabled (not evaluated for staleness)' });
    await check(
      {
        key: 'status-variant',
        filters: { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: { variants: [{ key: 'test', rollout_percentage: 100 }] } },
      },
      { created: 31 },
      { status: 'stale', reason: 'This flag will always use the variant "test"' },
    );
    const empty = await create({ key: 'status-empty' });
    await t.sql("update feature_flags set filters = '{}'::jsonb, created_at = $2 where id = $1", [empty.id, daysAgo(40)]);
    expect((await t.api('get', `${P}/${empty.id}/status`)).body).toEqual({ status: 'stale', reason: 'This boolean flag will always evaluate to "true"' });
    await check(
      { key: 'status-young', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } },
      { created: 29 },
      { status: 'active', reason: 'Flag has no usage data yet' },
    );
    await check(
      { key: 'status-called-old', filters: { groups: [{ rollout_percentage: 50 }] } },
      { created: 60, called: 35 },
      { status: 'stale', reason: 'Flag has not been called in 35 days' },
    );
    await check(
      { key: 'status-called-yesterday', filters: { groups: [{ rollout_percentage: 100 }] } },
      { created: 60, called: 1 },
      { status: 'active', reason: 'Flag was last called 1 day ago' },
    );
    await check(
      { key: 'status-called-today', filters: { groups: [{ rollout_percentage: 100 }] } },
      { created: 60, called: 0 },
      { status: 'active', reason: 'Flag was called today' },
    );
    const stale = await t.api('get', `${P}/?active=STALE`);
    expect(stale.body.results.map((f: { key: string }) => f.key).sort()).toEqual(['status-called-old', 'status-empty', 'status-variant']);
  });
});

describe('bulk_keys', () => {
  it('case 71: ids to keys, invalid ids, deleted and foreign flags', async () => {
    const a = await create({ key: 'test-flag-1' });
    const b = await create({ key: 'test-flag-2' });
    const c = await create({ key: 'test-flag-3' });
    const url = `${P}/bulk_keys/`;
    expect((await t.api('post', url).send({ ids: [a.id, b.id, c.id] })).body).toEqual({
      keys: { [a.id]: 'test-flag-1', [b.id]: 'test-flag-2', [c.id]: 'test-flag-3' },
    });
    expect((await t.api('post', url).send({ ids: [] })).body).toEqual({ keys: {} });
    expect((await t.api('post', url).send({})).body).toEqual({ keys: {} });
    const invalid = await t.api('post', url).send({ ids: ['invalid', 'not-a-number'] });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toEqual({ error: 'Invalid flag IDs provided' });
    const mixed = await t.api('post', url).send({ ids: [a.id, 'invalid', 99999] });
    expect(mixed.status).toBe(200);
    expect(mixed.body).toEqual({ keys: { [a.id]: 'test-flag-1' }, warning: "Invalid flag IDs ignored: ['invalid']" });
    expect((await t.api('post', url).send({ ids: [String(a.id)] })).body).toEqual({ keys: { [a.id]: 'test-flag-1' } });
    await t.api('patch', `${P}/${b.id}`).send({ deleted: true });
    expect((await t.api('post', url).send({ ids: [b.id] })).body).toEqual({ keys: {} });
  });
});

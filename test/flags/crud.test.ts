// Create, retrieve, update, soft delete and versioning of feature flags over real HTTP
// (docs/compatibility.md#api-2, #api-3 and the acceptance cases of #api-11).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let second: { key: string; userId: number };
const P = '/api/projects/1/feature_flags';

beforeAll(async () => {
  t = await createTestApp();
  second = await t.userWithKey({ email: 'different_user@posthog.com', level: 'member' });
});
afterAll(async () => {
  await t?.close();
});

const create = (body: Record<string, unknown>, key?: string) => t.api('post', `${P}/`, key).send(body);

describe('create', () => {
  it('returns the full representation of a simple flag (API 2.1 example)', async () => {
    const res = await create({ key: 'k', filters: { groups: [{ rollout_percentage: 65 }] } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: '',
      key: 'k',
      filters: { groups: [{ rollout_percentage: 65 }] },
      deleted: false,
      active: true,
      version: 1,
      is_simple_flag: true,
      rollout_percentage: 65,
      ensure_experience_continuity: false,
      experiment_set: [],
      surveys: [],
      features: [],
      rollback_conditions: null,
      performed_rollback: false,
      can_edit: true,
      tags: [],
      evaluation_tags: [],
      analytics_dashboards: [],
      has_enriched_analytics: false,
      user_access_level: 'manager',
      is_remote_configuration: false,
      has_encrypted_payloads: false,
      status: 'ACTIVE',
      evaluation_runtime: 'all',
      bucketing_identifier: 'distinct_id',
      last_called_at: null,
    });
    expect(res.body.created_by).toMatchObject({ email: 'admin@example.com', first_name: 'Admin' });
    expect(res.body.last_modified_by).toEqual(res.body.created_by);
    expect(res.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Object.keys(res.body)).toEqual([
      'id',
      'name',
      'key',
      'filters',
      'deleted',
      'active',
      'created_by',
      'created_at',
      'updated_at',
      'version',
      'last_modified_by',
      'is_simple_flag',
      'rollout_percentage',
      'ensure_experience_continuity',
      'experiment_set',
      'surveys',
      'features',
      'rollback_conditions',
      'performed_rollback',
      'can_edit',
      'tags',
      'evaluation_tags',
      'usage_dashboard',
      'analytics_dashboards',
      'has_enriched_analytics',
      'user_access_level',
      'is_remote_configuration',
      'has_encrypted_payloads',
      'status',
      'evaluation_runtime',
      'bucketing_identifier',
      'last_called_at',
      'is_used_in_replay_settings',
    ]);
  });

  it('case 6: a bare key stores {} and presents one empty group', async () => {
    const res = await create({ key: 'omega-feature' });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('');
    expect(res.body.filters).toEqual({ groups: [{ properties: [], rollout_percentage: null }] });
    const [row] = await t.sql<{ filters: unknown }>('select filters from feature_flags where id = $1', [res.body.id]);
    expect(row.filters).toEqual({});
  });

  it('case 10 / 44: creating over a soft-deleted key frees that key', async () => {
    const first = await create({ key: 'reused', filters: { groups: [{ rollout_percentage: 10 }] } });
    expect((await t.api('patch', `${P}/${first.body.id}/`).send({ deleted: true })).status).toBe(200);
    const again = await create({ key: 'reused' });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(first.body.id);
    expect(await t.sql('select id from feature_flags where id = $1', [first.body.id])).toEqual([]);
  });

  it('case 47: rollback_conditions are stored verbatim', async () => {
    const conditions = [{ threshold: 50, threshold_metric: {}, operator: 'lt', threshold_type: 'insight' }];
    const res = await create({ key: 'rollback', rollback_conditions: conditions });
    expect(res.status).toBe(201);
    expect(res.body.rollback_conditions).toEqual(conditions);
  });

  it('case 8: evaluation_runtime echoes and defaults to all', async () => {
    for (const runtime of ['server', 'client', 'all']) {
      const res = await create({ key: `runtime-${runtime}`, evaluation_runtime: runtime });
      expect(res.status).toBe(201);
      expect(res.body.evaluation_runtime).toBe(runtime);
    }
    const res = await create({ key: 'runtime-default' });
    expect(res.body.evaluation_runtime).toBe('all');
    const patched = await t.api('patch', `${P}/${res.body.id}`).send({ evaluation_runtime: 'server' });
    expect(patched.status).toBe(200);
    expect(patched.body.evaluation_runtime).toBe('server');
  });
});

describe('retrieve', () => {
  it('returns soft-deleted flags with deleted: true and 404s for unknown ids', async () => {
    const res = await create({ key: 'to-delete' });
    await t.api('patch', `${P}/${res.body.id}`).send({ deleted: true });
    const got = await t.api('get', `${P}/${res.body.id}/`);
    expect(got.status).toBe(200);
    expect(got.body.deleted).toBe(true);
    expect(got.body.status).toBe('DELETED');
    for (const id of ['999999', 'abc']) {
      const missing = await t.api('get', `${P}/${id}/`);
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null });
    }
  });
});

describe('update', () => {
  it('cases 35/36: PATCH by a second user keeps created_by, sets last_modified_by', async () => {
    const res = await create({ key: 'patched', name: 'first' });
    const patched = await t.api('patch', `${P}/${res.body.id}`, second.key).send({
      name: 'Updated name',
      filters: { groups: [{ rollout_percentage: 65, properties: [{ key: 'email', type: 'person', value: '@posthog.com', operator: 'icontains' }] }] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.name).toBe('Updated name');
    expect(patched.body.version).toBe(2);
    expect(patched.body.created_by.email).toBe('admin@example.com');
    expect(patched.body.last_modified_by.email).toBe('different_user@posthog.com');
    expect(patched.body.user_access_level).toBe('editor');
    expect(patched.body.is_simple_flag).toBe(false);
    expect(patched.body.rollout_percentage).toBeNull();
  });

  it('case 37/38/39: optimistic locking with original_flag', async () => {
    const res = await create({ key: 'locked', name: 'original name', filters: { groups: [{ rollout_percentage: 20 }] } });
    const id = res.body.id;
    const b1 = await t.api('patch', `${P}/${id}`, second.key).send({ name: 'B name', version: 1 });
    expect(b1.status).toBe(200);
    expect(b1.body.version).toBe(2);
    const conflict = await t.api('patch', `${P}/${id}`).send({ name: 'Another', version: 1, original_flag: { name: 'original name', key: 'locked' } });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual({
      type: 'server_error',
      code: 'conflict',
      detail: 'The feature flag was updated by different_user@posthog.com since you started editing it. Please refresh and try again.',
      attr: null,
    });
    expect((await t.api('get', `${P}/${id}`)).body.name).toBe('B name');
    // Only filters change, and nobody else touched them: no conflict despite the stale version.
    const filtersOnly = await t.api('patch', `${P}/${id}`).send({
      version: 1,
      filters: { groups: [{ rollout_percentage: 70 }] },
      original_flag: { name: 'original name', key: 'locked', filters: { groups: [{ rollout_percentage: 20 }] } },
    });
    expect(filtersOnly.status).toBe(200);
    expect(filtersOnly.body.rollout_percentage).toBe(70);
    expect(filtersOnly.body.version).toBe(3);
    // Without original_flag a stale version does not conflict.
    const stale = await t.api('patch', `${P}/${id}`).send({ name: 'C', version: 1 });
    expect(stale.status).toBe(200);
    const fresh = await t.api('patch', `${P}/${id}`, second.key).send({ name: 'D', version: 4 });
    expect(fresh.status).toBe(200);
    expect(fresh.body.version).toBe(5);
    const noVersion = await t.api('patch', `${P}/${id}`).send({ name: 'E' });
    expect(noVersion.body.version).toBe(6);
  });

  it('case 40: a stored null version treats version 0 as current', async () => {
    const res = await create({ key: 'null-version' });
    await t.sql('update feature_flags set version = null where id = $1', [res.body.id]);
    const patched = await t.api('patch', `${P}/${res.body.id}`).send({ version: 0, name: 'x', original_flag: { name: '' } });
    expect(patched.status).toBe(200);
    expect(patched.body.version).toBe(1);
  });

  it('case 41: PATCH to another flag key is refused; own key is fine', async () => {
    const a = await create({ key: 'key-a' });
    const b = await create({ key: 'key-b' });
    const clash = await t.api('patch', `${P}/${b.body.id}`).send({ key: 'key-a' });
    expect(clash.status).toBe(400);
    expect(clash.body).toEqual({ type: 'validation_error', code: 'unique', detail: 'There is already a feature flag with this key.', attr: 'key' });
    expect((await t.api('get', `${P}/${b.body.id}`)).body.key).toBe('key-b');
    expect((await t.api('patch', `${P}/${a.body.id}`).send({ key: 'key-a' })).status).toBe(200);
  });

  it('case 42: a key change rewrites $feature_enrollment super groups and logs key before filters', async () => {
    const res = await create({
      key: 'old-key',
      filters: {
        groups: [{ rollout_percentage: 100 }],
        super_groups: [{ properties: [{ key: '$feature_enrollment/old-key', type: 'person', operator: 'exact', value: ['true'] }], rollout_percentage: 100 }],
      },
    });
    const patched = await t.api('patch', `${P}/${res.body.id}`).send({ key: 'new-key' });
    expect(patched.status).toBe(200);
    expect(patched.body.filters.super_groups[0].properties[0].key).toBe('$feature_enrollment/new-key');
    const activity = await t.api('get', `${P}/${res.body.id}/activity`);
    const latest = activity.body.results[0];
    expect(latest.detail.name).toBe('new-key');
    expect(latest.detail.changes.map((c: { field: string }) => c.field)).toEqual(['key', 'filters', 'version']);
  });

  it('case 43: DELETE answers 405 with an empty body and keeps the flag', async () => {
    const res = await create({ key: 'not-deletable' });
    const del = await t.api('delete', `${P}/${res.body.id}/`);
    expect(del.status).toBe(405);
    expect(del.text).toBe('');
    expect((await t.api('get', `${P}/${res.body.id}`)).body.deleted).toBe(false);
  });

  it('case 46: form-encoded PATCH', async () => {
    const res = await create({ key: 'form', name: 'original', filters: { groups: [{ rollout_percentage: 30 }] } });
    const patched = await t.api('patch', `${P}/${res.body.id}/`).type('form').send('active=False&name=replaced');
    expect(patched.status).toBe(200);
    expect(patched.body.active).toBe(false);
    expect(patched.body.name).toBe('replaced');
    expect(patched.body.filters).toEqual({ groups: [{ rollout_percentage: 30 }] });
  });

  it('setting active: true clears performed_rollback', async () => {
    const res = await create({ key: 'rolled-back', performed_rollback: true, active: false });
    expect(res.body.performed_rollback).toBe(true);
    const patched = await t.api('patch', `${P}/${res.body.id}`).send({ active: true });
    expect(patched.body.performed_rollback).toBe(false);
  });

  it('PUT is a full update and requires key', async () => {
    const res = await create({ key: 'put-me', name: 'n' });
    const missing = await t.api('put', `${P}/${res.body.id}`).send({ name: 'no key' });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ code: 'required', attr: 'key' });
    const put = await t.api('put', `${P}/${res.body.id}`).send({ key: 'put-me', name: 'replaced', filters: { groups: [{ rollout_percentage: 5 }] } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: 'replaced', rollout_percentage: 5, version: 2 });
  });
});

describe('soft delete and restore', () => {
  it('writes deleted and restored activity entries', async () => {
    const res = await create({ key: 'lifecycle' });
    const id = res.body.id;
    expect((await t.api('patch', `${P}/${id}`).send({ deleted: true })).body.deleted).toBe(true);
    const list = await t.api('get', `${P}/?search=lifecycle`);
    expect(list.body.count).toBe(0);
    const restored = await t.api('patch', `${P}/${id}`).send({ deleted: false });
    expect(restored.body.deleted).toBe(false);
    const activity = await t.api('get', `${P}/${id}/activity/`);
    expect(activity.body.results.map((e: { activity: string }) => e.activity)).toEqual(['restored', 'deleted', 'created']);
  });
});

describe('concurrency', () => {
  it('50 parallel PATCHes of different fields lose no update', async () => {
    const res = await create({ key: 'contended', name: 'start', tags: [] });
    const id = res.body.id;
    const bodies = Array.from({ length: 50 }, (_, i) => {
      switch (i % 5) {
        case 0:
          return { name: `name-${i}` };
        case 1:
          return { rollback_conditions: [{ i }] };
        case 2:
          return { ensure_experience_continuity: i % 2 === 0 };
        case 3:
          return { has_enriched_analytics: i % 2 === 0 };
        default:
          return { evaluation_runtime: i % 2 === 0 ? 'server' : 'client' };
      }
    });
    const results = await Promise.all(bodies.map((body) => t.api('patch', `${P}/${id}`).send(body)));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const versions = results.map((r) => r.body.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    // The last writer of each field wins; its value is what the database holds.
    const byVersion = [...results].sort((a, b) => a.body.version - b.body.version);
    const final = (await t.api('get', `${P}/${id}`)).body;
    expect(final.version).toBe(51);
    for (const field of ['name', 'rollback_conditions', 'ensure_experience_continuity', 'has_enriched_analytics', 'evaluation_runtime']) {
      const last = byVersion.filter((r, i) => field in bodies[results.indexOf(r)] && i >= 0).at(-1)!;
      expect(final[field]).toEqual(bodies[results.indexOf(last)][field as keyof (typeof bodies)[number]]);
    }
    const activity = await t.api('get', `${P}/${id}/activity?limit=100`);
    expect(activity.body.total_count).toBe(51);
  });
});

// POST …/feature_flags/bulk_delete (docs/compatibility.md#api-7.8): by ids or by the list filters, each
// flag checked and written as a single soft delete, one refusal never stopping the others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/app.ts';
import { createProject } from '../../src/access/organizations/admin.ts';

type Json = Record<string, any>;
let t: TestApp;
const P = '/api/projects/1/feature_flags';

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

async function createFlag(body: Json, key = ADMIN_KEY, base = P): Promise<Json> {
  const res = await t.api('post', `${base}/`, key).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}
const bulk = (body: unknown, key = ADMIN_KEY, base = P) => t.api('post', `${base}/bulk_delete`, key).send(body as object);
const deletedFlags = async (ids: number[]) =>
  (await t.sql<{ id: number; deleted: boolean }>('select id, deleted from feature_flags where id = any($1::int[]) order by id', [ids])).map((r) => [
    r.id,
    r.deleted,
  ]);

describe('bulk_delete by ids', () => {
  it('soft-deletes each flag with its activity entry and reports rollout states; one refusal stops nothing', async () => {
    const full = await createFlag({ key: 'bulk-full', filters: { groups: [{ rollout_percentage: 100 }] } });
    const zero = await createFlag({ key: 'bulk-zero', filters: { groups: [{ rollout_percentage: 0 }] } });
    const variant = await createFlag({
      key: 'bulk-variant',
      filters: {
        groups: [{ rollout_percentage: 100 }],
        multivariate: {
          variants: [
            { key: 'a', rollout_percentage: 100 },
            { key: 'b', rollout_percentage: 0 },
          ],
        },
      },
    });
    const base = await createFlag({ key: 'bulk-base', filters: { groups: [{ rollout_percentage: 30 }] } });
    const dependent = await createFlag({
      key: 'bulk-dependent',
      filters: { groups: [{ properties: [{ key: String(base.id), type: 'flag', value: 'true', operator: 'flag_evaluates_to' }], rollout_percentage: 100 }] },
    });
    const res = await bulk({ ids: [full.id, String(zero.id), variant.id, base.id, 'x1', 999999] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      deleted: [
        { id: full.id, key: 'bulk-full', rollout_state: 'fully_rolled_out', active_variant: null },
        { id: zero.id, key: 'bulk-zero', rollout_state: 'not_rolled_out', active_variant: null },
        { id: variant.id, key: 'bulk-variant', rollout_state: 'fully_rolled_out', active_variant: 'a' },
      ],
      errors: [
        { id: 'x1', reason: 'Invalid flag ID format' },
        { id: 999999, reason: 'Flag not found' },
        { id: base.id, key: 'bulk-base', reason: `Cannot delete because other flags depend on it: bulk-dependent (ID: ${dependent.id})` },
      ],
    });
    expect(await deletedFlags([full.id, zero.id, variant.id, base.id])).toEqual([
      [full.id, true],
      [zero.id, true],
      [variant.id, true],
      [base.id, false],
    ]);
    // Each deletion wrote the entry a PATCH writes.
    const activity = await t.api('get', `${P}/${full.id}/activity`);
    expect(activity.body.results[0]).toMatchObject({ activity: 'deleted', item_id: String(full.id), detail: { name: 'bulk-full' } });
    expect(activity.body.results[0].detail.changes).toContainEqual({ type: 'FeatureFlag', action: 'changed', field: 'deleted', before: false, after: true });
    // The refused flag wrote nothing.
    const untouched = await t.api('get', `${P}/${base.id}/activity`);
    expect(untouched.body.results.map((e: Json) => e.activity)).toEqual(['created']);
    // Deleted flags are gone from the list and their keys are free again.
    const mine = ['bulk-full', 'bulk-zero', 'bulk-variant', 'bulk-base', 'bulk-dependent'];
    const listed = (await t.api('get', `${P}/?search=bulk-&limit=100`)).body.results.map((f: Json) => f.key).filter((k: string) => mine.includes(k));
    expect(listed.sort()).toEqual(['bulk-base', 'bulk-dependent']);
    await createFlag({ key: 'bulk-full' });
    // Deleting an already deleted flag: not found.
    expect((await bulk({ ids: [zero.id] })).body).toEqual({ deleted: [], errors: [{ id: zero.id, reason: 'Flag not found' }] });
  });

  it("refuses a flag the caller may not edit as its PATCH does, and another project's flag is not found", async () => {
    const member = await t.userWithKey({ email: 'bulk-member@example.com', level: 'member' });
    const mine = await createFlag({ key: 'bulk-mine', filters: { groups: [{ rollout_percentage: 50 }] } }, member.key);
    const theirs = await createFlag({ key: 'bulk-theirs' });
    const other = await createProject(t.ctx, { name: 'Bulk elsewhere' });
    const foreign = await createFlag({ key: 'bulk-foreign' }, ADMIN_KEY, `/api/projects/${other.id}/feature_flags`);
    const ra = await t.api('post', '/api/organizations/@current/resource_access/').send({ resource: 'feature flags', access_level: 21 });
    expect(ra.status).toBe(201);
    try {
      const patch = await t.api('patch', `${P}/${theirs.id}/`, member.key).send({ deleted: true });
      expect(patch.status).toBe(403);
      const res = await bulk({ ids: [mine.id, theirs.id, foreign.id] }, member.key);
      expect(res.body).toEqual({
        deleted: [{ id: mine.id, key: 'bulk-mine', rollout_state: 'partial', active_variant: null }],
        errors: [
          { id: foreign.id, reason: 'Flag not found' },
          { id: theirs.id, key: 'bulk-theirs', reason: patch.body.detail },
        ],
      });
      expect(await deletedFlags([theirs.id, foreign.id])).toEqual([
        [theirs.id, false],
        [foreign.id, false],
      ]);
    } finally {
      await t.api('delete', `/api/organizations/@current/resource_access/${ra.body.id}/`);
    }
  });
});

describe('bulk_delete by filters', () => {
  it('deletes what the list filters select, and only what the caller may edit', async () => {
    const a = await createFlag({ key: 'sweep-a', tags: ['sweep'] });
    const b = await createFlag({ key: 'sweep-b', tags: ['sweep'], active: false });
    const keep = await createFlag({ key: 'sweep-keep' });
    const res = await bulk({ filters: { search: 'sweep-', tags: ['sweep'] } });
    expect(res.status).toBe(200);
    expect(res.body.deleted.map((d: Json) => d.key)).toEqual(['sweep-b', 'sweep-a']);
    expect(res.body.errors).toEqual([]);
    expect(await deletedFlags([a.id, b.id, keep.id])).toEqual([
      [a.id, true],
      [b.id, true],
      [keep.id, false],
    ]);
    // Booleans as JSON values, as PostHog accepts them in a body.
    const c = await createFlag({ key: 'sweep-off', active: false });
    expect((await bulk({ filters: { search: 'sweep-', active: false } })).body.deleted.map((d: Json) => d.id)).toEqual([c.id]);
  });
});

describe('bulk_delete refusals', () => {
  it("answers PostHog's 400s, bounds the list, and checks nothing was written", async () => {
    const flag = await createFlag({ key: 'bulk-refusals' });
    const expectBare = async (body: unknown, error: string) => {
      const res = await bulk(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error });
    };
    await expectBare({}, 'Must provide either filters or ids');
    await expectBare({ ids: [], filters: {} }, 'Must provide either filters or ids');
    await expectBare({ ids: [flag.id], filters: { search: 'x' } }, 'Provide either filters or ids, not both');
    await expectBare({ filters: { search: 'x', order: 'key', nope: 1 } }, 'Unknown filter keys: nope, order');
    const tooMany = await bulk({ ids: Array.from({ length: 1001 }, (_, i) => i + 1) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toEqual({ type: 'validation_error', code: 'max_length', detail: 'Ensure this field has no more than 1000 elements.', attr: 'ids' });
    expect((await bulk({ ids: 'nope' })).body).toMatchObject({ code: 'not_a_list', attr: 'ids' });
    expect((await bulk({ filters: 'nope' })).body).toMatchObject({ code: 'not_a_dict', attr: 'filters' });
    expect((await bulk([1, 2])).status).toBe(400);
    expect(await deletedFlags([flag.id])).toEqual([[flag.id, false]]);
  });

  it('needs feature_flag:write', async () => {
    const flag = await createFlag({ key: 'bulk-scoped' });
    const reader = await t.userWithKey({ email: 'bulk-reader@example.com', scopes: ['feature_flag:read'] });
    const res = await bulk({ ids: [flag.id] }, reader.key);
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe("API key missing required scope 'feature_flag:write'");
    const writer = await t.userWithKey({ email: 'bulk-writer@example.com', scopes: ['feature_flag:write'] });
    expect((await bulk({ ids: [flag.id] }, writer.key)).body.deleted).toHaveLength(1);
    // The legacy path serves it too.
    const legacy = await createFlag({ key: 'bulk-legacy' });
    expect((await t.api('post', '/api/feature_flag/bulk_delete').send({ ids: [legacy.id] })).body.deleted).toHaveLength(1);
  });
});

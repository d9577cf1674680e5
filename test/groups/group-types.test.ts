// Group types over real HTTP: list shape, create with the next free index, PostHog-envelope errors,
// metadata, delete, and ensureGroupTypes under concurrent callers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createProject } from '../../src/access/organizations/admin.ts';
import { ensureGroupTypes } from '../../src/groups/service.ts';

let t: TestApp;
const P = '/api/projects/1/groups_types';

/** A project of its own for a test, with these group types created in order; its groups_types path. */
async function projectWith(types: Array<Record<string, unknown>> = []): Promise<string> {
  const project = await createProject(t.ctx, { name: `Groups ${Math.random()}` });
  const path = `/api/projects/${project.id}/groups_types`;
  for (const body of types) expect((await t.api('post', path).send(body)).status).toBe(201);
  return path;
}

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const revision = async (projectId: number) =>
  Number((await t.sql<{ revision: string }>('select revision from projects where id = $1', [projectId]))[0].revision);

describe('groups_types', () => {
  it('lists nothing at first, as a bare array', async () => {
    const res = await t.api('get', `${await projectWith()}/`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
  });

  it('creates group types at the lowest free index and lists them in PostHog shape', async () => {
    const P = await projectWith();
    const projectId = Number(P.split('/')[3]);
    const before = await revision(projectId);
    const company = await t.api('post', P).send({ group_type: 'company' });
    expect(company.status).toBe(201);
    expect(company.body).toEqual({
      group_type: 'company',
      group_type_index: 0,
      name_singular: null,
      name_plural: null,
      detail_dashboard: null,
      default_columns: null,
      created_at: null,
    });
    expect(await revision(projectId)).toBe(before + 1);
    const explicit = await t.api('post', `${P}/`).send({ group_type: 'instance', group_type_index: 3, name_singular: 'Instance' });
    expect(explicit.status).toBe(201);
    expect(explicit.body).toMatchObject({ group_type: 'instance', group_type_index: 3, name_singular: 'Instance' });
    const next = await t.api('post', P).send({ group_type: 'project' });
    expect(next.body.group_type_index).toBe(1);
    const list = await t.api('get', P);
    expect(list.body.map((g: { group_type: string; group_type_index: number }) => [g.group_type_index, g.group_type])).toEqual([
      [0, 'company'],
      [1, 'project'],
      [3, 'instance'],
    ]);
  });

  it('refuses duplicates, bad indexes and a sixth type in the validation envelope', async () => {
    const P = await projectWith([{ group_type: 'company' }, { group_type: 'project' }, { group_type: 'instance', group_type_index: 3 }]);
    const dupName = await t.api('post', P).send({ group_type: 'company' });
    expect(dupName.status).toBe(400);
    expect(dupName.body).toEqual({
      type: 'validation_error',
      code: 'unique',
      detail: 'group type mapping with this group type already exists.',
      attr: 'group_type',
    });
    const dupIndex = await t.api('post', P).send({ group_type: 'other', group_type_index: 3 });
    expect(dupIndex.body).toEqual({
      type: 'validation_error',
      code: 'unique',
      detail: 'group type mapping with this group type index already exists.',
      attr: 'group_type_index',
    });
    const high = await t.api('post', P).send({ group_type: 'other', group_type_index: 5 });
    expect(high.body).toEqual({
      type: 'validation_error',
      code: 'max_value',
      detail: 'Ensure this value is less than or equal to 4.',
      attr: 'group_type_index',
    });
    const low = await t.api('post', P).send({ group_type: 'other', group_type_index: -1 });
    expect(low.body).toEqual({
      type: 'validation_error',
      code: 'min_value',
      detail: 'Ensure this value is greater than or equal to 0.',
      attr: 'group_type_index',
    });
    const notInt = await t.api('post', P).send({ group_type: 'other', group_type_index: 'x' });
    expect(notInt.body).toMatchObject({ code: 'invalid_input', detail: 'A valid integer is required.', attr: 'group_type_index' });
    const missing = await t.api('post', P).send({});
    expect(missing.body).toEqual({ type: 'validation_error', code: 'required', detail: 'This field is required.', attr: 'group_type' });
    const blank = await t.api('post', P).send({ group_type: '   ' });
    expect(blank.body).toEqual({ type: 'validation_error', code: 'blank', detail: 'This field may not be blank.', attr: 'group_type' });

    expect((await t.api('post', P).send({ group_type: 'team' })).body.group_type_index).toBe(2);
    expect((await t.api('post', P).send({ group_type: 'workspace' })).body.group_type_index).toBe(4);
    const sixth = await t.api('post', P).send({ group_type: 'sixth' });
    expect(sixth.status).toBe(400);
    expect(sixth.body).toEqual({
      type: 'validation_error',
      code: 'max_group_types',
      detail: 'A project can have at most 5 group types (indexes 0 to 4).',
      attr: null,
    });
    expect((await t.api('get', P)).body).toHaveLength(5);
  });

  it('updates display names with update_metadata and deletes by index', async () => {
    const P = await projectWith(['company', 'project', 'team', 'instance', 'workspace'].map((group_type) => ({ group_type })));
    const res = await t.api('patch', `${P}/update_metadata`).send([{ group_type_index: 0, name_singular: 'Company', name_plural: 'Companies' }]);
    expect(res.status).toBe(200);
    expect(res.body[0]).toMatchObject({ group_type: 'company', name_singular: 'Company', name_plural: 'Companies' });
    const missing = await t
      .api('patch', `${P}/update_metadata`)
      .send([{ group_type_index: 1 }, { group_type_index: 4, name_plural: 'x' }, { group_type_index: 0 }]);
    expect(missing.status).toBe(200);
    const unknownDelete = await t.api('delete', `${P}/9`);
    expect(unknownDelete.status).toBe(404);
    expect(unknownDelete.body).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Group type not found', attr: null });
    const del = await t.api('delete', `${P}/4/`);
    expect(del.status).toBe(204);
    expect((await t.api('get', P)).body.map((g: { group_type_index: number }) => g.group_type_index)).toEqual([0, 1, 2, 3]);
    expect((await t.api('post', P).send({ group_type: 'sixth' })).body.group_type_index).toBe(4);
  });

  it('needs the group scopes and a project the caller can see', async () => {
    const reader = await t.userWithKey({ email: 'group-reader@example.com', level: 'member', scopes: ['group:read'] });
    expect((await t.api('get', P, reader.key)).status).toBe(200);
    const denied = await t.api('post', P, reader.key).send({ group_type: 'nope' });
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toBe("API key missing required scope 'group:write'");
    const flagsOnly = await t.userWithKey({ email: 'flags-only@example.com', level: 'member', scopes: ['feature_flag:read'] });
    expect((await t.api('get', P, flagsOnly.key)).body.detail).toBe("API key missing required scope 'group:read'");
    expect((await t.api('get', '/api/projects/999/groups_types')).status).toBe(404);
    expect((await t.http.get(P)).status).toBe(401);
  });
});

describe('ensureGroupTypes', () => {
  it('gives every name exactly one index under 10 concurrent overlapping calls, ignoring names beyond five', async () => {
    const project = await createProject(t.ctx, { name: 'Ensure project' });
    const before = await revision(project.id);
    const batches = Array.from({ length: 10 }, (_, i) => [`type-${i % 3}`, `type-${(i + 1) % 4}`, `type-${(i * 7) % 6}`]);
    await Promise.all(batches.map((names) => ensureGroupTypes(t.ctx, project.id, names)));
    const rows = await t.sql<{ group_type: string; group_type_index: number }>(
      'select group_type, group_type_index from group_type_mappings where project_id = $1 order by group_type_index',
      [project.id],
    );
    expect(rows).toHaveLength(5);
    expect(rows.map((r) => r.group_type_index)).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(rows.map((r) => r.group_type)).size).toBe(5);
    // Every inserted row bumped the revision once; calls that inserted nothing did not.
    expect(await revision(project.id)).toBe(before + 5);

    await ensureGroupTypes(
      t.ctx,
      project.id,
      rows.map((r) => r.group_type),
    );
    await ensureGroupTypes(t.ctx, project.id, ['type-new']);
    expect(await revision(project.id)).toBe(before + 5);
  });

  it('registers unseen names in order after the existing ones and skips blanks', async () => {
    const project = await createProject(t.ctx, { name: 'Ensure order' });
    await t.sql('insert into group_type_mappings (project_id, group_type, group_type_index) values ($1, $2, 1)', [project.id, 'existing']);
    await ensureGroupTypes(t.ctx, project.id, ['', 'existing', 'organization', 'company', 'organization']);
    const rows = await t.sql<{ group_type: string; group_type_index: number }>(
      'select group_type, group_type_index from group_type_mappings where project_id = $1 order by group_type_index',
      [project.id],
    );
    expect(rows).toEqual([
      { group_type: 'organization', group_type_index: 0 },
      { group_type: 'existing', group_type_index: 1 },
      { group_type: 'company', group_type_index: 2 },
    ]);
  });
});

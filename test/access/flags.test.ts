// can_edit, user_access_level and their enforcement on flag writes, feature-flag role access
// (docs/compatibility.md#api-8.1, #case-76 to #case-79), and every boundary between organizations
// and projects.
// Each test sets the organization's flag access level it needs and uses its own users and flags:
// the file passes in any order (CI shuffles it).
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/app.ts';
import { addMember, createKey, createOrganization, createProject } from '../../src/access/organizations/admin.ts';
import type { Project } from '../../src/access/organizations/projects-repository.ts';

let t: TestApp;
let orgA: string;
let orgB: string;
let sibling: Project; // a second project of organization A
let foreign: Project; // a project of organization B
type U = { key: string; userId: number; uuid: string };
let admin: U, creator: U, member: U, editorRole: U, viewerRole: U, outsider: U;
let engRole: string; // level 37
let viewRole: string; // level 21
let resourceAccessId: number;

const P = '/api/projects/1/feature_flags';
const EDIT_403 = { type: 'authentication_error', code: 'permission_denied', detail: "You don't have edit permissions for this feature flag.", attr: null };
const ROLES_403 = { type: 'authentication_error', code: 'permission_denied', detail: "You can't edit roles for this feature flag.", attr: null };
const FLAG_404 = { type: 'invalid_request', code: 'not_found', detail: 'Feature flag not found.', attr: null };

async function user(email: string, level: 'member' | 'admin' | 'owner' = 'member', opts: { organizationId?: string; scopes?: string[] } = {}): Promise<U> {
  const u = await t.userWithKey({ email, level, ...opts });
  const [{ uuid }] = await t.sql<{ uuid: string }>('select uuid from users where id = $1', [u.userId]);
  return { ...u, uuid };
}

async function createFlag(key: string, as = ADMIN_KEY, project = 1): Promise<{ id: number }> {
  const res = await t.api('post', `/api/projects/${project}/feature_flags/`, as).send({ key, name: key, filters: { groups: [{ rollout_percentage: 50 }] } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function setFlagsLevel(level: 21 | 37): Promise<void> {
  const res = await t.api('patch', `/api/organizations/@current/resource_access/${resourceAccessId}/`).send({ access_level: level });
  expect(res.status).toBe(200);
}

const accessOf = async (key: string, id: number) => {
  const res = await t.api('get', `${P}/${id}/`, key);
  expect(res.status).toBe(200);
  return { can_edit: res.body.can_edit, user_access_level: res.body.user_access_level };
};

beforeAll(async () => {
  t = await createTestApp();
  orgA = t.boot.organization.id;
  sibling = await createProject(t.ctx, { name: 'Sibling', organizationId: orgA });
  orgB = (await createOrganization(t.ctx, 'Org B')).id;
  foreign = await createProject(t.ctx, { name: 'Foreign', organizationId: orgB });
  admin = await user('admin2@example.com', 'admin');
  creator = await user('creator@example.com');
  member = await user('member@example.com');
  editorRole = await user('editor-role@example.com');
  viewerRole = await user('viewer-role@example.com');
  outsider = await user('owner-b@example.com', 'owner', { organizationId: orgB });
  engRole = (await t.api('post', '/api/organizations/@current/roles/').send({ name: 'Engineering', feature_flags_access_level: 37 })).body.id;
  viewRole = (await t.api('post', '/api/organizations/@current/roles/').send({ name: 'Viewers', feature_flags_access_level: 21 })).body.id;
  await t.api('post', `/api/organizations/@current/roles/${engRole}/role_memberships/`).send({ user_uuid: editorRole.uuid }).expect(201);
  await t.api('post', `/api/organizations/@current/roles/${viewRole}/role_memberships/`).send({ user_uuid: viewerRole.uuid }).expect(201);
  resourceAccessId = (await t.api('post', '/api/organizations/@current/resource_access/').send({ resource: 'feature flags', access_level: 37 })).body.id;
});
afterAll(async () => {
  await t?.close();
});

describe('can_edit and user_access_level', () => {
  it('while the organization lets members edit flags: owners/admins and creators manage, others edit', async () => {
    await setFlagsLevel(37);
    const byOwner = await createFlag('open-by-owner');
    const byCreator = await createFlag('open-by-creator', creator.key);
    expect(await accessOf(ADMIN_KEY, byOwner.id)).toEqual({ can_edit: true, user_access_level: 'manager' });
    expect(await accessOf(admin.key, byOwner.id)).toEqual({ can_edit: true, user_access_level: 'manager' });
    expect(await accessOf(member.key, byOwner.id)).toEqual({ can_edit: true, user_access_level: 'editor' });
    expect(await accessOf(viewerRole.key, byOwner.id)).toEqual({ can_edit: true, user_access_level: 'editor' });
    expect(await accessOf(creator.key, byCreator.id)).toEqual({ can_edit: true, user_access_level: 'manager' });
    expect((await t.api('patch', `${P}/${byOwner.id}/`, member.key).send({ name: 'edited by a member' })).status).toBe(200);
  });

  it('case 79: "can only view" shows can_edit false until a role of the user is given the flag', async () => {
    await setFlagsLevel(21);
    const flag = await createFlag('view-only-79');
    const list = await t.api('get', `${P}/?search=view-only-79`, viewerRole.key);
    expect(list.body.results[0]).toMatchObject({ key: 'view-only-79', can_edit: false, user_access_level: 'viewer' });
    await t.api('post', `${P}/${flag.id}/role_access/`).send({ role_id: viewRole }).expect(201);
    const after = await t.api('get', `${P}/?search=view-only-79`, viewerRole.key);
    expect(after.body.results[0]).toMatchObject({ can_edit: true, user_access_level: 'editor' });
    expect((await t.api('patch', `${P}/${flag.id}/`, viewerRole.key).send({ name: 'shared edit' })).status).toBe(200);
    // A member without roles still only views it; a role at "can always edit" edits everything.
    expect(await accessOf(member.key, flag.id)).toEqual({ can_edit: false, user_access_level: 'viewer' });
    expect(await accessOf(editorRole.key, flag.id)).toEqual({ can_edit: true, user_access_level: 'editor' });
    expect(await accessOf(admin.key, flag.id)).toEqual({ can_edit: true, user_access_level: 'manager' });
  });

  it('a list computes every flag of the page for the caller (creator, shared, neither)', async () => {
    await setFlagsLevel(21);
    const own = await createFlag('page-own', viewerRole.key);
    const shared = await createFlag('page-shared');
    const hidden = await createFlag('page-neither');
    await t.api('post', `${P}/${shared.id}/role_access/`).send({ role_id: viewRole }).expect(201);
    const res = await t.api('get', `${P}/?search=page-`, viewerRole.key);
    const byKey = Object.fromEntries(
      res.body.results.map((f: { key: string; can_edit: boolean; user_access_level: string }) => [f.key, [f.can_edit, f.user_access_level]]),
    );
    expect(byKey).toEqual({ 'page-own': [true, 'manager'], 'page-shared': [true, 'editor'], 'page-neither': [false, 'viewer'] });
    expect(own.id).toBeGreaterThan(0);
    expect(hidden.id).toBeGreaterThan(0);
  });

  it('the number of queries for a page does not grow with the number of flags on it', async () => {
    await setFlagsLevel(21);
    for (let i = 0; i < 30; i++) {
      const flag = await createFlag(`bulk-${i}`);
      if (i % 3 === 0) await t.api('post', `${P}/${flag.id}/role_access/`).send({ role_id: viewRole }).expect(201);
    }
    const db = t.ctx.db as unknown as Record<string, (...args: unknown[]) => unknown>;
    // Only the measured request's queries count: the request runs in this async context (inject,
    // not a socket), so background work (the periodic snapshot check, rebuilds after the writes
    // above) cannot land in the count however slow the machine is.
    const request = new AsyncLocalStorage<true>();
    const count = async (limit: number): Promise<{ queries: number; editable: number }> => {
      let queries = 0;
      const originals = Object.fromEntries(['select', 'selectDistinct'].map((m) => [m, db[m]]));
      for (const m of Object.keys(originals)) {
        db[m] = (...args: unknown[]) => {
          if (request.getStore()) queries++;
          return originals[m].apply(db, args);
        };
      }
      try {
        // Both requests load the key and the membership (the caches expire after 10 s, which a
        // loaded machine can take between two requests): the same work, whatever the timing.
        t.app.services.authenticator.clear();
        // (inject starts the request when awaited: await it inside run().)
        const res = await request.run(
          true,
          async () => await t.app.inject({ method: 'GET', url: `${P}/?search=bulk-&limit=${limit}`, headers: { authorization: `Bearer ${viewerRole.key}` } }),
        );
        const body = res.json();
        expect(body.results).toHaveLength(limit);
        return { queries, editable: body.results.filter((f: { can_edit: boolean }) => f.can_edit).length };
      } finally {
        Object.assign(db, originals);
      }
    };
    const one = await count(1);
    const thirty = await count(30);
    expect(one.queries).toBeGreaterThan(0);
    expect(thirty.queries).toBe(one.queries);
    expect(thirty.editable).toBe(10);
  });

  it("create and update responses carry the caller's access too", async () => {
    await setFlagsLevel(21);
    const created = await t.api('post', `${P}/`, member.key).send({ key: 'member-created' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ can_edit: true, user_access_level: 'manager' });
    const updated = await t.api('patch', `${P}/${created.body.id}/`, member.key).send({ name: 'mine' });
    expect(updated.body).toMatchObject({ can_edit: true, user_access_level: 'manager' });
    const seenByOther = await t.api('patch', `${P}/${created.body.id}/`, admin.key).send({ name: 'admin touch' });
    expect(seenByOther.body).toMatchObject({ can_edit: true, user_access_level: 'manager' });
  });
});

describe('enforcement', () => {
  it('PATCH, PUT, soft delete and restore of a flag the caller cannot edit answer 403 and change nothing', async () => {
    await setFlagsLevel(21);
    const flag = await createFlag('locked');
    await t.api('patch', `${P}/${flag.id}/`).send({ deleted: true }).expect(200);
    await t.api('patch', `${P}/${flag.id}/`).send({ deleted: false }).expect(200);
    const before = await t.sql('select * from feature_flags where id = $1', [flag.id]);
    const activityBefore = await t.sql('select id from activity_log where item_id = $1', [String(flag.id)]);
    const attempts: Array<['patch' | 'put', Record<string, unknown>]> = [
      ['patch', { name: 'hacked' }],
      ['patch', { deleted: true }],
      ['patch', { active: false }],
      ['patch', { filters: { groups: [{ rollout_percentage: 100 }] }, version: 3 }],
      ['patch', { key: 'stolen-key' }],
      ['patch', { key: 'x y z' }], // invalid, but permission comes first
      ['put', { key: 'locked', name: 'replaced' }],
    ];
    for (const [method, body] of attempts) {
      const res = await t.api(method, `${P}/${flag.id}/`, member.key).send(body);
      expect(res.status, JSON.stringify(body)).toBe(403);
      expect(res.body).toEqual(EDIT_403);
    }
    // Through the legacy path and @current too.
    expect((await t.api('patch', `/api/feature_flag/${flag.id}/`, member.key).send({ name: 'legacy' })).body).toEqual(EDIT_403);
    expect((await t.api('patch', `/api/projects/@current/feature_flags/${flag.id}/`, member.key).send({ name: 'current' })).body).toEqual(EDIT_403);
    expect(await t.sql('select * from feature_flags where id = $1', [flag.id])).toEqual(before);
    expect(await t.sql('select id from activity_log where item_id = $1', [String(flag.id)])).toEqual(activityBefore);

    // A soft-deleted flag the member cannot edit cannot be restored by them either.
    await t.api('patch', `${P}/${flag.id}/`).send({ deleted: true }).expect(200);
    expect((await t.api('patch', `${P}/${flag.id}/`, member.key).send({ deleted: false })).body).toEqual(EDIT_403);
    expect(await t.sql('select deleted from feature_flags where id = $1', [flag.id])).toEqual([{ deleted: true }]);
  });

  it('creating over (or renaming to) the key of a soft-deleted flag one cannot edit is refused: it would destroy that flag', async () => {
    await setFlagsLevel(21);
    const gone = await createFlag('tombstone');
    await t.api('patch', `${P}/${gone.id}/`).send({ deleted: true }).expect(200);
    const res = await t.api('post', `${P}/`, member.key).send({ key: 'tombstone' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(EDIT_403);
    const mine = await t.api('post', `${P}/`, member.key).send({ key: 'member-rename' });
    expect((await t.api('patch', `${P}/${mine.body.id}/`, member.key).send({ key: 'tombstone' })).body).toEqual(EDIT_403);
    expect(await t.sql('select key, deleted from feature_flags where id = $1', [gone.id])).toEqual([{ key: 'tombstone', deleted: true }]);
    // Someone who can edit it may reuse the key (PostHog's behaviour: the deleted flag goes).
    expect((await t.api('post', `${P}/`, editorRole.key).send({ key: 'tombstone' })).status).toBe(201);
    expect(await t.sql('select id from feature_flags where id = $1', [gone.id])).toEqual([]);
  });

  it('the flag actions that write (usage dashboard, enrichment, static cohort) need edit access too', async () => {
    await setFlagsLevel(21);
    const flag = await createFlag('actions-locked');
    const cohortsBefore = await t.sql('select count(*)::int as n from cohorts');
    for (const action of ['dashboard', 'enrich_usage_dashboard', 'create_static_cohort_for_flag']) {
      const res = await t.api('post', `${P}/${flag.id}/${action}/`, member.key).send({});
      expect(res.status, action).toBe(403);
      expect(res.body).toEqual(EDIT_403);
      expect((await t.api('post', `${P}/999999/${action}/`, member.key).send({})).status, action).toBe(404);
    }
    expect(await t.sql('select count(*)::int as n from cohorts')).toEqual(cohortsBefore);
    expect((await t.api('post', `${P}/${flag.id}/create_static_cohort_for_flag/`).send({})).status).toBe(201);
  });

  it('members edit again once the organization lets them', async () => {
    await setFlagsLevel(37);
    const flag = await createFlag('unlocked');
    expect((await t.api('patch', `${P}/${flag.id}/`, member.key).send({ name: 'fine' })).status).toBe(200);
  });
});

describe('feature-flag role access (case 78)', () => {
  it('the creator may share their flag even when they can only view others', async () => {
    await setFlagsLevel(21);
    const flag = await createFlag('creator-shares', creator.key);
    const res = await t.api('post', `${P}/${flag.id}/role_access/`, creator.key).send({ role_id: engRole });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      feature_flag: expect.objectContaining({ id: flag.id, key: 'creator-shares', can_edit: true, user_access_level: 'manager' }),
      role: expect.objectContaining({
        id: engRole,
        name: 'Engineering',
        feature_flags_access_level: 37,
        associated_flags: expect.arrayContaining([{ id: flag.id, key: 'creator-shares' }]),
      }),
      role_id: engRole,
      added_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
    });
    const one = await t.api('get', `${P}/${flag.id}/role_access/${res.body.id}/`, member.key);
    expect(one.status).toBe(200);
    // The nested flag is shown as the caller sees it.
    expect(one.body.feature_flag).toMatchObject({ can_edit: false, user_access_level: 'viewer' });
    const list = await t.api('get', `${P}/${flag.id}/role_access/`, member.key);
    expect(list.body).toMatchObject({ count: 1, next: null, previous: null });
    expect(list.body.results[0].id).toBe(res.body.id);
  });

  it('a flag without a creator and a member without roles: 403', async () => {
    await setFlagsLevel(21);
    const flag = await createFlag('orphan');
    await t.sql('update feature_flags set created_by_id = null where id = $1', [flag.id]);
    const res = await t.api('post', `${P}/${flag.id}/role_access/`, member.key).send({ role_id: engRole });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(ROLES_403);
  });

  it('a non-creator member gets the exact 403, before any body validation, and nothing is stored', async () => {
    await setFlagsLevel(21);
    const flag = await createFlag('not-yours', creator.key);
    for (const body of [{ role_id: viewRole }, {}, { role_id: 'garbage' }]) {
      const res = await t.api('post', `${P}/${flag.id}/role_access/`, member.key).send(body);
      expect(res.status).toBe(403);
      expect(res.body).toEqual(ROLES_403);
    }
    // A member of a "can only view" role is not enough either.
    expect((await t.api('post', `${P}/${flag.id}/role_access/`, viewerRole.key).send({ role_id: viewRole })).body).toEqual(ROLES_403);
    expect(await t.sql('select id from feature_flag_role_access where feature_flag_id = $1', [flag.id])).toEqual([]);
  });

  it('a member of a role that can always edit may share any flag', async () => {
    await setFlagsLevel(21);
    const flag = await createFlag('role-shares', creator.key);
    expect((await t.api('post', `${P}/${flag.id}/role_access/`, editorRole.key).send({ role_id: viewRole })).status).toBe(201);
  });

  it('an org admin may; the same user demoted to member may not', async () => {
    await setFlagsLevel(21);
    const demoted = await user('demoted@example.com', 'admin');
    const flag = await createFlag('admin-shares', creator.key);
    expect((await t.api('post', `${P}/${flag.id}/role_access/`, demoted.key).send({ role_id: engRole })).status).toBe(201);
    await addMember(t.ctx, { email: 'demoted@example.com', organizationId: orgA, level: 'member' });
    const res = await t.api('post', `${P}/${flag.id}/role_access/`, demoted.key).send({ role_id: viewRole });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(ROLES_403);
  });

  it('everyone may while the organization lets members edit flags', async () => {
    await setFlagsLevel(37);
    const flag = await createFlag('open-sharing', creator.key);
    expect((await t.api('post', `${P}/${flag.id}/role_access/`, member.key).send({ role_id: viewRole })).status).toBe(201);
  });

  it('validation: role_id required, a UUID, a role of this organization, once per flag', async () => {
    const flag = await createFlag('validated');
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{}, { code: 'required', detail: 'This field is required.', attr: 'role_id' }],
      [{ role_id: 'abc' }, { code: 'invalid_input', detail: 'Must be a valid UUID.', attr: 'role_id' }],
    ];
    for (const [body, error] of cases)
      expect((await t.api('post', `${P}/${flag.id}/role_access/`).send(body)).body).toEqual({ type: 'validation_error', ...error });
    const otherRole = (await t.api('post', '/api/organizations/@current/roles/', outsider.key).send({ name: 'Foreign role' })).body.id;
    expect((await t.api('post', `${P}/${flag.id}/role_access/`).send({ role_id: otherRole })).body).toEqual({
      type: 'validation_error',
      code: 'does_not_exist',
      detail: `Invalid pk "${otherRole}" - object does not exist.`,
      attr: 'role_id',
    });
    await t.api('post', `${P}/${flag.id}/role_access/`).send({ role_id: engRole }).expect(201);
    const dup = await t.api('post', `${P}/${flag.id}/role_access/`).send({ role_id: engRole });
    expect(dup.status).toBe(400);
    expect(dup.body.attr).toBe('role_id');
  });

  it('DELETE follows the same rule and answers 204; unknown ids are 404', async () => {
    await setFlagsLevel(21);
    const flag = await createFlag('revoke-share', creator.key);
    const share = (await t.api('post', `${P}/${flag.id}/role_access/`, creator.key).send({ role_id: viewRole })).body;
    const denied = await t.api('delete', `${P}/${flag.id}/role_access/${share.id}/`, member.key);
    expect(denied.body).toEqual(ROLES_403);
    expect((await t.api('get', `${P}/${flag.id}/role_access/999999/`)).status).toBe(404);
    expect((await t.api('delete', `${P}/${flag.id}/role_access/${share.id}/`, creator.key)).status).toBe(204);
    expect((await t.api('get', `${P}/${flag.id}/role_access/${share.id}/`)).status).toBe(404);
    // A role access of another flag is not reachable through this one.
    const otherFlag = await createFlag('revoke-other');
    const otherShare = (await t.api('post', `${P}/${otherFlag.id}/role_access/`).send({ role_id: viewRole })).body;
    expect((await t.api('get', `${P}/${flag.id}/role_access/${otherShare.id}/`)).status).toBe(404);
    expect((await t.api('delete', `${P}/${flag.id}/role_access/${otherShare.id}/`)).status).toBe(404);
    expect(await t.sql('select id from feature_flag_role_access where id = $1', [otherShare.id])).toHaveLength(1);
  });

  it('an unknown flag, or a flag of another project, is "Feature flag not found."', async () => {
    const elsewhere = await createFlag('elsewhere', ADMIN_KEY, sibling.id);
    for (const [method, path] of [
      ['get', `${P}/999999/role_access/`],
      ['post', `${P}/999999/role_access/`],
      ['get', `${P}/${elsewhere.id}/role_access/`],
      ['post', `${P}/${elsewhere.id}/role_access/`],
      ['get', `${P}/abc/role_access/`],
    ] as const) {
      const res = await t.api(method, path).send(method === 'post' ? { role_id: engRole } : {});
      expect(res.status, path).toBe(404);
      expect(res.body).toEqual(FLAG_404);
    }
    expect(await t.sql('select id from feature_flag_role_access where feature_flag_id = $1', [elsewhere.id])).toEqual([]);
    // The sibling project's flag itself is not found through project 1 either.
    expect((await t.api('get', `${P}/${elsewhere.id}/`)).status).toBe(404);
    expect((await t.api('patch', `${P}/${elsewhere.id}/`).send({ name: 'moved?' })).status).toBe(404);
    expect(await t.sql('select name from feature_flags where id = $1', [elsewhere.id])).toEqual([{ name: 'elsewhere' }]);
  });

  it('deleting a role removes the access it was given', async () => {
    const flag = await createFlag('role-goes');
    const temp = (await t.api('post', '/api/organizations/@current/roles/').send({ name: 'Short-lived' })).body.id;
    await t.api('post', `${P}/${flag.id}/role_access/`).send({ role_id: temp }).expect(201);
    await t.api('delete', `/api/organizations/@current/roles/${temp}/`).expect(204);
    expect((await t.api('get', `${P}/${flag.id}/role_access/`)).body.count).toBe(0);
  });

  it('needs feature_flag:read to list and feature_flag:write to share', async () => {
    const reader = await user('ra-reader@example.com', 'admin', { scopes: ['feature_flag:read'] });
    const flag = await createFlag('scoped-share');
    expect((await t.api('get', `${P}/${flag.id}/role_access/`, reader.key)).status).toBe(200);
    const res = await t.api('post', `${P}/${flag.id}/role_access/`, reader.key).send({ role_id: engRole });
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe("API key missing required scope 'feature_flag:write'");
  });
});

describe('boundaries between organizations and projects', () => {
  let foreignFlag: { id: number };
  let foreignCohort: number;
  let foreignRole: string;

  beforeAll(async () => {
    foreignFlag = await createFlag('foreign-flag', outsider.key, foreign.id);
    const role = await t.api('post', '/api/organizations/@current/roles/', outsider.key).send({ name: 'Role of B' });
    expect(role.status).toBe(201);
    foreignRole = role.body.id;
    const cohort = await t.api('post', `/api/projects/${foreign.id}/cohorts/`, outsider.key).send({ name: 'Foreign cohort' });
    expect(cohort.status).toBe(201);
    foreignCohort = cohort.body.id;
  });

  it("a member of organization A cannot read or write organization B's project", async () => {
    const paths = [
      ['get', `/api/projects/${foreign.id}/feature_flags/`],
      ['get', `/api/projects/${foreign.id}/feature_flags/${foreignFlag.id}/`],
      ['patch', `/api/projects/${foreign.id}/feature_flags/${foreignFlag.id}/`],
      ['get', `/api/projects/${foreign.id}/feature_flags/${foreignFlag.id}/activity`],
      ['get', `/api/projects/${foreign.id}/feature_flags/activity`],
      ['get', `/api/projects/${foreign.id}/feature_flags/${foreignFlag.id}/role_access/`],
      ['post', `/api/projects/${foreign.id}/feature_flags/${foreignFlag.id}/role_access/`],
      ['get', `/api/projects/${foreign.id}/cohorts/`],
      ['get', `/api/projects/${foreign.id}/cohorts/${foreignCohort}/`],
      ['patch', `/api/projects/${foreign.id}/cohorts/${foreignCohort}/`],
      ['get', `/api/projects/${foreign.id}/`],
    ] as const;
    for (const key of [ADMIN_KEY, member.key]) {
      for (const [method, path] of paths) {
        const res = await t.api(method, path, key).send(method === 'get' ? undefined : { name: 'hijack', role_id: engRole });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body.detail).toBe("You don't have access to the project.");
      }
    }
    expect(await t.sql('select name from feature_flags where id = $1', [foreignFlag.id])).toEqual([{ name: 'foreign-flag' }]);
    expect(await t.sql('select name from cohorts where id = $1', [foreignCohort])).toEqual([{ name: 'Foreign cohort' }]);
  });

  it("ids of another organization's flags and cohorts are not found through one's own project", async () => {
    const cases = [
      ['get', `${P}/${foreignFlag.id}/`],
      ['patch', `${P}/${foreignFlag.id}/`],
      ['put', `${P}/${foreignFlag.id}/`],
      ['get', `${P}/${foreignFlag.id}/activity`],
      ['get', `${P}/${foreignFlag.id}/remote_config`],
      ['get', `/api/projects/1/cohorts/${foreignCohort}/`],
      ['patch', `/api/projects/1/cohorts/${foreignCohort}/`],
      ['get', `/api/projects/1/cohorts/${foreignCohort}/activity`],
      ['get', `/api/feature_flag/${foreignFlag.id}/`],
      ['patch', `/api/feature_flag/${foreignFlag.id}/`],
    ] as const;
    for (const [method, path] of cases) {
      const res = await t.api(method, path).send(method === 'get' ? undefined : { name: 'hijack', key: 'foreign-flag' });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const status = await t.api('get', `${P}/${foreignFlag.id}/status`);
    expect(status.status).toBe(404);
    const bulk = await t.api('post', `${P}/bulk_keys`).send({ ids: [foreignFlag.id] });
    expect(bulk.body).toEqual({ keys: {} });
    const activity = await t.api('get', `${P}/activity`);
    expect(JSON.stringify(activity.body)).not.toContain('foreign-flag');
    const list = await t.api('get', `${P}/?limit=1000`);
    expect(list.body.results.map((f: { key: string }) => f.key)).not.toContain('foreign-flag');
    const cohorts = await t.api('get', '/api/projects/1/cohorts/');
    expect(JSON.stringify(cohorts.body)).not.toContain('Foreign cohort');
    expect(await t.sql('select name, deleted from feature_flags where id = $1', [foreignFlag.id])).toEqual([{ name: 'foreign-flag', deleted: false }]);
  });

  it("a project token of organization B does not open it to organization A's users", async () => {
    const res = await t.api('get', `/api/projects/@current/feature_flags/?token=${foreign.apiToken}`, member.key);
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe("You don't have access to the project.");
  });

  it('roles and role access of organization B never appear in A', async () => {
    const roles = await t.api('get', '/api/organizations/@current/roles/', member.key);
    expect(roles.body.results.map((r: { name: string }) => r.name)).not.toContain('Role of B');
    const flag = await createFlag('cross-check');
    const share = await t.api('post', `${P}/${flag.id}/role_access/`).send({ role_id: foreignRole });
    expect(share.status).toBe(400);
    expect(await t.sql('select id from feature_flag_role_access where role_id = $1', [foreignRole])).toEqual([]);
  });
});

describe('scoped keys (cases 76, 77)', () => {
  it('case 76: a read-only key reads flags and local evaluation, and nothing else', async () => {
    const reader = await user('reader@example.com', 'member', { scopes: ['feature_flag:read'] });
    expect((await t.api('get', `${P}/`, reader.key)).status).toBe(200);
    const write = await t.api('post', `${P}/`, reader.key).send({ key: 'nope' });
    expect(write.status).toBe(403);
    expect(write.body).toEqual({
      type: 'authentication_error',
      code: 'permission_denied',
      detail: "API key missing required scope 'feature_flag:write'",
      attr: null,
    });
    expect((await t.api('get', `${P}/local_evaluation`, reader.key)).status).toBe(200);
    expect((await t.api('get', `${P}/evaluation_reasons?distinct_id=x`, reader.key)).body.detail).toBe('This action does not support Personal API Key access');
    expect((await t.api('get', `${P}/activity`, reader.key)).body.detail).toBe("API key missing required scope 'activity_log:read'");
    const writer = await user('writer@example.com', 'member', { scopes: ['feature_flag:write', 'activity_log:read'] });
    expect((await t.api('get', `${P}/activity`, writer.key)).status).toBe(200);
    const legacy = await user('legacy@example.com', 'member', { scopes: undefined });
    expect((await t.api('get', `${P}/activity`, legacy.key)).status).toBe(200);
  });

  it('case 77: a key scoped to organization A cannot read organization B, even for a member of both', async () => {
    const scoped = await t.userWithKey({ email: 'both-orgs@example.com', scopes: ['*'], scopedOrganizations: [orgA] });
    await addMember(t.ctx, { email: 'both-orgs@example.com', organizationId: orgB, level: 'member' });
    expect((await t.api('get', `${P}/`, scoped.key)).status).toBe(200);
    const res = await t.api('get', `/api/projects/${foreign.id}/feature_flags/`, scoped.key);
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe(`API key does not have access to the requested organization: ID ${orgB}.`);
    // Unscoped, the same user reads both.
    const unscoped = await createKey(t.ctx, { email: 'both-orgs@example.com', scopes: ['*'] });
    expect((await t.api('get', `/api/projects/${foreign.id}/feature_flags/`, unscoped.value)).status).toBe(200);
  });

  it('case 77: a key scoped to one project cannot read a sibling project of the same organization', async () => {
    const scoped = await t.userWithKey({ email: 'one-project@example.com', scopes: ['*'], scopedTeams: [1] });
    expect((await t.api('get', `${P}/`, scoped.key)).status).toBe(200);
    const res = await t.api('get', `/api/projects/${sibling.id}/feature_flags/`, scoped.key);
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe(`API key does not have access to the requested project: ID ${sibling.id}.`);
    const write = await t.api('post', `/api/projects/${sibling.id}/feature_flags/`, scoped.key).send({ key: 'sneaky' });
    expect(write.status).toBe(403);
    expect(await t.sql("select id from feature_flags where key = 'sneaky'")).toEqual([]);
  });
});

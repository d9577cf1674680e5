// Organization members, roles, role memberships and resource access
// (docs/compatibility.md#api-8.1, README.md#access-control), with owner, admin and member keys in
// two organizations: who reads, who writes, what never crosses.
// Tests that count or change members, roles or resource access do it in an organization of their
// own (newOrg), so they pass in any order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrganization, createProject } from '../../src/access/organizations/admin.ts';

let t: TestApp;
let orgA: string;
let orgB: string;
let admin: { key: string; userId: number };
let member: { key: string; userId: number };
let other: { key: string; userId: number };
let memberUuid: string;
let otherUuid: string;

const ADMIN_403 = { type: 'authentication_error', code: 'permission_denied', detail: 'You need to have admin level or higher.', attr: null };
const GENERIC_403 = { type: 'authentication_error', code: 'permission_denied', detail: 'You do not have permission to perform this action.', attr: null };
const NOT_FOUND = { type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null };

beforeAll(async () => {
  t = await createTestApp();
  orgA = t.boot.organization.id;
  const b = await createOrganization(t.ctx, 'Other org');
  orgB = b.id;
  await createProject(t.ctx, { name: 'Other project', organizationId: orgB });
  admin = await t.userWithKey({ email: 'admin2@example.com', level: 'admin' });
  member = await t.userWithKey({ email: 'member@example.com', level: 'member' });
  other = await t.userWithKey({ email: 'other@example.com', level: 'owner', organizationId: orgB });
  [{ uuid: memberUuid }] = await t.sql<{ uuid: string }>('select uuid from users where id = $1', [member.userId]);
  [{ uuid: otherUuid }] = await t.sql<{ uuid: string }>('select uuid from users where id = $1', [other.userId]);
});
afterAll(async () => {
  await t?.close();
});

type Person = { key: string; userId: number; uuid: string; email: string };
let organizations = 0;

/** A new organization with an admin and a member (and first an owner, when asked). */
async function newOrg(withOwner = false): Promise<{ id: string; admin: Person; member: Person; owner?: Person }> {
  const n = ++organizations;
  const { id } = await createOrganization(t.ctx, `Organization ${n}`);
  const person = async (email: string, level: 'owner' | 'admin' | 'member'): Promise<Person> => {
    const user = await t.userWithKey({ email, level, organizationId: id });
    const [{ uuid }] = await t.sql<{ uuid: string }>('select uuid from users where id = $1', [user.userId]);
    return { ...user, uuid, email };
  };
  const owner = withOwner ? await person(`owner-${n}@example.com`, 'owner') : undefined;
  return { id, owner, admin: await person(`admin-${n}@example.com`, 'admin'), member: await person(`member-${n}@example.com`, 'member') };
}

/** Creates a role in the organization (as its admin); its id. */
async function createRole(org: { admin: Person }, body: Record<string, unknown>): Promise<string> {
  const res = await t.api('post', '/api/organizations/@current/roles/', org.admin.key).send(body);
  expect(res.status).toBe(201);
  return res.body.id;
}

describe('organization members', () => {
  it("lists the members of @current and of the organization by id, in PostHog's shape and order", async () => {
    const org = await newOrg(true);
    const res = await t.api('get', '/api/organizations/@current/members/', org.member.key);
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(3);
    // PostHog orders by level, then newest first.
    expect(res.body.results.map((m: { user: { email: string } }) => m.user.email)).toEqual([org.member.email, org.admin.email, org.owner!.email]);
    expect(res.body.results[0]).toEqual({
      id: expect.any(String),
      user: expect.objectContaining({ id: org.member.userId, uuid: org.member.uuid, email: org.member.email }),
      level: 1,
      joined_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
      is_2fa_enabled: false,
      has_social_auth: false,
      last_login: null,
    });
    const byId = await t.api('get', `/api/organizations/${org.id}/members`, org.member.key);
    expect(byId.body).toEqual(res.body);
    const paged = await t.api('get', `/api/organizations/${org.id}/members/?limit=1&offset=1`, org.member.key);
    expect(paged.body.results).toHaveLength(1);
    expect(paged.body.next).toContain('offset=2');
  });

  it('never lists another organization: 403 for a non-member, 404 for an unknown or malformed id', async () => {
    const res = await t.api('get', `/api/organizations/${orgB}/members/`, member.key);
    expect(res.status).toBe(403);
    expect(res.body).toEqual(GENERIC_403);
    const alone = await t.userWithKey({ email: 'alone@example.com', level: 'owner', organizationId: (await createOrganization(t.ctx, 'Alone')).id });
    expect((await t.api('get', '/api/organizations/@current/members/', alone.key)).body.count).toBe(1);
    for (const id of ['00000000-0000-0000-0000-000000000000', 'not-a-uuid', '1']) {
      const missing = await t.api('get', `/api/organizations/${id}/members/`);
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual(NOT_FOUND);
    }
  });

  it('needs organization_member:read from a scoped key; a project-scoped key cannot use organization routes', async () => {
    const flagsOnly = await t.userWithKey({ email: 'scoped-members@example.com', scopes: ['feature_flag:read'] });
    const denied = await t.api('get', '/api/organizations/@current/members/', flagsOnly.key);
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toBe("API key missing required scope 'organization_member:read'");
    const projectScoped = await t.userWithKey({ email: 'project-scoped-members@example.com', scopes: ['*'], scopedTeams: [1] });
    const res = await t.api('get', '/api/organizations/@current/members/', projectScoped.key);
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe('API keys with scoped projects are only supported on project-based endpoints.');
    const orgScoped = await t.userWithKey({ email: 'org-scoped-members@example.com', scopes: ['organization_member:read'], scopedOrganizations: [orgA] });
    expect((await t.api('get', '/api/organizations/@current/members/', orgScoped.key)).status).toBe(200);
    await addMember(t.ctx, { email: 'org-scoped-members@example.com', organizationId: orgB, level: 'member' });
    const outside = await t.api('get', `/api/organizations/${orgB}/members/`, orgScoped.key);
    expect(outside.status).toBe(403);
    expect(outside.body.detail).toBe(`API key does not have access to the requested organization: ID ${orgB}.`);
  });
});

describe('roles', () => {
  it('only organization admins create; the 403 comes before body validation', async () => {
    const org = await newOrg();
    const denied = await t.api('post', '/api/organizations/@current/roles/', org.member.key).send({ name: 'Product 2' });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual(ADMIN_403);
    expect((await t.api('post', '/api/organizations/@current/roles/', org.member.key).send({})).body).toEqual(ADMIN_403);
    expect(await t.sql('select id from roles where organization_id = $1', [org.id])).toEqual([]);

    const res = await t.api('post', '/api/organizations/@current/roles/', org.admin.key).send({ name: 'Engineering' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Engineering',
      feature_flags_access_level: 37,
      created_at: expect.stringMatching(/Z$/),
      created_by: expect.objectContaining({ id: org.admin.userId, email: org.admin.email }),
      members: [],
      associated_flags: [],
      is_default: false,
    });
  });

  it('names are unique per organization, ignoring case; other organizations may reuse them', async () => {
    const org = await newOrg();
    const elsewhereOrg = await newOrg();
    const roleId = await createRole(org, { name: 'Engineering' });
    const before = await t.sql('select id from roles');
    const dup = await t.api('post', `/api/organizations/${org.id}/roles`, org.admin.key).send({ name: 'engineering' });
    expect(dup.status).toBe(400);
    expect(dup.body).toEqual({ type: 'validation_error', code: 'unique', detail: 'There is already a role with this name.', attr: 'name' });
    expect(await t.sql('select id from roles')).toEqual(before);
    const elsewhere = await t.api('post', '/api/organizations/@current/roles/', elsewhereOrg.admin.key).send({ name: 'Engineering' });
    expect(elsewhere.status).toBe(201);
    // Renaming to its own name (another case) is fine; to another role's name is not.
    expect((await t.api('patch', `/api/organizations/@current/roles/${roleId}/`, org.admin.key).send({ name: 'ENGINEERING' })).status).toBe(200);
    const marketing = await t.api('post', '/api/organizations/@current/roles/', org.admin.key).send({ name: 'Marketing', feature_flags_access_level: 21 });
    expect(marketing.body.feature_flags_access_level).toBe(21);
    const clash = await t.api('patch', `/api/organizations/@current/roles/${marketing.body.id}/`, org.admin.key).send({ name: 'engineering' });
    expect(clash.body).toEqual({ type: 'validation_error', code: 'unique', detail: 'There is already a role with this name.', attr: 'name' });
  });

  it('validates name and level like DRF', async () => {
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{}, { code: 'required', detail: 'This field is required.', attr: 'name' }],
      [{ name: '' }, { code: 'blank', detail: 'This field may not be blank.', attr: 'name' }],
      [{ name: 'x'.repeat(201) }, { code: 'max_length', detail: 'Ensure this field has no more than 200 characters.', attr: 'name' }],
      [
        { name: 'Ok', feature_flags_access_level: 5 },
        { code: 'invalid_choice', detail: '"5" is not a valid choice.', attr: 'feature_flags_access_level' },
      ],
    ];
    for (const [body, error] of cases) {
      const res = await t.api('post', '/api/organizations/@current/roles/', admin.key).send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ type: 'validation_error', ...error });
    }
  });

  it('a new role starts at the organization level for flags unless given one', async () => {
    const org = await newOrg();
    const ra = await t.api('post', '/api/organizations/@current/resource_access/', org.admin.key).send({ resource: 'feature flags', access_level: 21 });
    expect(ra.status).toBe(201);
    const role = await t.api('post', '/api/organizations/@current/roles/', org.admin.key).send({ name: 'Support' });
    expect(role.body.feature_flags_access_level).toBe(21);
    const given = await t.api('post', '/api/organizations/@current/roles/', org.admin.key).send({ name: 'Editors', feature_flags_access_level: 37 });
    expect(given.body.feature_flags_access_level).toBe(37);
  });

  it('members read roles; members cannot update or delete them', async () => {
    const org = await newOrg();
    const roleId = await createRole(org, { name: 'ENGINEERING' });
    await createRole(org, { name: 'Marketing', feature_flags_access_level: 21 });
    const list = await t.api('get', '/api/organizations/@current/roles/', org.member.key);
    expect(list.status).toBe(200);
    expect(list.body.results.map((r: { name: string }) => r.name)).toEqual(['ENGINEERING', 'Marketing']);
    expect((await t.api('get', `/api/organizations/@current/roles/${roleId}/`, org.member.key)).body.name).toBe('ENGINEERING');
    expect((await t.api('patch', `/api/organizations/@current/roles/${roleId}/`, org.member.key).send({ name: 'x' })).body).toEqual(ADMIN_403);
    expect((await t.api('delete', `/api/organizations/@current/roles/${roleId}/`, org.member.key)).body).toEqual(ADMIN_403);
    expect((await t.api('get', `/api/organizations/@current/roles/${roleId}/`, org.admin.key)).body.name).toBe('ENGINEERING');
  });

  it('a role of another organization is not found through this one, for reads and writes', async () => {
    const org = await newOrg();
    const elsewhereOrg = await newOrg();
    const foreign = await createRole(elsewhereOrg, { name: 'Engineering' });
    for (const [method, path] of [
      ['get', `/api/organizations/@current/roles/${foreign}/`],
      ['patch', `/api/organizations/@current/roles/${foreign}/`],
      ['delete', `/api/organizations/@current/roles/${foreign}/`],
      ['get', `/api/organizations/@current/roles/${foreign}/role_memberships/`],
      ['post', `/api/organizations/@current/roles/${foreign}/role_memberships/`],
      ['get', '/api/organizations/@current/roles/not-a-uuid/'],
    ] as const) {
      const res = await t
        .api(method, path, org.admin.key)
        .send(method === 'post' ? { user_uuid: org.member.uuid } : method === 'patch' ? { name: 'Hijacked' } : {});
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body).toEqual(NOT_FOUND);
    }
    // The other organization's admin cannot reach this organization's roles either.
    const res = await t.api('get', `/api/organizations/${org.id}/roles/`, elsewhereOrg.admin.key);
    expect(res.status).toBe(403);
    expect(await t.sql('select name from roles where id = $1', [foreign])).toEqual([{ name: 'Engineering' }]);
  });

  it("role memberships: admins add members of the organization, with PostHog's errors", async () => {
    const org = await newOrg();
    const roleId = await createRole(org, { name: 'Engineering' });
    const denied = await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, org.member.key).send({ user_uuid: org.member.uuid });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual(ADMIN_403);

    const res = await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, org.admin.key).send({ user_uuid: org.member.uuid });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      role_id: roleId,
      user: expect.objectContaining({ uuid: org.member.uuid, email: org.member.email }),
      joined_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
    });
    const again = await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, org.admin.key).send({ user_uuid: org.member.uuid });
    expect(again.body).toEqual({ type: 'validation_error', code: 'invalid_input', detail: 'User is already part of the role.', attr: null });
    // A user of another organization, an unknown user and an inactive user do not exist here.
    for (const uuid of [otherUuid, '00000000-0000-0000-0000-000000000000']) {
      const missing = await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, org.admin.key).send({ user_uuid: uuid });
      expect(missing.body).toEqual({ type: 'validation_error', code: 'invalid_input', detail: 'User does not exist.', attr: null });
    }
    const inactive = await t.userWithKey({ email: `inactive-${org.id}@example.com`, organizationId: org.id });
    await t.sql('update users set is_active = false where id = $1', [inactive.userId]);
    const [{ uuid: inactiveUuid }] = await t.sql<{ uuid: string }>('select uuid from users where id = $1', [inactive.userId]);
    expect(
      (await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, org.admin.key).send({ user_uuid: inactiveUuid })).body.detail,
    ).toBe('User does not exist.');
    const bad = await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, org.admin.key).send({ user_uuid: 'nope' });
    expect(bad.body).toEqual({ type: 'validation_error', code: 'invalid_input', detail: 'Must be a valid UUID.', attr: 'user_uuid' });
    const none = await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, org.admin.key).send({});
    expect(none.body).toEqual({ type: 'validation_error', code: 'required', detail: 'This field is required.', attr: 'user_uuid' });

    const list = await t.api('get', `/api/organizations/@current/roles/${roleId}/role_memberships/`, org.member.key);
    expect(list.body.count).toBe(1);
    expect(list.body.results[0].id).toBe(res.body.id);
    const role = await t.api('get', `/api/organizations/@current/roles/${roleId}/`, org.member.key);
    expect(role.body.members).toEqual([res.body]);
  });

  it('role memberships are removed by admins only; a membership id of another role is not found', async () => {
    const org = await newOrg();
    const roleId = await createRole(org, { name: 'Engineering' });
    const marketingId = await createRole(org, { name: 'Marketing' });
    await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, org.admin.key).send({ user_uuid: org.member.uuid }).expect(201);
    const [{ id: membershipId }] = await t.sql<{ id: string }>('select id from role_memberships where role_id = $1', [roleId]);
    expect((await t.api('delete', `/api/organizations/@current/roles/${roleId}/role_memberships/${membershipId}/`, org.member.key)).body).toEqual(ADMIN_403);
    expect((await t.api('delete', `/api/organizations/@current/roles/${marketingId}/role_memberships/${membershipId}/`, org.admin.key)).status).toBe(404);
    expect((await t.api('delete', `/api/organizations/@current/roles/${roleId}/role_memberships/${membershipId}/`, org.admin.key)).status).toBe(204);
    expect(await t.sql('select id from role_memberships where role_id = $1', [roleId])).toEqual([]);
  });

  it('deleting a role removes its memberships', async () => {
    const role = await t.api('post', '/api/organizations/@current/roles/', admin.key).send({ name: 'Temporary' });
    await t.api('post', `/api/organizations/@current/roles/${role.body.id}/role_memberships/`, admin.key).send({ user_uuid: memberUuid }).expect(201);
    expect((await t.api('delete', `/api/organizations/@current/roles/${role.body.id}/`, admin.key)).status).toBe(204);
    expect(await t.sql('select id from role_memberships where role_id = $1', [role.body.id])).toEqual([]);
    expect((await t.api('get', `/api/organizations/@current/roles/${role.body.id}/`, admin.key)).status).toBe(404);
  });

  it('scoped keys need organization:read / organization:write', async () => {
    const reader = await t.userWithKey({ email: 'org-reader@example.com', level: 'admin', scopes: ['organization:read'] });
    expect((await t.api('get', '/api/organizations/@current/roles/', reader.key)).status).toBe(200);
    const write = await t.api('post', '/api/organizations/@current/roles/', reader.key).send({ name: 'Nope' });
    expect(write.status).toBe(403);
    expect(write.body.detail).toBe("API key missing required scope 'organization:write'");
    const flags = await t.userWithKey({ email: 'flags-only@example.com', level: 'admin', scopes: ['feature_flag:write'] });
    expect((await t.api('get', '/api/organizations/@current/roles/', flags.key)).body.detail).toBe("API key missing required scope 'organization:read'");
  });
});

describe('organization resource access', () => {
  it('admins set it; members read it; 403 for member writes; one row per resource', async () => {
    const org = await newOrg();
    const elsewhereOrg = await newOrg();
    const denied = await t.api('post', '/api/organizations/@current/resource_access/', org.member.key).send({ resource: 'feature flags' });
    expect(denied.body).toEqual(ADMIN_403);
    const res = await t.api('post', '/api/organizations/@current/resource_access/', org.admin.key).send({ resource: 'feature flags' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      resource: 'feature flags',
      access_level: 37,
      organization: org.id,
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
      created_by: org.admin.userId,
    });
    const again = await t.api('post', '/api/organizations/@current/resource_access/', org.admin.key).send({ resource: 'feature flags' });
    expect(again.body).toEqual({ type: 'validation_error', code: 'unique', detail: 'This resource access already exists.', attr: 'resource' });
    const bad = await t.api('post', '/api/organizations/@current/resource_access/', org.admin.key).send({ resource: 'spaceships' });
    expect(bad.body).toEqual({ type: 'validation_error', code: 'invalid_choice', detail: '"spaceships" is not a valid choice.', attr: 'resource' });
    const level = await t.api('post', '/api/organizations/@current/resource_access/', org.admin.key).send({ resource: 'cohorts', access_level: 22 });
    expect(level.body).toEqual({ type: 'validation_error', code: 'invalid_choice', detail: '"22" is not a valid choice.', attr: 'access_level' });
    // Another organization has its own row for the same resource.
    expect(
      (await t.api('post', '/api/organizations/@current/resource_access/', elsewhereOrg.admin.key).send({ resource: 'feature flags', access_level: 21 }))
        .status,
    ).toBe(201);
  });

  it('PATCH changes the level; lists and retrieves stay inside the organization', async () => {
    const org = await newOrg();
    const elsewhereOrg = await newOrg();
    const created = await t.api('post', '/api/organizations/@current/resource_access/', org.admin.key).send({ resource: 'feature flags' });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const foreignRow = await t
      .api('post', '/api/organizations/@current/resource_access/', elsewhereOrg.admin.key)
      .send({ resource: 'feature flags', access_level: 21 });
    expect(foreignRow.status).toBe(201);
    const foreign = foreignRow.body.id;
    expect((await t.api('patch', `/api/organizations/@current/resource_access/${id}/`, org.member.key).send({ access_level: 21 })).body).toEqual(ADMIN_403);
    const res = await t.api('patch', `/api/organizations/@current/resource_access/${id}/`, org.admin.key).send({ access_level: 21 });
    expect(res.status).toBe(200);
    expect(res.body.access_level).toBe(21);
    expect((await t.api('get', `/api/organizations/@current/resource_access/${id}/`, org.member.key)).body.access_level).toBe(21);
    const list = await t.api('get', '/api/organizations/@current/resource_access/', org.member.key);
    expect(list.body.count).toBe(1);
    expect(JSON.stringify(list.body)).not.toContain(elsewhereOrg.id);
    expect((await t.api('get', `/api/organizations/@current/resource_access/${foreign}/`, org.admin.key)).status).toBe(404);
    expect((await t.api('patch', `/api/organizations/@current/resource_access/${foreign}/`, org.admin.key).send({ access_level: 37 })).status).toBe(404);
    expect(await t.sql('select access_level from organization_resource_access where id = $1', [foreign])).toEqual([{ access_level: 21 }]);
  });
});

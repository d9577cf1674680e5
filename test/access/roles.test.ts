// Organization members, roles, role memberships and resource access
// (docs/compatibility.md#api-8.1, README.md#access-control), with owner, admin and member keys in
// two organizations: who reads, who writes, what never crosses.
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

describe('organization members', () => {
  it('lists the members of @current and of the organization by id, in PostHog\'s shape and order', async () => {
    const res = await t.api('get', '/api/organizations/@current/members/', member.key);
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(3);
    // PostHog orders by level, then newest first.
    expect(res.body.results.map((m: { user: { email: string } }) => m.user.email)).toEqual(['member@example.com', 'admin2@example.com', 'admin@example.com']);
    expect(res.body.results[0]).toEqual({
      id: expect.any(String),
      user: expect.objectContaining({ id: member.userId, uuid: memberUuid, email: 'member@example.com' }),
      level: 1,
      joined_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
      is_2fa_enabled: false,
      has_social_auth: false,
      last_login: null,
    });
    const byId = await t.api('get', `/api/organizations/${orgA}/members`, member.key);
    expect(byId.body).toEqual(res.body);
    const paged = await t.api('get', `/api/organizations/${orgA}/members/?limit=1&offset=1`, member.key);
    expect(paged.body.results).toHaveLength(1);
    expect(paged.body.next).toContain('offset=2');
  });

  it('never lists another organization: 403 for a non-member, 404 for an unknown or malformed id', async () => {
    const res = await t.api('get', `/api/organizations/${orgB}/members/`, member.key);
    expect(res.status).toBe(403);
    expect(res.body).toEqual(GENERIC_403);
    expect((await t.api('get', '/api/organizations/@current/members/', other.key)).body.count).toBe(1);
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
  let roleId: string;

  it('only organization admins create; the 403 comes before body validation', async () => {
    const denied = await t.api('post', '/api/organizations/@current/roles/', member.key).send({ name: 'Product 2' });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual(ADMIN_403);
    expect((await t.api('post', '/api/organizations/@current/roles/', member.key).send({})).body).toEqual(ADMIN_403);
    expect(await t.sql('select id from roles')).toEqual([]);

    const res = await t.api('post', '/api/organizations/@current/roles/', admin.key).send({ name: 'Engineering' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Engineering',
      feature_flags_access_level: 37,
      created_at: expect.stringMatching(/Z$/),
      created_by: expect.objectContaining({ id: admin.userId, email: 'admin2@example.com' }),
      members: [],
      associated_flags: [],
    });
    roleId = res.body.id;
  });

  it('names are unique per organization, ignoring case; other organizations may reuse them', async () => {
    const before = await t.sql('select id from roles');
    const dup = await t.api('post', `/api/organizations/${orgA}/roles`, admin.key).send({ name: 'engineering' });
    expect(dup.status).toBe(400);
    expect(dup.body).toEqual({ type: 'validation_error', code: 'unique', detail: 'There is already a role with this name.', attr: 'name' });
    expect(await t.sql('select id from roles')).toEqual(before);
    const elsewhere = await t.api('post', '/api/organizations/@current/roles/', other.key).send({ name: 'Engineering' });
    expect(elsewhere.status).toBe(201);
    // Renaming to its own name (another case) is fine; to another role's name is not.
    expect((await t.api('patch', `/api/organizations/@current/roles/${roleId}/`, admin.key).send({ name: 'ENGINEERING' })).status).toBe(200);
    const marketing = await t.api('post', '/api/organizations/@current/roles/', admin.key).send({ name: 'Marketing', feature_flags_access_level: 21 });
    expect(marketing.body.feature_flags_access_level).toBe(21);
    const clash = await t.api('patch', `/api/organizations/@current/roles/${marketing.body.id}/`, admin.key).send({ name: 'engineering' });
    expect(clash.body).toEqual({ type: 'validation_error', code: 'unique', detail: 'There is already a role with this name.', attr: 'name' });
  });

  it('validates name and level like DRF', async () => {
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{}, { code: 'required', detail: 'This field is required.', attr: 'name' }],
      [{ name: '' }, { code: 'blank', detail: 'This field may not be blank.', attr: 'name' }],
      [{ name: 'x'.repeat(201) }, { code: 'max_length', detail: 'Ensure this field has no more than 200 characters.', attr: 'name' }],
      [{ name: 'Ok', feature_flags_access_level: 5 }, { code: 'invalid_choice', detail: '"5" is not a valid choice.', attr: 'feature_flags_access_level' }],
    ];
    for (const [body, error] of cases) {
      const res = await t.api('post', '/api/organizations/@current/roles/', admin.key).send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ type: 'validation_error', ...error });
    }
  });

  it('a new role starts at the organization level for flags unless given one', async () => {
    const ra = await t.api('post', '/api/organizations/@current/resource_access/', admin.key).send({ resource: 'feature flags', access_level: 21 });
    expect(ra.status).toBe(201);
    const role = await t.api('post', '/api/organizations/@current/roles/', admin.key).send({ name: 'Support' });
    expect(role.body.feature_flags_access_level).toBe(21);
    await t.api('delete', `/api/organizations/@current/resource_access/${ra.body.id}/`, admin.key).expect(204);
    await t.api('delete', `/api/organizations/@current/roles/${role.body.id}/`, admin.key).expect(204);
  });

  it('members read roles; members cannot update or delete them', async () => {
    const list = await t.api('get', '/api/organizations/@current/roles/', member.key);
    expect(list.status).toBe(200);
    expect(list.body.results.map((r: { name: string }) => r.name)).toEqual(['ENGINEERING', 'Marketing']);
    expect((await t.api('get', `/api/organizations/@current/roles/${roleId}/`, member.key)).body.name).toBe('ENGINEERING');
    expect((await t.api('patch', `/api/organizations/@current/roles/${roleId}/`, member.key).send({ name: 'x' })).body).toEqual(ADMIN_403);
    expect((await t.api('delete', `/api/organizations/@current/roles/${roleId}/`, member.key)).body).toEqual(ADMIN_403);
    expect((await t.api('get', `/api/organizations/@current/roles/${roleId}/`, admin.key)).body.name).toBe('ENGINEERING');
  });

  it('a role of another organization is not found through this one, for reads and writes', async () => {
    const [{ id: foreign }] = await t.sql<{ id: string }>('select id from roles where organization_id = $1', [orgB]);
    for (const [method, path] of [
      ['get', `/api/organizations/@current/roles/${foreign}/`],
      ['patch', `/api/organizations/@current/roles/${foreign}/`],
      ['delete', `/api/organizations/@current/roles/${foreign}/`],
      ['get', `/api/organizations/@current/roles/${foreign}/role_memberships/`],
      ['post', `/api/organizations/@current/roles/${foreign}/role_memberships/`],
      ['get', '/api/organizations/@current/roles/not-a-uuid/'],
    ] as const) {
      const res = await t.api(method, path, admin.key).send(method === 'post' ? { user_uuid: memberUuid } : method === 'patch' ? { name: 'Hijacked' } : {});
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body).toEqual(NOT_FOUND);
    }
    // The other organization's owner cannot reach this organization's roles either.
    const res = await t.api('get', `/api/organizations/${orgA}/roles/`, other.key);
    expect(res.status).toBe(403);
    expect(await t.sql('select name from roles where id = $1', [foreign])).toEqual([{ name: 'Engineering' }]);
  });

  it('role memberships: admins add members of the organization, with PostHog\'s errors', async () => {
    const denied = await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, member.key).send({ user_uuid: memberUuid });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual(ADMIN_403);

    const res = await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, admin.key).send({ user_uuid: memberUuid });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      role_id: roleId,
      user: expect.objectContaining({ uuid: memberUuid, email: 'member@example.com' }),
      joined_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
    });
    const again = await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, admin.key).send({ user_uuid: memberUuid });
    expect(again.body).toEqual({ type: 'validation_error', code: 'invalid_input', detail: 'User is already part of the role.', attr: null });
    // A user of another organization, an unknown user and an inactive user do not exist here.
    for (const uuid of [otherUuid, '00000000-0000-0000-0000-000000000000']) {
      const missing = await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, admin.key).send({ user_uuid: uuid });
      expect(missing.body).toEqual({ type: 'validation_error', code: 'invalid_input', detail: 'User does not exist.', attr: null });
    }
    const inactive = await t.userWithKey({ email: 'inactive@example.com' });
    await t.sql('update users set is_active = false where id = $1', [inactive.userId]);
    const [{ uuid: inactiveUuid }] = await t.sql<{ uuid: string }>('select uuid from users where id = $1', [inactive.userId]);
    expect((await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, admin.key).send({ user_uuid: inactiveUuid })).body.detail).toBe('User does not exist.');
    const bad = await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, admin.key).send({ user_uuid: 'nope' });
    expect(bad.body).toEqual({ type: 'validation_error', code: 'invalid_input', detail: 'Must be a valid UUID.', attr: 'user_uuid' });
    const none = await t.api('post', `/api/organizations/@current/roles/${roleId}/role_memberships/`, admin.key).send({});
    expect(none.body).toEqual({ type: 'validation_error', code: 'required', detail: 'This field is required.', attr: 'user_uuid' });

    const list = await t.api('get', `/api/organizations/@current/roles/${roleId}/role_memberships/`, member.key);
    expect(list.body.count).toBe(1);
    expect(list.body.results[0].id).toBe(res.body.id);
    const role = await t.api('get', `/api/organizations/@current/roles/${roleId}/`, member.key);
    expect(role.body.members).toEqual([res.body]);
  });

  it('role memberships are removed by admins only; a membership id of another role is not found', async () => {
    const [{ id: marketingId }] = await t.sql<{ id: string }>("select id from roles where name = 'Marketing'");
    const [{ id: membershipId }] = await t.sql<{ id: string }>('select id from role_memberships where role_id = $1', [roleId]);
    expect((await t.api('delete', `/api/organizations/@current/roles/${roleId}/role_memberships/${membershipId}/`, member.key)).body).toEqual(ADMIN_403);
    expect((await t.api('delete', `/api/organizations/@current/roles/${marketingId}/role_memberships/${membershipId}/`, admin.key)).status).toBe(404);
    expect((await t.api('delete', `/api/organizations/@current/roles/${roleId}/role_memberships/${membershipId}/`, admin.key)).status).toBe(204);
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
  let id: number;

  it('admins set it; members read it; 403 for member writes; one row per resource', async () => {
    const denied = await t.api('post', '/api/organizations/@current/resource_access/', member.key).send({ resource: 'feature flags' });
    expect(denied.body).toEqual(ADMIN_403);
    const res = await t.api('post', '/api/organizations/@current/resource_access/', admin.key).send({ resource: 'feature flags' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      resource: 'feature flags',
      access_level: 37,
      organization: orgA,
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
      created_by: admin.userId,
    });
    id = res.body.id;
    const again = await t.api('post', '/api/organizations/@current/resource_access/', admin.key).send({ resource: 'feature flags' });
    expect(again.body).toEqual({ type: 'validation_error', code: 'unique', detail: 'This resource access already exists.', attr: 'resource' });
    const bad = await t.api('post', '/api/organizations/@current/resource_access/', admin.key).send({ resource: 'spaceships' });
    expect(bad.body).toEqual({ type: 'validation_error', code: 'invalid_choice', detail: '"spaceships" is not a valid choice.', attr: 'resource' });
    const level = await t.api('post', '/api/organizations/@current/resource_access/', admin.key).send({ resource: 'cohorts', access_level: 22 });
    expect(level.body).toEqual({ type: 'validation_error', code: 'invalid_choice', detail: '"22" is not a valid choice.', attr: 'access_level' });
    // Another organization has its own row for the same resource.
    expect((await t.api('post', '/api/organizations/@current/resource_access/', other.key).send({ resource: 'feature flags', access_level: 21 })).status).toBe(201);
  });

  it('PATCH changes the level; lists and retrieves stay inside the organization', async () => {
    expect((await t.api('patch', `/api/organizations/@current/resource_access/${id}/`, member.key).send({ access_level: 21 })).body).toEqual(ADMIN_403);
    const res = await t.api('patch', `/api/organizations/@current/resource_access/${id}/`, admin.key).send({ access_level: 21 });
    expect(res.status).toBe(200);
    expect(res.body.access_level).toBe(21);
    expect((await t.api('get', `/api/organizations/@current/resource_access/${id}/`, member.key)).body.access_level).toBe(21);
    const list = await t.api('get', '/api/organizations/@current/resource_access/', member.key);
    expect(list.body.count).toBe(1);
    expect(JSON.stringify(list.body)).not.toContain(orgB);
    const [{ id: foreign }] = await t.sql<{ id: number }>('select id from organization_resource_access where organization_id = $1', [orgB]);
    expect((await t.api('get', `/api/organizations/@current/resource_access/${foreign}/`, admin.key)).status).toBe(404);
    expect((await t.api('patch', `/api/organizations/@current/resource_access/${foreign}/`, admin.key).send({ access_level: 37 })).status).toBe(404);
    expect(await t.sql('select access_level from organization_resource_access where id = $1', [foreign])).toEqual([{ access_level: 21 }]);
  });
});

// Changing members' levels and removing members (docs/compatibility.md#api-8.3): PostHog's rules
// and messages, the last owner kept, roles left with the organization, and scopes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, SECRET_TOKEN, createTestApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrganization } from '../../src/access/organizations/admin.ts';
import { MEMBER_MESSAGES } from '../../src/access/organizations/members.ts';
import type { MembershipLevelName } from '../../src/access/organizations/users-repository.ts';

let t: TestApp;
const denied = (detail: string) => ({ type: 'authentication_error', code: 'permission_denied', detail, attr: null });

/** An organization of its own per test: a key for each wanted level, and the users' uuids. */
async function organizationWith(levels: MembershipLevelName[]) {
  const org = await createOrganization(t.ctx, `Org ${Math.random()}`);
  const people: Array<{ key: string; uuid: string; email: string }> = [];
  for (const [i, level] of levels.entries()) {
    const email = `${level}-${i}-${org.id.slice(0, 8)}@example.com`;
    const { key, userId } = await t.userWithKey({ email, level, organizationId: org.id });
    const [row] = await t.sql<{ uuid: string }>('select uuid from users where id = $1', [userId]);
    people.push({ key, uuid: row.uuid, email });
  }
  const path = (uuid: string) => `/api/organizations/${org.id}/members/${uuid}/`;
  const levelOf = async (uuid: string) =>
    (
      await t.sql<{ level: number }>(
        'select m.level from organization_memberships m join users u on u.id = m.user_id where u.uuid = $1 and m.organization_id = $2',
        [uuid, org.id],
      )
    )[0]?.level;
  return { org, people, path, levelOf };
}

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('PATCH /api/organizations/:id/members/:user_uuid/', () => {
  it('an admin makes a member admin and back; the answer is the membership', async () => {
    const { people, path, levelOf } = await organizationWith(['admin', 'member']);
    const [admin, member] = people;
    const res = await t.api('patch', path(member.uuid), admin.key).send({ level: 8 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ level: 8, user: { uuid: member.uuid, email: member.email } });
    expect(await levelOf(member.uuid)).toBe(8);
    expect((await t.api('patch', path(member.uuid), admin.key).send({ level: 1 })).body.level).toBe(1);
  });

  it("PostHog's refusals, in PostHog's order, with nothing written", async () => {
    const { people, path, levelOf } = await organizationWith(['owner', 'admin', 'member', 'member']);
    const [owner, admin, member, other] = people;
    expect((await t.api('patch', path(admin.uuid), admin.key).send({ level: 1 })).body).toEqual(denied(MEMBER_MESSAGES.ownLevel));
    expect((await t.api('patch', path(member.uuid), admin.key).send({ level: 15 })).body).toEqual(denied(MEMBER_MESSAGES.makeOwner));
    expect((await t.api('patch', path(other.uuid), member.key).send({ level: 8 })).body).toEqual(denied(MEMBER_MESSAGES.aboveOwn));
    expect((await t.api('patch', path(other.uuid), member.key).send({ level: 1 })).body).toEqual(denied(MEMBER_MESSAGES.notAdmin));
    expect((await t.api('patch', path(owner.uuid), admin.key).send({ level: 1 })).body).toEqual(denied(MEMBER_MESSAGES.higherMember));
    expect((await t.api('patch', path(member.uuid), admin.key).send({ level: 3 })).body).toEqual({
      type: 'validation_error',
      code: 'invalid_choice',
      detail: '"3" is not a valid choice.',
      attr: 'level',
    });
    expect((await t.api('patch', path(member.uuid), admin.key).send({ level: 'x' })).status).toBe(400);
    expect([await levelOf(owner.uuid), await levelOf(admin.uuid), await levelOf(member.uuid), await levelOf(other.uuid)]).toEqual([15, 8, 1, 1]);
  });

  it('an owner makes another owner, who may then demote the first; an organization keeps one owner', async () => {
    const { people, path, levelOf } = await organizationWith(['owner', 'admin']);
    const [first, second] = people;
    expect((await t.api('patch', path(second.uuid), first.key).send({ level: 15 })).status).toBe(200);
    expect((await t.api('patch', path(first.uuid), second.key).send({ level: 8 })).status).toBe(200);
    expect([await levelOf(first.uuid), await levelOf(second.uuid)]).toEqual([8, 15]);
    // The remaining owner cannot demote themselves (own level), nor leave.
    expect((await t.api('patch', path(second.uuid), second.key).send({ level: 8 })).body).toEqual(denied(MEMBER_MESSAGES.ownLevel));
    const leave = await t.api('delete', path(second.uuid), second.key);
    expect(leave.status).toBe(400);
    expect(leave.body).toEqual({ type: 'validation_error', code: 'invalid_input', detail: MEMBER_MESSAGES.lastOwner, attr: null });
    expect(await levelOf(second.uuid)).toBe(15);
  });

  it('unknown or malformed uuids and members of other organizations: 404', async () => {
    const { people, path } = await organizationWith(['admin']);
    const stranger = await organizationWith(['member']);
    expect((await t.api('patch', path(stranger.people[0].uuid), people[0].key).send({ level: 8 })).status).toBe(404);
    expect((await t.api('patch', path('00000000-0000-0000-0000-000000000000'), people[0].key).send({ level: 8 })).status).toBe(404);
    expect((await t.api('patch', path('not-a-uuid'), people[0].key).send({ level: 8 })).status).toBe(404);
  });

  it('needs organization_member:write; a secret token is refused', async () => {
    const { org, people, path } = await organizationWith(['member']);
    const reader = await t.userWithKey({ email: `reader-${org.id}@example.com`, level: 'admin', organizationId: org.id, scopes: ['organization_member:read'] });
    expect((await t.api('patch', path(people[0].uuid), reader.key).send({ level: 8 })).body).toEqual(
      denied("API key missing required scope 'organization_member:write'"),
    );
    expect((await t.api('delete', path(people[0].uuid), reader.key)).status).toBe(403);
    expect((await t.api('patch', path(people[0].uuid), SECRET_TOKEN).send({ level: 8 })).status).toBe(403);
  });
});

describe('DELETE /api/organizations/:id/members/:user_uuid/', () => {
  it('an admin removes a member: the membership, their roles here and their access go', async () => {
    const { org, people, path } = await organizationWith(['admin', 'member']);
    const [admin, member] = people;
    const role = await t.api('post', `/api/organizations/${org.id}/roles/`, admin.key).send({ name: 'Editors' });
    expect(role.status).toBe(201);
    expect(
      (await t.api('post', `/api/organizations/${org.id}/roles/${role.body.id}/role_memberships/`, admin.key).send({ user_uuid: member.uuid })).status,
    ).toBe(201);
    expect((await t.api('get', `/api/organizations/${org.id}/members/`, member.key)).status).toBe(200);
    expect((await t.api('delete', path(member.uuid), admin.key)).status).toBe(204);
    expect((await t.api('get', `/api/organizations/${org.id}/members/`, member.key)).status).toBe(403);
    const roleNow = await t.api('get', `/api/organizations/${org.id}/roles/${role.body.id}/`, admin.key);
    expect(roleNow.body.members).toEqual([]);
    expect((await t.api('delete', path(member.uuid), admin.key)).status).toBe(404);
  });

  it('a member may leave, but not remove others; an admin cannot remove an owner', async () => {
    const { org, people, path } = await organizationWith(['owner', 'admin', 'member', 'member']);
    const [owner, admin, member, other] = people;
    expect((await t.api('delete', path(other.uuid), member.key)).body).toEqual(denied(MEMBER_MESSAGES.notAdmin));
    expect((await t.api('delete', path(owner.uuid), admin.key)).body).toEqual(denied(MEMBER_MESSAGES.higherMember));
    expect((await t.api('delete', path(member.uuid), member.key)).status).toBe(204);
    const members = await t.api('get', `/api/organizations/${org.id}/members/`, owner.key);
    expect(members.body.results.map((m: { user: { uuid: string } }) => m.user.uuid).sort()).toEqual([owner.uuid, admin.uuid, other.uuid].sort());
  });

  it('a user removed from their current organization falls back to another one', async () => {
    const { org, people, path } = await organizationWith(['owner']);
    const { key, userId } = await t.userWithKey({ email: `two-orgs-${org.id}@example.com`, level: 'member' });
    const [user] = await t.sql<{ uuid: string; email: string }>('select uuid, email from users where id = $1', [userId]);
    await addMember(t.ctx, { email: user.email, organizationId: org.id, level: 'member' });
    await t.sql('update users set current_organization_id = $1 where id = $2', [org.id, userId]);
    expect((await t.api('delete', path(user.uuid), people[0].key)).status).toBe(204);
    const me = await t.api('get', '/api/users/@me/', key);
    expect(me.status).toBe(200);
    expect(me.body.organization.id).not.toBe(org.id);
    expect((await t.api('get', '/api/organizations/@current/members/', ADMIN_KEY)).status).toBe(200);
  });
});

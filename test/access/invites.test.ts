// Invitations: an admin invites an email at a level, the invitee checks the invite, sets a password
// through it and is signed in (201, cookies); members may not invite; invites are used once and
// expire after 3 days (injected clock); someone signed in as the invited email joins with it.
// Each test makes the users and organizations it needs: they pass in any order.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { ADMIN_EMAIL, createTestApp, type TestApp } from '../helpers/app.ts';
import { asConsole, cookiesOf, signIn, userWithPassword } from '../helpers/session.ts';
import { setPasswordByEmail } from '../../src/access/sign-in/accounts.ts';
import { createOrganization } from '../../src/access/organizations/admin.ts';

const ADMIN_PASSWORD = 'admin-password-1';
const INVITES = '/api/organizations/@current/invites/';
const START = Date.parse('2032-03-01T00:00:00Z');
let clock = START;
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ now: () => new Date(clock) });
  await setPasswordByEmail(t.ctx, ADMIN_EMAIL, ADMIN_PASSWORD);
  await userWithPassword(t, 'member@example.com', 'member-password-1', 'member');
});
afterAll(async () => {
  await t?.close();
});
beforeEach(() => {
  clock = START;
});

describe('invitations', () => {
  it('an admin invites; the invitee checks the invite, signs up with a password and is signed in at that level', async () => {
    const admin = await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const created = await asConsole(t, admin, 'post', INVITES).send({ target_email: 'new.person@Example.COM', level: 8, first_name: 'New' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      target_email: 'new.person@example.com',
      first_name: 'New',
      level: 8,
      is_expired: false,
      emailing_attempt_made: false,
      message: null,
      created_by: { email: ADMIN_EMAIL },
    });
    expect(Object.keys(created.body).sort()).toEqual([
      'created_at',
      'created_by',
      'emailing_attempt_made',
      'first_name',
      'id',
      'is_expired',
      'level',
      'message',
      'private_project_access',
      'target_email',
      'updated_at',
    ]);
    const list = await asConsole(t, admin, 'get', INVITES);
    expect(list.body.results.map((i: { id: string }) => i.id)).toContain(created.body.id);

    const page = await supertest(t.app.server).get(`/api/signup/${created.body.id}/`);
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ id: created.body.id, target_email: 'new.person@example.com', first_name: 'New', organization_name: 'Default' });

    const noPassword = await supertest(t.app.server).post(`/api/signup/${created.body.id}/`).send({ first_name: 'New' });
    expect(noPassword.body).toEqual({ type: 'validation_error', code: 'required', detail: 'This field is required.', attr: 'password' });
    const signup = await supertest(t.app.server).post(`/api/signup/${created.body.id}/`).send({ first_name: 'Newt', password: 'invitee-password-1' });
    expect(signup.status).toBe(201);
    expect(signup.body).toMatchObject({ email: 'new.person@example.com', first_name: 'Newt', redirect_url: '/' });
    const jar = cookiesOf(signup.headers['set-cookie'] as unknown as string[]);
    const me = await supertest(t.app.server).get('/api/users/@me/').set('Cookie', `sessionid=${jar.sessionid}`);
    expect(me.body.email).toBe('new.person@example.com');
    expect(me.body.organization.membership_level).toBe(8);
    // The invite is used up; the password works.
    const again = await supertest(t.app.server).post(`/api/signup/${created.body.id}/`).send({ first_name: 'X', password: 'another-password-1' });
    expect(again.body).toEqual({ type: 'validation_error', code: 'invalid_input', detail: 'The provided invite ID is not valid.', attr: null });
    expect((await asConsole(t, admin, 'get', INVITES)).body.results.map((i: { id: string }) => i.id)).not.toContain(created.body.id);
    await signIn(t, 'new.person@example.com', 'invitee-password-1');
  });

  it('members cannot invite or revoke, and nobody invites above their own level', async () => {
    const member = await signIn(t, 'member@example.com', 'member-password-1');
    const denied = await asConsole(t, member, 'post', INVITES).send({ target_email: 'x@example.com' });
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toBe('You need to have admin level or higher.');
    expect((await asConsole(t, member, 'get', INVITES)).status).toBe(200);
    await userWithPassword(t, 'admin8@example.com', 'admin8-password-1', 'admin');
    const admin = await signIn(t, 'admin8@example.com', 'admin8-password-1'); // an admin (8)
    const higher = await asConsole(t, admin, 'post', INVITES).send({ target_email: 'owner2@example.com', level: 15 });
    expect(higher.status).toBe(403);
    expect(higher.body.detail).toBe('You cannot invite a user with a higher permission level than your own.');
    const badLevel = await asConsole(t, admin, 'post', INVITES).send({ target_email: 'x@example.com', level: 3 });
    expect(badLevel.body).toEqual({ type: 'validation_error', code: 'invalid_choice', detail: '"3" is not a valid choice.', attr: 'level' });
    const existing = await asConsole(t, admin, 'post', INVITES).send({ target_email: 'member@example.com' });
    expect(existing.body).toEqual({
      type: 'validation_error',
      code: 'invalid_input',
      detail: 'A user with this email address already belongs to the organization.',
      attr: null,
    });
    // With a personal API key the same rules apply.
    const byKey = await t.api('post', INVITES).send({ target_email: 'by-key@example.com' });
    expect(byKey.status).toBe(201);
    const revoke = await asConsole(t, member, 'delete', `${INVITES}${byKey.body.id}/`);
    expect(revoke.status).toBe(403);
    expect((await t.api('delete', `${INVITES}${byKey.body.id}/`)).status).toBe(204);
    expect((await supertest(t.app.server).get(`/api/signup/${byKey.body.id}/`)).status).toBe(400);
  });

  it('an invite expires after 3 days', async () => {
    const created = await t.api('post', INVITES).send({ target_email: 'late@example.com' });
    clock += 3 * 24 * 3_600_000 + 60_000;
    const page = await supertest(t.app.server).get(`/api/signup/${created.body.id}/`);
    expect(page.status).toBe(400);
    expect(page.body).toEqual({
      type: 'validation_error',
      code: 'expired',
      detail: 'This invite has expired. Please ask your admin for a new one.',
      attr: null,
    });
    expect((await t.api('get', INVITES)).body.results.find((i: { id: string }) => i.id === created.body.id).is_expired).toBe(true);
    expect((await supertest(t.app.server).post(`/api/signup/${created.body.id}/`).send({ first_name: 'L', password: 'late-password-1' })).status).toBe(400);
  });

  it('someone signed in as the invited email joins another organization with the invite', async () => {
    await userWithPassword(t, 'joiner@example.com', 'joiner-password-1', 'member');
    await userWithPassword(t, 'bystander@example.com', 'bystander-password-1', 'member');
    const other = await createOrganization(t.ctx, 'Other Org');
    const key = await t.api('post', `/api/organizations/${other.id}/invites/`).send({ target_email: 'joiner@example.com' });
    // The admin is not in Other Org.
    expect(key.status).toBe(403);
    await t.sql('insert into organization_memberships (organization_id, user_id, level) select $1, id, 15 from users where email = $2', [
      other.id,
      ADMIN_EMAIL,
    ]);
    t.app.services.authenticator.clear();
    const invite = await t.api('post', `/api/organizations/${other.id}/invites/`).send({ target_email: 'joiner@example.com' });
    expect(invite.status).toBe(201);
    const wrongPerson = await signIn(t, 'bystander@example.com', 'bystander-password-1');
    const mismatch = await asConsole(t, wrongPerson, 'get', `/api/signup/${invite.body.id}/`);
    expect(mismatch.body).toMatchObject({ code: 'invalid_recipient', detail: 'This invite is intended for another email address.' });
    const member = await signIn(t, 'joiner@example.com', 'joiner-password-1');
    const joined = await asConsole(t, member, 'post', `/api/signup/${invite.body.id}/`).send({});
    expect(joined.status).toBe(201);
    expect(joined.headers['set-cookie']).toBeUndefined();
    const me = await asConsole(t, member, 'get', '/api/users/@me/');
    expect(me.body.organizations.map((o: { name: string }) => o.name).sort()).toEqual(['Default', 'Other Org']);
  });

  it('a new person cannot take over an existing account through an invite', async () => {
    await userWithPassword(t, 'existing@example.com', 'existing-password-1', 'member');
    const other = await createOrganization(t.ctx, 'Takeover Org');
    await t.sql('insert into organization_memberships (organization_id, user_id, level) select $1, id, 15 from users where email = $2', [
      other.id,
      ADMIN_EMAIL,
    ]);
    t.app.services.authenticator.clear();
    const invite = await t.api('post', `/api/organizations/${other.id}/invites/`).send({ target_email: 'existing@example.com' });
    expect(invite.status).toBe(201);
    const res = await supertest(t.app.server).post(`/api/signup/${invite.body.id}/`).send({ first_name: 'Evil', password: 'attacker-password' });
    expect(res.status).toBe(400);
    expect(res.body.detail).toBe('There already exists an account with email address existing@example.com. Please log in instead.');
    expect((await t.http.post('/api/login').send({ email: 'existing@example.com', password: 'attacker-password' })).status).toBe(400);
  });
});

describe('POST /api/organizations/:id/invites/bulk/', () => {
  const BULK = `${INVITES}bulk/`;
  const pending = async (emails: string[]) =>
    (await t.sql<{ target_email: string }>('select target_email from organization_invites where target_email = any($1)', [emails]))
      .map((r) => r.target_email)
      .sort();

  it('creates every invite (201, a list), or none when one is refused', async () => {
    const res = await t.api('post', BULK).send([
      { target_email: 'bulk-a@example.com', level: 8 },
      { target_email: 'bulk-b@example.com', first_name: 'Bea' },
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.map((i: { target_email: string; level: number }) => [i.target_email, i.level])).toEqual([
      ['bulk-a@example.com', 8],
      ['bulk-b@example.com', 1],
    ]);
    // The second is already a member: nothing of this request is kept.
    const refused = await t.api('post', BULK).send([{ target_email: 'bulk-c@example.com' }, { target_email: 'member@example.com' }]);
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toBe('A user with this email address already belongs to the organization.');
    expect(await pending(['bulk-a@example.com', 'bulk-b@example.com', 'bulk-c@example.com'])).toEqual(['bulk-a@example.com', 'bulk-b@example.com']);
  });

  it("PostHog's refusals: not a list, more than 20, a bad item, a member's key", async () => {
    expect((await t.api('post', BULK).send({ target_email: 'x@example.com' })).body).toEqual({
      type: 'validation_error',
      code: 'invalid_input',
      detail: 'This endpoint needs an array of data for bulk invite creation.',
      attr: null,
    });
    const many = Array.from({ length: 21 }, (_, i) => ({ target_email: `many-${i}@example.com` }));
    expect((await t.api('post', BULK).send(many)).body.detail).toBe('A maximum of 20 invites can be sent in a single request.');
    const bad = await t.api('post', BULK).send([{ target_email: 'fine@example.com' }, { target_email: 'not-an-email' }]);
    expect(bad.status).toBe(400);
    expect(bad.body.attr).toBe('1__target_email');
    expect(await pending(['fine@example.com', 'many-0@example.com'])).toEqual([]);
    const { key } = await t.userWithKey({ email: 'bulk-member@example.com', level: 'member' });
    expect((await t.api('post', BULK, key).send([{ target_email: 'y@example.com' }])).status).toBe(403);
  });
});

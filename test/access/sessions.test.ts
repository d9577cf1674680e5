// Signing in to the console: login and logout, cookies, the same answer for an unknown email and a
// wrong password, sessions on every kind of route with the user's own permissions, CSRF, password
// changes ending other sessions, and (PostgreSQL) logout seen by a second instance at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { ADMIN_EMAIL, createTestApp, type TestApp } from '../helpers/app.ts';
import { createPeerApp, type PeerApp } from '../helpers/sdk.ts';
import { asConsole, cookiesOf, signIn, userWithPassword } from '../helpers/session.ts';
import { setPasswordByEmail } from '../../src/access/sign-in/accounts.ts';
import { createKey } from '../../src/access/organizations/admin.ts';

const POSTGRES = Boolean(process.env.DATABASE_URL);
const ADMIN_PASSWORD = 'admin-password-1';
const MEMBER_PASSWORD = 'member-password-1';
const P = '/api/projects/1/feature_flags';
const INVALID = { type: 'validation_error', code: 'invalid_credentials', detail: 'Invalid email or password.', attr: null };
const csrf = (detail: string) => ({ type: 'authentication_error', code: 'permission_denied', detail: `CSRF Failed: ${detail}`, attr: null });

let t: TestApp;
let peer: PeerApp | undefined;

beforeAll(async () => {
  t = await createTestApp();
  await setPasswordByEmail(t.ctx, ADMIN_EMAIL, ADMIN_PASSWORD);
  await userWithPassword(t, 'member@example.com', MEMBER_PASSWORD, 'member');
  if (POSTGRES) peer = await createPeerApp(t);
});
afterAll(async () => {
  await peer?.close();
  await t?.close();
});

describe('login and logout', () => {
  it('POST /api/login answers {"success": true} and sets an httpOnly session cookie and a readable CSRF cookie', async () => {
    const res = await t.http.post('/api/login').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true });
    const lines = [res.headers['set-cookie']].flat() as string[];
    const session = lines.find((l) => l.startsWith('sessionid='))!;
    const csrftoken = lines.find((l) => l.startsWith('csrftoken='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Lax/);
    expect(session).toMatch(/; Path=\//);
    expect(session).not.toMatch(/Secure/);
    expect(csrftoken).not.toMatch(/HttpOnly/);
    expect(csrftoken).toMatch(/; SameSite=Lax/);
    const jar = cookiesOf(lines);
    expect(jar.sessionid.length).toBeGreaterThanOrEqual(40);
    // Stored only as a hash.
    const rows = await t.sql<{ token_hash: string }>('select token_hash from sessions');
    expect(rows.some((r) => r.token_hash.includes(jar.sessionid))).toBe(false);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('the session cookie authenticates /api/users/@me/; without it the answer is 401', async () => {
    const s = await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const me = await supertest(t.app.server).get('/api/users/@me/').set('Cookie', s.cookie);
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(ADMIN_EMAIL);
    expect(me.body.has_password).toBe(true);
    const anonymous = await supertest(t.app.server).get('/api/users/@me/');
    expect(anonymous.status).toBe(401);
    const forged = await supertest(t.app.server).get('/api/users/@me/').set('Cookie', 'sessionid=not-a-session');
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe('not_authenticated');
  });

  it('the cookies are Secure when the request came over https (behind a proxy)', async () => {
    const res = await t.http.post('/api/login').set('X-Forwarded-Proto', 'https').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    expect(res.status).toBe(200);
    for (const line of [res.headers['set-cookie']].flat() as string[]) expect(line).toMatch(/; Secure/);
  });

  it('an unknown email, a wrong password and a user without a password get the same answer', async () => {
    await userWithPassword(t, 'nopassword@example.com', 'placeholder-pass', 'member');
    await t.sql("update users set password_hash = null where email = 'nopassword@example.com'");
    const answers = await Promise.all([
      t.http.post('/api/login').send({ email: 'nobody@example.com', password: 'whatever-1' }),
      t.http.post('/api/login').send({ email: ADMIN_EMAIL, password: 'wrong-password' }),
      t.http.post('/api/login').send({ email: 'nopassword@example.com', password: 'placeholder-pass' }),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual(INVALID);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('malformed bodies get DRF-style 400s', async () => {
    const missing = await t.http.post('/api/login').send({ email: ADMIN_EMAIL });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ code: 'required', attr: 'password' });
    const bad = await t.http.post('/api/login').send({ email: 'not-an-email', password: 'x' });
    expect(bad.body).toEqual({ type: 'validation_error', code: 'invalid', detail: 'Enter a valid email address.', attr: 'email' });
  });

  it('POST /api/logout ends the session (its row is deleted) and clears both cookies', async () => {
    const s = await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const before = (await t.sql('select id from sessions')).length;
    const out = await asConsole(t, s, 'post', '/api/logout/');
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ success: true });
    const cleared = [out.headers['set-cookie']].flat() as string[];
    expect(cleared.find((l) => l.startsWith('sessionid=;'))).toMatch(/Max-Age=0/);
    expect(cleared.find((l) => l.startsWith('csrftoken=;'))).toMatch(/Max-Age=0/);
    expect((await t.sql('select id from sessions')).length).toBe(before - 1);
    const after = await supertest(t.app.server).get('/api/users/@me/').set('Cookie', s.cookie);
    expect(after.status).toBe(401);
  });

  it('logout needs the CSRF token like any other write', async () => {
    const s = await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const res = await supertest(t.app.server).post('/api/logout/').set('Cookie', s.cookie).set('Origin', t.baseUrl);
    expect(res.status).toBe(403);
    expect(res.body).toEqual(csrf('CSRF token missing.'));
    expect((await supertest(t.app.server).get('/api/users/@me/').set('Cookie', s.cookie)).status).toBe(200);
  });
});

describe("a session works on every kind of route, with the user's permissions", () => {
  it('project routes: list and create flags (created_by is the user)', async () => {
    const s = await signIn(t, 'member@example.com', MEMBER_PASSWORD);
    const created = await asConsole(t, s, 'post', `${P}/`).send({ key: 'made-in-console', filters: { groups: [{ rollout_percentage: 50 }] } });
    expect(created.status).toBe(201);
    expect(created.body.created_by.email).toBe('member@example.com');
    const list = await asConsole(t, s, 'get', `${P}/?search=made-in-console`);
    expect(list.body.results.map((f: { key: string }) => f.key)).toEqual(['made-in-console']);
    const legacy = await asConsole(t, s, 'get', '/api/feature_flag/');
    expect(legacy.status).toBe(200);
    const projects = await asConsole(t, s, 'get', '/api/projects/');
    expect(projects.body.count).toBe(1);
  });

  it('local_evaluation and /flags/definitions accept a session', async () => {
    expect((await t.api('post', `${P}/`).send({ key: 'read-by-session', filters: { groups: [{ rollout_percentage: 50 }] } })).status).toBe(201);
    const s = await signIn(t, 'member@example.com', MEMBER_PASSWORD);
    const res = await asConsole(t, s, 'get', `${P}/local_evaluation`);
    expect(res.status).toBe(200);
    expect(res.body.flags.map((f: { key: string }) => f.key)).toContain('read-by-session');
  });

  it('actions that take no scoped key ("PAK n/a") work with a session', async () => {
    const s = await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const flag = (await t.api('post', `${P}/`).send({ key: 'dashboard-by-session', filters: { groups: [{ rollout_percentage: 50 }] } })).body;
    const { value } = await createKey(t.ctx, { email: ADMIN_EMAIL, scopes: ['feature_flag:write'] });
    const scoped = await t.api('post', `${P}/${flag.id}/dashboard/`, value);
    expect(scoped.status).toBe(403);
    const session = await asConsole(t, s, 'post', `${P}/${flag.id}/dashboard/`);
    expect(session.status).toBe(200);
    expect(session.body).toEqual({ success: true });
  });

  it('personal API keys are managed with a session (PostHog allows it only there)', async () => {
    const s = await signIn(t, 'member@example.com', MEMBER_PASSWORD);
    const created = await asConsole(t, s, 'post', '/api/personal_api_keys/').send({ label: 'from console', scopes: ['feature_flag:read'] });
    expect(created.status).toBe(201);
    expect(created.body.value).toMatch(/^phx_/);
    const list = await asConsole(t, s, 'get', '/api/personal_api_keys/');
    expect(list.body.map((k: { label: string }) => k.label)).toContain('from console');
    const del = await asConsole(t, s, 'delete', `/api/personal_api_keys/${created.body.id}/`);
    expect(del.status).toBe(204);
  });

  it("a member's session cannot do what a member's key cannot: the same 403s", async () => {
    const s = await signIn(t, 'member@example.com', MEMBER_PASSWORD);
    const { value: memberKey } = await createKey(t.ctx, { email: 'member@example.com' });
    const role = { name: 'Console role' };
    const byKey = await t.api('post', '/api/organizations/@current/roles/', memberKey).send(role);
    const bySession = await asConsole(t, s, 'post', '/api/organizations/@current/roles/').send(role);
    expect(byKey.status).toBe(403);
    expect(bySession.status).toBe(403);
    expect(bySession.body).toEqual(byKey.body);
    const members = await asConsole(t, s, 'get', '/api/organizations/@current/members/');
    expect(members.status).toBe(200);
  });

  it('the organization setting "members cannot use personal API keys" does not apply to sessions', async () => {
    const s = await signIn(t, 'member@example.com', MEMBER_PASSWORD);
    await t.sql('update organizations set members_can_use_personal_api_keys = false');
    t.app.services.authenticator.clear();
    try {
      const { value } = await createKey(t.ctx, { email: 'member@example.com' });
      expect((await t.api('get', `${P}/`, value)).status).toBe(403);
      expect((await asConsole(t, s, 'get', `${P}/`)).status).toBe(200);
    } finally {
      await t.sql('update organizations set members_can_use_personal_api_keys = true');
      t.app.services.authenticator.clear();
    }
  });
});

describe('CSRF', () => {
  const body = { key: 'csrf-flag', filters: { groups: [{ rollout_percentage: 10 }] } };

  it('a write without the token, with a wrong token, or from a foreign Origin is refused and changes nothing', async () => {
    const body = { key: 'csrf-refused-flag', filters: { groups: [{ rollout_percentage: 10 }] } };
    const s = await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const http = () => supertest(t.app.server);
    const missing = await http().post(`${P}/`).set('Cookie', s.cookie).set('Origin', t.baseUrl).send(body);
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual(csrf('CSRF token missing.'));
    const wrong = await http().post(`${P}/`).set('Cookie', s.cookie).set('Origin', t.baseUrl).set('X-CSRFToken', 'x'.repeat(43)).send(body);
    expect(wrong.body).toEqual(csrf('CSRF token incorrect.'));
    // Another session's token is wrong too: the token is bound to its session.
    const other = await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const swapped = await http().post(`${P}/`).set('Cookie', s.cookie).set('Origin', t.baseUrl).set('X-CSRFToken', other.csrftoken).send(body);
    expect(swapped.body).toEqual(csrf('CSRF token incorrect.'));
    const foreign = await http().post(`${P}/`).set('Cookie', s.cookie).set('Origin', 'https://evil.example').set('X-CSRFToken', s.csrftoken).send(body);
    expect(foreign.status).toBe(403);
    expect(foreign.body).toEqual(csrf('Origin checking failed - https://evil.example does not match any trusted origins.'));
    const badReferer = await http()
      .post(`${P}/`)
      .set('Cookie', s.cookie)
      .set('Referer', 'https://evil.example/page')
      .set('X-CSRFToken', s.csrftoken)
      .send(body);
    expect(badReferer.status).toBe(403);
    const neither = await http().post(`${P}/`).set('Cookie', s.cookie).set('X-CSRFToken', s.csrftoken).send(body);
    expect(neither.body).toEqual(csrf('Referer checking failed - no Referer.'));
    expect((await t.api('get', `${P}/?search=csrf-refused-flag`)).body.count).toBe(0);
  });

  it('the token and a same-origin Origin (or Referer) together are accepted', async () => {
    const s = await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const ok = await asConsole(t, s, 'post', `${P}/`).send(body);
    expect(ok.status).toBe(201);
    const viaReferer = await supertest(t.app.server)
      .patch(`${P}/${ok.body.id}/`)
      .set('Cookie', s.cookie)
      .set('Referer', `${t.baseUrl}/project/1`)
      .set('X-CSRFToken', s.csrftoken)
      .send({ name: 'x' });
    expect(viaReferer.status).toBe(200);
  });

  it('reads need no token, and requests with a personal API key are not subject to CSRF', async () => {
    const s = await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    expect((await supertest(t.app.server).get(`${P}/`).set('Cookie', s.cookie).set('Origin', 'https://evil.example')).status).toBe(200);
    const keyed = await t
      .api('post', `${P}/`)
      .set('Cookie', s.cookie)
      .set('Origin', 'https://evil.example')
      .send({ key: 'keyed-flag', filters: { groups: [{ rollout_percentage: 10 }] } });
    expect(keyed.status).toBe(201);
  });

  it('FLAGHOST_PUBLIC_URL is a trusted origin too', async () => {
    const pub = await createTestApp({ env: { FLAGHOST_PUBLIC_URL: 'https://flags.example.com' } });
    try {
      await setPasswordByEmail(pub.ctx, ADMIN_EMAIL, ADMIN_PASSWORD);
      const s = await signIn(pub, ADMIN_EMAIL, ADMIN_PASSWORD);
      const res = await supertest(pub.app.server)
        .post(`${P}/`)
        .set('Cookie', s.cookie)
        .set('Origin', 'https://flags.example.com')
        .set('X-CSRFToken', s.csrftoken)
        .send(body);
      expect(res.status).toBe(201);
    } finally {
      await pub.close();
    }
  });
});

describe('password changes', () => {
  it("PATCH /api/users/@me/ changes the password: the user's other sessions end, this one stays", async () => {
    await userWithPassword(t, 'changer@example.com', 'first-password', 'member');
    const a = await signIn(t, 'changer@example.com', 'first-password');
    const b = await signIn(t, 'changer@example.com', 'first-password');
    const wrong = await asConsole(t, a, 'patch', '/api/users/@me/').send({ current_password: 'nope-nope', password: 'second-password' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({
      type: 'validation_error',
      code: 'incorrect_password',
      detail: 'Your current password is incorrect.',
      attr: 'current_password',
    });
    const missing = await asConsole(t, a, 'patch', '/api/users/@me/').send({ password: 'second-password' });
    expect(missing.body).toMatchObject({ code: 'required', attr: 'current_password' });
    const short = await asConsole(t, a, 'patch', '/api/users/@me/').send({ current_password: 'first-password', password: 'short' });
    expect(short.body).toEqual({
      type: 'validation_error',
      code: 'invalid',
      detail: 'This password is too short. It must contain at least 8 characters.',
      attr: 'password',
    });
    expect((await supertest(t.app.server).get('/api/users/@me/').set('Cookie', b.cookie)).status).toBe(200);

    const changed = await asConsole(t, a, 'patch', '/api/users/@me/').send({ current_password: 'first-password', password: 'second-password' });
    expect(changed.status).toBe(200);
    expect(changed.body.email).toBe('changer@example.com');
    expect((await supertest(t.app.server).get('/api/users/@me/').set('Cookie', a.cookie)).status).toBe(200);
    expect((await supertest(t.app.server).get('/api/users/@me/').set('Cookie', b.cookie)).status).toBe(401);
    expect((await t.http.post('/api/login').send({ email: 'changer@example.com', password: 'first-password' })).status).toBe(400);
    await signIn(t, 'changer@example.com', 'second-password');
  });

  it('a password set with the CLI function ends every session of the user', async () => {
    await userWithPassword(t, 'reset-by-admin@example.com', 'first-password', 'member');
    const s = await signIn(t, 'reset-by-admin@example.com', 'first-password');
    await setPasswordByEmail(t.ctx, 'reset-by-admin@example.com', 'another-password');
    expect((await supertest(t.app.server).get('/api/users/@me/').set('Cookie', s.cookie)).status).toBe(401);
  });
});

describe.skipIf(!POSTGRES)('two instances on one PostgreSQL database', () => {
  it('a session made on A works on B, and once logged out on A, B refuses it at once', async () => {
    const s = await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    expect((await supertest(peer!.baseUrl).get('/api/users/@me/').set('Cookie', s.cookie)).status).toBe(200);
    const write = await asConsole(t, s, 'post', `${P}/`, peer!.baseUrl).send({
      key: 'made-on-b-by-session',
      filters: { groups: [{ rollout_percentage: 10 }] },
    });
    expect(write.status).toBe(201);
    expect((await asConsole(t, s, 'post', '/api/logout/')).status).toBe(200);
    const after = await supertest(peer!.baseUrl).get('/api/users/@me/').set('Cookie', s.cookie);
    expect(after.status).toBe(401);
  });

  it("a password change on A ends the user's sessions on B", async () => {
    await userWithPassword(t, 'two-instances@example.com', 'first-password', 'member');
    const s = await signIn(t, 'two-instances@example.com', 'first-password', peer!.baseUrl);
    expect((await supertest(peer!.baseUrl).get('/api/users/@me/').set('Cookie', s.cookie)).status).toBe(200);
    await setPasswordByEmail(t.ctx, 'two-instances@example.com', 'second-password');
    expect((await supertest(peer!.baseUrl).get('/api/users/@me/').set('Cookie', s.cookie)).status).toBe(401);
  });
});

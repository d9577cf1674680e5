// Personal API keys: how they are sent (docs/compatibility.md#case-75), self-service management
// (/api/personal_api_keys/), scopes and scoping checks, the 10-key limit, last_used_at, and revocation
// that takes effect at once on this instance and (PostgreSQL) on another instance of the same database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import type { FastifyInstance } from 'fastify';
import { ADMIN_KEY, SECRET_TOKEN, createTestApp, type TestApp } from '../helpers/app.ts';
import { buildApp } from '../../src/app.ts';
import { openDatabase, type Database } from '../../src/platform/db/index.ts';
import { createOrganization, createProject, listKeys } from '../../src/access/organizations/admin.ts';

let t: TestApp;
let orgB: string;
let foreignProject: number;

const P = '/api/projects/1/feature_flags';
const NOT_SUPPORTED = { type: 'authentication_error', code: 'permission_denied', detail: 'This action does not support Personal API Key access', attr: null };
const ve = (code: string, detail: string, attr: string | null) => ({ type: 'validation_error', code, detail, attr });

async function waitFor<T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  t = await createTestApp();
  orgB = (await createOrganization(t.ctx, 'Org B')).id;
  foreignProject = (await createProject(t.ctx, { name: 'Foreign', organizationId: orgB })).id;
});
afterAll(async () => {
  await t?.close();
});

describe('case 75: how a key is sent', () => {
  it('no credentials: 401 not_authenticated with WWW-Authenticate', async () => {
    const res = await t.http.get(`${P}/`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toEqual({ attr: null, code: 'not_authenticated', detail: 'Authentication credentials were not provided.', type: 'authentication_error' });
  });

  it('Bearer with extra spaces, the query string and the body all work', async () => {
    expect((await t.http.get(`${P}/`).set('Authorization', `Bearer  ${ADMIN_KEY}  `)).status).toBe(200);
    expect((await t.http.get(`${P}/?personal_api_key=${ADMIN_KEY}`)).status).toBe(200);
    const created = await t.http.post(`${P}/`).send({ personal_api_key: ADMIN_KEY, key: 'via-body' });
    expect(created.status).toBe(201);
  });

  it('an invalid key: 401 naming where it was found; an inactive owner: 401', async () => {
    const res = await t.api('get', `${P}/`, 'phx_notakey');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      type: 'authentication_error',
      code: 'authentication_failed',
      detail: 'Personal API key found in request Authorization header is invalid.',
      attr: null,
    });
    expect((await t.http.get(`${P}/?personal_api_key=phx_nope`)).body.detail).toBe('Personal API key found in request query string is invalid.');
    const inactive = await t.userWithKey({ email: 'inactive@example.com' });
    expect((await t.api('get', `${P}/`, inactive.key)).status).toBe(200);
    await t.sql('update users set is_active = false where id = $1', [inactive.userId]);
    t.ctx.changes.authChanged(); // what deactivating a user through the application would do
    expect((await t.api('get', `${P}/`, inactive.key)).status).toBe(401);
  });
});

describe('/api/personal_api_keys/', () => {
  it('creates a key with a full-access key: the value is shown once and works at once', async () => {
    const res = await t
      .api('post', '/api/personal_api_keys/')
      .send({ label: 'CI', scopes: ['feature_flag:read'], scoped_teams: [1], scoped_organizations: [] });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      label: 'CI',
      value: expect.stringMatching(/^phx_[0-9A-Za-z]{40,}$/),
      mask_value: expect.stringMatching(/^phx_\.\.\.[0-9A-Za-z]{4}$/),
      created_at: expect.stringMatching(/Z$/),
      last_used_at: null,
      last_rolled_at: null,
      user_id: t.boot.user.id,
      scopes: ['feature_flag:read'],
      scoped_teams: [1],
      scoped_organizations: [],
    });
    expect(res.body.mask_value).toBe(`phx_...${res.body.value.slice(-4)}`);
    const [row] = await t.sql<{ secure_value: string }>('select secure_value from personal_api_keys where id = $1', [res.body.id]);
    expect(row.secure_value).toMatch(/^sha256\$[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(res.body.value);
    expect((await t.api('get', `${P}/`, res.body.value)).status).toBe(200);
    expect((await t.api('post', `${P}/`, res.body.value).send({ key: 'x' })).body.detail).toBe("API key missing required scope 'feature_flag:write'");

    const again = await t.api('get', `/api/personal_api_keys/${res.body.id}/`);
    expect(again.body).toEqual({ ...res.body, value: null, last_used_at: expect.stringMatching(/Z$/) });
  });

  it('lists the caller\'s own keys only, newest first, without values; legacy scopes show as ["*"]', async () => {
    // A user of its own (other tests add keys to the admin): a legacy key (scopes null, full access), then one made through the API.
    const lister = await t.userWithKey({ email: 'lister@example.com', level: 'admin' });
    await t.sql("update personal_api_keys set label = 'legacy', created_at = created_at - interval '1 minute' where user_id = $1", [lister.userId]);
    expect((await t.api('post', '/api/personal_api_keys/', lister.key).send({ label: 'CI', scopes: ['feature_flag:read'] })).status).toBe(201);
    const other = await t.userWithKey({ email: 'someone@example.com' });
    const res = await t.api('get', '/api/personal_api_keys/', lister.key);
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    expect(res.body.map((k: { label: string }) => k.label)).toEqual(['CI', 'legacy']);
    expect(res.body.every((k: { value: unknown; user_id: number }) => k.value === null && k.user_id === lister.userId)).toBe(true);
    expect(res.body[1].scopes).toEqual(['*']);
    const theirs = await t.api('get', '/api/personal_api_keys/', other.key);
    expect(theirs.body).toHaveLength(1);
    expect(theirs.body[0].user_id).toBe(other.userId);
  });

  it('@current is the key making the request', async () => {
    const res = await t.api('get', '/api/personal_api_keys/@current/');
    expect(res.status).toBe(200);
    expect(res.body.label).toBe('Initial key');
  });

  it("another user's key is not found, for reads and writes, and stays intact", async () => {
    const other = await t.userWithKey({ email: 'victim@example.com' });
    const [key] = await listKeys(t.ctx, 'victim@example.com');
    for (const method of ['get', 'patch', 'delete'] as const) {
      const res = await t.api(method, `/api/personal_api_keys/${key.id}/`).send(method === 'patch' ? { label: 'stolen' } : undefined);
      expect(res.status, method).toBe(404);
      expect(res.body).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null });
    }
    expect((await t.api('get', `${P}/`, other.key)).status).toBe(200);
    expect(await t.sql('select label from personal_api_keys where id = $1', [key.id])).toEqual([{ label: '' }]);
  });

  it("validates label, scopes and scoping with PostHog's messages", async () => {
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{ scopes: ['*'] }, ve('required', 'This field is required.', 'label')],
      [{ label: '', scopes: ['*'] }, ve('blank', 'This field may not be blank.', 'label')],
      [{ label: 'x'.repeat(41), scopes: ['*'] }, ve('max_length', 'Ensure this field has no more than 40 characters.', 'label')],
      [{ label: 'test' }, ve('required', 'This field is required.', 'scopes')],
      [{ label: 'test', scopes: [] }, ve('empty', 'This list may not be empty.', 'scopes')],
      [{ label: 'test', scopes: 'feature_flag:read' }, ve('not_a_list', 'Expected a list of items but got type "str".', 'scopes')],
      [{ label: 'test', scopes: ['invalid'] }, ve('invalid_input', 'Invalid scope: invalid', 'scopes')],
      [{ label: 'test', scopes: ['feature_flag:read', 'insight:invalid'] }, ve('invalid_input', 'Invalid scope: insight:invalid', 'scopes')],
      [{ label: 'test', scopes: ['feature_flag:read:write'] }, ve('invalid_input', 'Invalid scope: feature_flag:read:write', 'scopes')],
      [
        { label: 'test', scopes: ['*'], scoped_teams: [1, foreignProject] },
        ve('invalid_input', 'You must be a member of all teams that you are scoping the key to.', 'scoped_teams'),
      ],
      [
        { label: 'test', scopes: ['*'], scoped_teams: [99999] },
        ve('invalid_input', 'You must be a member of all teams that you are scoping the key to.', 'scoped_teams'),
      ],
      [
        { label: 'test', scopes: ['*'], scoped_organizations: [t.boot.organization.id, orgB] },
        ve('invalid_input', 'You must be a member of all organizations that you are scoping the key to.', 'scoped_organizations'),
      ],
      [{ label: 'test', scopes: ['*'], scoped_organizations: ['nope'] }, ve('invalid_input', 'Invalid organization UUID', 'scoped_organizations')],
    ];
    const before = await t.sql('select id from personal_api_keys order by id');
    for (const [body, error] of cases) {
      const res = await t.api('post', '/api/personal_api_keys/').send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toEqual(error);
    }
    expect(await t.sql('select id from personal_api_keys order by id')).toEqual(before);
    const ok = await t
      .api('post', '/api/personal_api_keys/')
      .send({ label: 'org scoped', scopes: ['*'], scoped_organizations: [t.boot.organization.id.toUpperCase()] });
    expect(ok.status).toBe(201);
    expect(ok.body.scoped_organizations).toEqual([t.boot.organization.id]);
  });

  it('PATCH changes label, scopes and scoping; the new scopes apply to the next request', async () => {
    const created = await t.api('post', '/api/personal_api_keys/').send({ label: 'rescope', scopes: ['feature_flag:read'] });
    expect((await t.api('post', `${P}/`, created.body.value).send({ key: 'rescoped-1' })).status).toBe(403);
    const res = await t.api('patch', `/api/personal_api_keys/${created.body.id}/`).send({ label: 'rescoped', scopes: ['feature_flag:write'] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ label: 'rescoped', scopes: ['feature_flag:write'], value: null });
    expect((await t.api('post', `${P}/`, created.body.value).send({ key: 'rescoped-1' })).status).toBe(201);
    const bad = await t.api('patch', `/api/personal_api_keys/${created.body.id}/`).send({ scopes: ['nope:read'] });
    expect(bad.body).toEqual(ve('invalid_input', 'Invalid scope: nope:read', 'scopes'));
    const empty = await t.api('patch', `/api/personal_api_keys/${created.body.id}/`).send({ scopes: [] });
    expect(empty.status).toBe(400);
    const scoped = await t.api('patch', `/api/personal_api_keys/${created.body.id}/`).send({ scoped_teams: [foreignProject] });
    expect(scoped.body.detail).toBe('You must be a member of all teams that you are scoping the key to.');
    const narrowed = await t.api('patch', `/api/personal_api_keys/${created.body.id}/`).send({ scoped_organizations: [t.boot.organization.id] });
    expect(narrowed.body.scoped_organizations).toEqual([t.boot.organization.id]);
  });

  it('DELETE revokes: the key stops working with the very next request', async () => {
    const created = await t.api('post', '/api/personal_api_keys/').send({ label: 'doomed', scopes: ['*'] });
    expect((await t.api('get', `${P}/`, created.body.value)).status).toBe(200); // now cached
    expect((await t.api('delete', `/api/personal_api_keys/${created.body.id}/`)).status).toBe(204);
    const res = await t.api('get', `${P}/`, created.body.value);
    expect(res.status).toBe(401);
    expect(await t.sql('select id from personal_api_keys where id = $1', [created.body.id])).toEqual([]);
    expect((await t.api('delete', `/api/personal_api_keys/${created.body.id}/`)).status).toBe(404);
  });

  it('a full-access key may revoke itself', async () => {
    const created = await t.api('post', '/api/personal_api_keys/').send({ label: 'self-revoke', scopes: ['*'] });
    expect((await t.api('delete', '/api/personal_api_keys/@current/', created.body.value)).status).toBe(204);
    expect((await t.api('get', '/api/users/@me/', created.body.value)).status).toBe(401);
  });

  it('at most 10 keys per user, also when creating in parallel', async () => {
    const owner = await t.userWithKey({ email: 'collector@example.com', level: 'admin' });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => t.api('post', '/api/personal_api_keys/', owner.key).send({ label: `k${i}`, scopes: ['*'] })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(9);
    const refused = results.filter((r) => r.status === 400);
    expect(refused).toHaveLength(3);
    expect(refused[0].body).toEqual(ve('invalid_input', 'You can only have 10 personal API keys. Remove an existing key before creating a new one.', null));
    expect(await listKeys(t.ctx, 'collector@example.com')).toHaveLength(10);
  });
});

describe('keys that may not manage keys', () => {
  it('a scoped key only retrieves itself (PostHog: retrieve of the key itself)', async () => {
    for (const opts of [
      { scopes: ['feature_flag:read'] },
      { scopes: ['*'], scopedTeams: [1] },
      { scopes: null, scopedOrganizations: [t.boot.organization.id] },
    ]) {
      const email = `restricted-${Math.random().toString(36).slice(2)}@example.com`;
      const restricted = await t.userWithKey({ email, ...opts });
      const [own] = await listKeys(t.ctx, email);
      const second = await t.api('post', '/api/personal_api_keys/').send({ label: 'x', scopes: ['*'] }); // the admin's, not theirs
      expect((await t.api('get', '/api/personal_api_keys/@current/', restricted.key)).body.id).toBe(own.id);
      expect((await t.api('get', `/api/personal_api_keys/${own.id}/`, restricted.key)).status).toBe(200);
      const attempts = [
        ['get', '/api/personal_api_keys/'],
        ['post', '/api/personal_api_keys/'],
        ['patch', `/api/personal_api_keys/${own.id}/`],
        ['patch', '/api/personal_api_keys/@current/'],
        ['delete', `/api/personal_api_keys/${own.id}/`],
        ['get', `/api/personal_api_keys/${second.body.id}/`],
      ] as const;
      for (const [method, path] of attempts) {
        const res = await t.api(method, path, restricted.key).send(method === 'get' ? undefined : { label: 'escalated', scopes: ['*'] });
        expect(res.status, `${JSON.stringify(opts)} ${method} ${path}`).toBe(403);
        expect(res.body).toEqual(NOT_SUPPORTED);
      }
      expect((await listKeys(t.ctx, email)).map((k) => [k.label, k.scopes])).toEqual([[own.label, own.scopes]]);
    }
  });

  it('an unscoped "*" key is full access', async () => {
    const star = await t.userWithKey({ email: 'star@example.com', scopes: ['*'] });
    expect((await t.api('get', '/api/personal_api_keys/', star.key)).status).toBe(200);
  });

  it('a project secret key is refused', async () => {
    const res = await t.api('get', '/api/personal_api_keys/', SECRET_TOKEN);
    expect(res.status).toBe(403);
  });
});

describe('last_used_at', () => {
  it('is set on first use and then updated at most once an hour', async () => {
    const created = await t.api('post', '/api/personal_api_keys/').send({ label: 'usage', scopes: ['*'] });
    const lastUsed = async () =>
      (await t.sql<{ last_used_at: Date | null }>('select last_used_at from personal_api_keys where id = $1', [created.body.id]))[0].last_used_at;
    expect(await lastUsed()).toBeNull();
    await t.api('get', `${P}/`, created.body.value).expect(200);
    const first = await waitFor(lastUsed, (v) => v !== null);
    expect(first).not.toBeNull();
    // Within the hour, more requests (also after the cache is dropped) leave it alone.
    await t.api('get', `${P}/`, created.body.value).expect(200);
    t.ctx.changes.authChanged();
    await t.api('get', `${P}/`, created.body.value).expect(200);
    await new Promise((r) => setTimeout(r, 200));
    expect((await lastUsed())!.getTime()).toBe(first!.getTime());
    // 30 minutes ago: still left alone; two hours ago: refreshed.
    const halfHour = new Date(Date.now() - 30 * 60_000);
    await t.sql('update personal_api_keys set last_used_at = $2 where id = $1', [created.body.id, halfHour]);
    t.ctx.changes.authChanged();
    await t.api('get', `${P}/`, created.body.value).expect(200);
    await new Promise((r) => setTimeout(r, 200));
    expect((await lastUsed())!.getTime()).toBe(halfHour.getTime());
    await t.sql('update personal_api_keys set last_used_at = $2 where id = $1', [created.body.id, new Date(Date.now() - 2 * 3_600_000)]);
    t.ctx.changes.authChanged();
    await t.api('get', `${P}/`, created.body.value).expect(200);
    const refreshed = await waitFor(lastUsed, (v) => Date.now() - v!.getTime() < 60_000);
    expect(Date.now() - refreshed!.getTime()).toBeLessThan(60_000);
    const shown = await t.api('get', `/api/personal_api_keys/${created.body.id}/`);
    expect(shown.body.last_used_at).toMatch(/Z$/);
  });
});

describe.runIf(Boolean(process.env.DATABASE_URL))('a second instance on the same PostgreSQL database', () => {
  let second: FastifyInstance;
  let secondDb: Database;

  beforeAll(async () => {
    secondDb = await openDatabase(t.config.database);
    second = await buildApp({ config: t.config, database: secondDb });
    await second.services.start();
    await second.ready();
  });
  afterAll(async () => {
    await second?.close();
    await secondDb?.close();
  });

  const onSecond = (path: string, key: string) => supertest(second.server).get(path).set('Authorization', `Bearer ${key}`);

  it('a key revoked on one instance stops working on the other at once (not after its cache expires)', async () => {
    const created = await t.api('post', '/api/personal_api_keys/').send({ label: 'two instances', scopes: ['*'] });
    const beforeCaching = Date.now();
    expect((await onSecond(`${P}/`, created.body.value)).status).toBe(200); // cached on the second instance
    expect((await t.api('delete', `/api/personal_api_keys/${created.body.id}/`)).status).toBe(204);
    const res = await waitFor(
      () => onSecond(`${P}/`, created.body.value),
      (r) => r.status === 401,
      9_000,
    );
    expect(res.status).toBe(401);
    // The second instance cached the key after `beforeCaching`, for 10 s (CACHE_TTL_MS in
    // src/access/auth.ts): a 401 before then proves the notification cleared it, however slow the machine.
    expect(Date.now() - beforeCaching).toBeLessThan(10_000);
  });

  it('new scopes set on one instance apply on the other', async () => {
    const created = await t.api('post', '/api/personal_api_keys/').send({ label: 'rescoped elsewhere', scopes: ['feature_flag:read'] });
    expect((await onSecond(`${P}/activity`, created.body.value)).status).toBe(403);
    await t
      .api('patch', `/api/personal_api_keys/${created.body.id}/`)
      .send({ scopes: ['activity_log:read'] })
      .expect(200);
    const res = await waitFor(
      () => onSecond(`${P}/activity`, created.body.value),
      (r) => r.status === 200,
      5000,
    );
    expect(res.status).toBe(200);
  });
});

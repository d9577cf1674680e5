import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, createTestApp, PROJECT_TOKEN, SECRET_TOKEN, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('identity endpoints', () => {
  it('GET /api/users/@me/ describes the key owner', async () => {
    const res = await t.api('get', '/api/users/@me/');
    expect(res.status).toBe(200);
    expect(res.body.email).toBe(ADMIN_EMAIL);
    expect(res.body.team.id).toBe(1);
    expect(res.body.team.api_token).toBe(PROJECT_TOKEN);
    expect(res.body.organization.name).toBe('Default');
    expect(res.body.organizations[0].membership_level).toBe(15);
  });

  it('lists and retrieves projects, with and without trailing slash', async () => {
    const list = await t.api('get', '/api/projects');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ count: 1, next: null, previous: null });
    expect(list.body.results[0]).toMatchObject({ id: 1, api_token: PROJECT_TOKEN, name: 'Default Project' });
    const one = await t.api('get', '/api/projects/1/');
    expect(one.status).toBe(200);
    expect(one.body.secret_api_token).toBe(SECRET_TOKEN);
    const current = await t.api('get', '/api/projects/@current');
    expect(current.body.id).toBe(1);
  });

  it('answers 404 for unknown or malformed project ids', async () => {
    for (const id of ['999', 'abc', '1.5']) {
      const res = await t.api('get', `/api/projects/${id}/`);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Project not found.', attr: null });
    }
  });

  it('GET /api/organizations/@current/', async () => {
    const res = await t.api('get', '/api/organizations/@current/');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Default', membership_level: 15, member_count: 1 });
    expect(res.body.projects).toEqual([{ id: 1, name: 'Default Project', organization_id: res.body.id }]);
  });

  it('401 without credentials and with a bad key', async () => {
    const none = await t.http.get('/api/users/@me/');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.body).toEqual({ type: 'authentication_error', code: 'not_authenticated', detail: 'Authentication credentials were not provided.', attr: null });
    const bad = await t.api('get', '/api/users/@me/', 'phx_nope');
    expect(bad.status).toBe(401);
    expect(bad.body.detail).toBe('Personal API key found in request Authorization header is invalid.');
  });

  it('unknown routes get 404 and wrong methods 405 in the envelope', async () => {
    const missing = await t.api('get', '/api/nothing-here/');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null });
    const wrong = await t.api('put', '/api/users/@me/');
    expect(wrong.status).toBe(405);
    expect(wrong.body).toEqual({ type: 'invalid_request', code: 'method_not_allowed', detail: 'Method "PUT" not allowed.', attr: null });
  });
});

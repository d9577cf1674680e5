// Rolling a personal API key (POST /api/personal_api_keys/:id/roll/, docs/compatibility.md#api-8.5):
// a new value shown once, the old one refused at once, label, scopes and scoping kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { asConsole, signIn, userWithPassword } from '../helpers/session.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('POST /api/personal_api_keys/:id/roll/', () => {
  it('a new value, shown once; the old value gets 401 at once; label, scopes and scoping stay', async () => {
    const created = await t.api('post', '/api/personal_api_keys/').send({ label: 'CI', scopes: ['feature_flag:read'], scoped_teams: [1] });
    expect(created.status).toBe(201);
    const old = created.body.value as string;
    expect((await t.api('get', '/api/projects/1/feature_flags/', old)).status).toBe(200);
    const rolled = await t.api('post', `/api/personal_api_keys/${created.body.id}/roll/`);
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(200);
    expect(rolled.body).toMatchObject({ id: created.body.id, label: 'CI', scopes: ['feature_flag:read'], scoped_teams: [1] });
    expect(rolled.body.value).toMatch(/^phx_/);
    expect(rolled.body.value).not.toBe(old);
    expect(rolled.body.mask_value).toBe(`${rolled.body.value.slice(0, 4)}...${rolled.body.value.slice(-4)}`);
    expect(rolled.body.last_rolled_at).toEqual(expect.any(String));
    const refused = await t.api('get', '/api/projects/1/feature_flags/', old);
    expect(refused.status).toBe(401);
    expect((await t.api('get', '/api/projects/1/feature_flags/', rolled.body.value)).status).toBe(200);
    const listed = await t.api('get', '/api/personal_api_keys/');
    const mine = listed.body.find((k: { id: string }) => k.id === created.body.id);
    expect(mine).toMatchObject({ value: null, mask_value: rolled.body.mask_value, last_rolled_at: rolled.body.last_rolled_at });
  });

  it("from a console session; a scoped key may not roll, nor anyone roll another user's key", async () => {
    await userWithPassword(t, 'roller@example.com', 'correct horse battery staple');
    const session = await signIn(t, 'roller@example.com', 'correct horse battery staple');
    const own = await asConsole(t, session, 'post', '/api/personal_api_keys/').send({ label: 'mine', scopes: ['*'] });
    expect(own.status).toBe(201);
    const rolled = await asConsole(t, session, 'post', `/api/personal_api_keys/${own.body.id}/roll/`).send({});
    expect(rolled.status).toBe(200);
    expect(rolled.body.value).not.toBe(own.body.value);
    // The admin's key does not see this user's key.
    expect((await t.api('post', `/api/personal_api_keys/${own.body.id}/roll/`)).status).toBe(404);
    const scoped = await t.userWithKey({ email: 'scoped-roller@example.com', scopes: ['feature_flag:read'] });
    const self = await t.api('get', '/api/personal_api_keys/@current/', scoped.key);
    expect(self.status).toBe(200);
    const denied = await t.api('post', `/api/personal_api_keys/${self.body.id}/roll/`, scoped.key);
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toBe('This action does not support Personal API Key access');
    expect((await t.api('get', '/api/personal_api_keys/@current/', scoped.key)).status).toBe(200);
  });
});

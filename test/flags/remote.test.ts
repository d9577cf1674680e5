// Encrypted payloads, remote_config, evaluation_reasons, /array/:token/config and capture acceptance
// (docs/compatibility.md#api-3.8, #api-7.2, #api-7.4; acceptance cases #case-67 to #case-69).
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, SECRET_TOKEN, type TestApp } from '../helpers/app.ts';
import { createProject } from '../../src/access/organizations/admin.ts';

let t: TestApp;
const P = '/api/projects/1/feature_flags';

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('encrypted payloads', () => {
  it('are sealed at rest, shown decrypted to key holders, and kept through the redacted placeholder', async () => {
    const res = await t.api('post', `${P}/`).send({
      key: 'secret-config',
      is_remote_configuration: true,
      has_encrypted_payloads: true,
      filters: { groups: [{ rollout_percentage: 100 }], payloads: { true: '{"password": "hunter2"}' } },
    });
    expect(res.status).toBe(201);
    expect(res.body.filters.payloads.true).toBe('{"password": "hunter2"}');
    const [row] = await t.sql<{ filters: { payloads: { true: string } } }>('select filters from feature_flags where id = $1', [res.body.id]);
    expect(row.filters.payloads.true).toMatch(/^fhenc:v1:/);
    expect(JSON.stringify(row.filters)).not.toContain('hunter2');

    // Definitions carry the ciphertext; remote_config decrypts for PAK and secret-key callers.
    const defs = await t.http.get(`/flags/definitions?token=${PROJECT_TOKEN}`).set('Authorization', `Bearer ${SECRET_TOKEN}`);
    expect(JSON.stringify(defs.body)).not.toContain('secret-config');
    const viaKey = await t.api('get', `${P}/secret-config/remote_config`);
    expect(viaKey.status).toBe(200);
    expect(viaKey.body).toBe('{"password": "hunter2"}');
    const viaSecret = await t.http
      .get(`/api/projects/@current/feature_flags/secret-config/remote_config?token=${PROJECT_TOKEN}`)
      .set('Authorization', `Bearer ${SECRET_TOKEN}`);
    expect(viaSecret.status).toBe(200);
    expect(viaSecret.body).toBe('{"password": "hunter2"}');

    const kept = await t
      .api('patch', `${P}/${res.body.id}`)
      .send({ filters: { groups: [{ rollout_percentage: 100 }], payloads: { true: '********* (encrypted)' } } });
    expect(kept.status).toBe(200);
    expect(kept.body.filters.payloads.true).toBe('{"password": "hunter2"}');
    const [after] = await t.sql<{ filters: { payloads: { true: string } } }>('select filters from feature_flags where id = $1', [res.body.id]);
    expect(after.filters.payloads.true).toBe(row.filters.payloads.true);

    const off = await t.api('patch', `${P}/${res.body.id}`).send({ has_encrypted_payloads: false });
    expect(off.body.filters.payloads.true).toBe('{"password": "hunter2"}');
    const [plain] = await t.sql<{ filters: { payloads: { true: string } } }>('select filters from feature_flags where id = $1', [res.body.id]);
    expect(plain.filters.payloads.true).toBe('{"password": "hunter2"}');
  });
});

describe('remote_config', () => {
  it('cases 68/69: by key or id; 404 with an empty body otherwise', async () => {
    const res = await t.api('post', `${P}/`).send({
      key: 'my-remote-config-flag',
      is_remote_configuration: true,
      filters: { groups: [{ rollout_percentage: 100 }], payloads: { true: '{"test": true}' } },
    });
    expect((await t.api('get', `${P}/my-remote-config-flag/remote_config`)).text).toBe('"{\\"test\\": true}"');
    expect((await t.api('get', `${P}/${res.body.id}/remote_config/`)).body).toBe('{"test": true}');
    const plainFlag = await t.api('post', `${P}/`).send({ key: 'not-remote' });
    for (const idOrKey of ['nonexistent_key', 'not-remote', String(plainFlag.body.id), '999999']) {
      const missing = await t.api('get', `${P}/${idOrKey}/remote_config`);
      expect(missing.status).toBe(404);
      expect(missing.text).toBe('');
    }
    const other = await createProject(t.ctx, { name: 'Other' });
    const foreign = await t.api('post', `/api/projects/${other.id}/feature_flags/`).send({ key: 'foreign-remote', is_remote_configuration: true });
    expect((await t.api('get', `${P}/${foreign.body.id}/remote_config`)).status).toBe(404);
    // docs/compatibility.md#case-67: a project secret of project 1 cannot read project 2's remote config.
    const cross = await t.http.get(`/api/projects/${other.id}/feature_flags/foreign-remote/remote_config`).set('Authorization', `Bearer ${SECRET_TOKEN}`);
    expect(cross.status).toBe(403);
    // A project secret cannot use other management endpoints.
    const list = await t.http.get(`${P}/`).set('Authorization', `Bearer ${SECRET_TOKEN}`);
    expect(list.status).toBe(403);
  });
});

describe('evaluation_reasons', () => {
  it('evaluates every flag for a distinct id; inactive ones are disabled', async () => {
    await t.api('post', `${P}/`).send({ key: 'er-on', filters: { groups: [{ rollout_percentage: 100 }] } });
    await t.api('post', `${P}/`).send({ key: 'er-off', active: false, filters: { groups: [{ rollout_percentage: 100 }] } });
    await t.api('post', `${P}/`).send({
      key: 'er-email',
      filters: { groups: [{ properties: [{ key: 'email', type: 'person', value: 'x@y.z', operator: 'exact' }], rollout_percentage: 100 }] },
    });
    const res = await t.api('get', `${P}/evaluation_reasons?distinct_id=user-1`);
    expect(res.status).toBe(200);
    expect(res.body['er-on']).toEqual({ value: true, evaluation: { reason: 'condition_match', condition_index: 0 } });
    expect(res.body['er-off']).toEqual({ value: false, evaluation: { reason: 'disabled', condition_index: null } });
    expect(res.body['er-email']).toEqual({ value: false, evaluation: { reason: 'no_condition_match', condition_index: 0 } });
    const missing = await t.api('get', `${P}/evaluation_reasons`);
    expect(missing.body).toEqual({ type: 'validation_error', code: 'required', detail: 'This field is required.', attr: 'distinct_id' });
    expect((await t.api('get', `${P}/evaluation_reasons?distinct_id=a&groups=nope`)).body.detail).toBe('Invalid JSON in groups parameter');
    expect((await t.api('get', `${P}/evaluation_reasons?distinct_id=a&groups=[1]`)).body.detail).toBe('groups must be a JSON object');
    const scoped = await t.userWithKey({ email: 'reader@example.com', scopes: ['feature_flag:read'] });
    const denied = await t.api('get', `${P}/evaluation_reasons?distinct_id=a`, scoped.key);
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toBe('This action does not support Personal API Key access');
  });
});

describe('browser config and capture', () => {
  it('GET /array/:token/config answers known tokens', async () => {
    // A project with a flag (hasFeatureFlags), whichever test ran before.
    expect((await t.api('post', `${P}/`).send({ key: 'config-flag', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } })).status).toBe(201);
    const res = await t.http.get(`/array/${PROJECT_TOKEN}/config`).set('Origin', 'http://app.example');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ hasFeatureFlags: true, supportedCompression: ['gzip', 'gzip-js'] });
    expect(res.headers['access-control-allow-origin']).toBe('http://app.example');
    expect((await t.http.get('/array/phc_unknown/config')).status).toBe(404);
  });

  it('capture endpoints accept well-formed events, gzip too', async () => {
    const batch = { api_key: PROJECT_TOKEN, batch: [{ event: 'x', distinct_id: 'u', properties: {} }] };
    expect((await t.http.post('/batch/').send(batch)).status).toBe(200);
    const gz = zlib.gzipSync(JSON.stringify(batch));
    // fetch sends the bytes as they are (like posthog-node's gzip /batch/).
    const gzipped = await fetch(`${t.baseUrl}/batch/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: gz,
    });
    expect(gzipped.status).toBe(200);
    const browser = zlib.gzipSync(JSON.stringify([{ event: '$pageview', properties: { token: PROJECT_TOKEN, distinct_id: 'b' } }]));
    const js = await fetch(`${t.baseUrl}/e/?compression=gzip-js`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: browser });
    expect(js.status).toBe(200);
    expect((await t.http.post('/i/v0/e/').send({ event: 'y', api_key: PROJECT_TOKEN, distinct_id: 'z', properties: {} })).status).toBe(200);
    expect((await t.http.post('/capture/').send({ event: 'y', distinct_id: 'z' })).status).toBe(401);
    expect((await t.http.post('/batch/').send({ api_key: 'phc_unknown', batch: batch.batch })).status).toBe(401);
    expect((await t.http.post('/batch/').set('Content-Type', 'application/json').send('{not json')).status).toBe(400);
  });
});

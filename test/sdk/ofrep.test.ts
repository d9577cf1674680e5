// OFREP (docs/compatibility.md#ofrep) over real HTTP: one flag and every flag, values and reasons
// against /flags for the same people, the context mapping, OFREP's error codes and bodies,
// authentication with the project token, the bulk ETag, CORS and the limits of /flags.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, SECRET_TOKEN, type TestApp } from '../helpers/app.ts';
import { createFlag, createGroupType, patchFlag, person, type Json } from '../helpers/sdk.ts';

let t: TestApp;
const flags: Record<string, Json> = {};
const BEARER = `Bearer ${PROJECT_TOKEN}`;

const one = (key: string, body: unknown, auth = BEARER) =>
  t.http
    .post(`/ofrep/v1/evaluate/flags/${encodeURIComponent(key)}`)
    .set('Authorization', auth)
    .set('Content-Type', 'application/json')
    .send(typeof body === 'string' ? body : JSON.stringify(body));
const bulk = (body: unknown, auth = BEARER) =>
  t.http
    .post('/ofrep/v1/evaluate/flags')
    .set('Authorization', auth)
    .set('Content-Type', 'application/json')
    .send(typeof body === 'string' ? body : JSON.stringify(body));
/** /flags for the same person, as posthog-node's getFeatureFlag reads it: variant, true or false. */
async function flagsValues(body: Json): Promise<Record<string, unknown>> {
  const res = await t.http.post('/flags?v=2').send({ token: PROJECT_TOKEN, ...body });
  expect(res.status).toBe(200);
  return Object.fromEntries(Object.values(res.body.flags as Record<string, Json>).map((f) => [f.key, f.enabled ? (f.variant ?? true) : false]));
}

beforeAll(async () => {
  t = await createTestApp();
  await createGroupType(t, 'company');
  const all100 = { groups: [{ properties: [], rollout_percentage: 100 }] };
  flags.on = await createFlag(t, { key: 'always-on', filters: { ...all100, payloads: { true: { hello: 'world' } } } });
  flags.pro = await createFlag(t, { key: 'pro-only', filters: { groups: [{ properties: [person('plan', 'pro')], rollout_percentage: 100 }] } });
  flags.half = await createFlag(t, { key: 'half', filters: { groups: [{ properties: [], rollout_percentage: 50 }] } });
  flags.variants = await createFlag(t, {
    key: 'variants',
    filters: {
      ...all100,
      multivariate: {
        variants: [
          { key: 'control', rollout_percentage: 50 },
          { key: 'test', rollout_percentage: 50 },
        ],
      },
    },
  });
  flags.group = await createFlag(t, {
    key: 'company-pro',
    filters: {
      aggregation_group_type_index: 0,
      groups: [{ properties: [{ key: 'tier', value: 'pro', operator: 'exact', type: 'group', group_type_index: 0 }] }],
    },
  });
  flags.inactive = await createFlag(t, { key: 'inactive', active: false, filters: all100 });
});
afterAll(async () => {
  await t?.close();
});

describe('one flag', () => {
  it('a flag on for everyone: true, STATIC, with its id, version and payload as metadata', async () => {
    const res = await one('always-on', { context: { targetingKey: 'user-1' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      key: 'always-on',
      value: true,
      reason: 'STATIC',
      metadata: {
        flagId: flags.on.id,
        version: 1,
        posthogReason: 'condition_match',
        posthogReasonDescription: 'Matched condition set 1',
        conditionIndex: 0,
        payload: '{"hello": "world"}',
      },
    });
  });

  it('context fields are person properties: TARGETING_MATCH when they match, DEFAULT (false) when not', async () => {
    const pro = await one('pro-only', { context: { targetingKey: 'user-1', plan: 'pro' } });
    expect(pro.body).toMatchObject({ key: 'pro-only', value: true, reason: 'TARGETING_MATCH' });
    const free = await one('pro-only', { context: { targetingKey: 'user-1', plan: 'free' } });
    expect(free.status).toBe(200);
    expect(free.body).toMatchObject({ key: 'pro-only', value: false, reason: 'DEFAULT', metadata: { posthogReason: 'no_condition_match' } });
    expect(free.body.metadata.payload).toBeUndefined();
  });

  it('a variant drawn by hash is the value and the variant, SPLIT; a partial rollout is SPLIT either way', async () => {
    for (const id of ['user-1', 'user-2', 'user-3', 'user-4']) {
      const expected = await flagsValues({ distinct_id: id });
      const variant = await one('variants', { context: { targetingKey: id } });
      expect(variant.body).toMatchObject({ value: expected.variants, variant: expected.variants, reason: 'SPLIT' });
      const half = await one('half', { context: { targetingKey: id } });
      expect(half.body).toMatchObject({ value: expected.half, reason: 'SPLIT' });
      expect(half.body.variant).toBeUndefined();
    }
  });

  it('groups and groupProperties reach group flags as /flags takes them', async () => {
    const context = { targetingKey: 'user-1', groups: { company: 'acme' }, groupProperties: { company: { tier: 'pro' } } };
    expect((await one('company-pro', { context })).body).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    const other = { ...context, groupProperties: { company: { tier: 'free' } } };
    expect((await one('company-pro', { context: other })).body).toMatchObject({ value: false, reason: 'DEFAULT' });
    expect((await one('company-pro', { context: { targetingKey: 'user-1' } })).body).toMatchObject({
      value: false,
      reason: 'DEFAULT',
      metadata: { posthogReason: 'no_group_type' },
    });
  });

  it('an inactive flag is false and DISABLED; an unknown key is 404 FLAG_NOT_FOUND', async () => {
    expect((await one('inactive', { context: { targetingKey: 'user-1' } })).body).toMatchObject({ key: 'inactive', value: false, reason: 'DISABLED' });
    const missing = await one('no-such-flag', { context: { targetingKey: 'user-1' } });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ key: 'no-such-flag', errorCode: 'FLAG_NOT_FOUND', errorDetails: "Flag 'no-such-flag' was not found." });
  });
});

describe('every flag', () => {
  it('the value of every active flag equals /flags for the same person, properties and groups', async () => {
    const people = [
      { targetingKey: 'alice', plan: 'pro', groups: { company: 'acme' }, groupProperties: { company: { tier: 'pro' } } },
      { targetingKey: 'bob', plan: 'free' },
      { targetingKey: 'carol' },
      { targetingKey: 'dave', plan: 'pro', groups: { company: 'initech' }, groupProperties: { company: { tier: 'free' } } },
    ];
    for (const { targetingKey, groups, groupProperties, ...props } of people) {
      const res = await bulk({ context: { targetingKey, groups, groupProperties, ...props } });
      expect(res.status).toBe(200);
      const expected = await flagsValues({ distinct_id: targetingKey, person_properties: props, groups, group_properties: groupProperties });
      const got = Object.fromEntries((res.body.flags as Json[]).map((f) => [f.key, f.value]));
      expect(got).toEqual(expected);
      expect(Object.keys(got)).not.toContain('inactive');
    }
  });

  it('answers with an ETag; If-None-Match with it gets 304 until the flags or the context change', async () => {
    const context = { context: { targetingKey: 'etag-user', plan: 'pro' } };
    const first = await bulk(context);
    const etag = first.headers.etag;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect((await bulk(context)).headers.etag).toBe(etag);
    const cached = await bulk(context).set('If-None-Match', etag);
    expect(cached.status).toBe(304);
    expect(cached.text ?? '').toBe('');
    expect(cached.headers.etag).toBe(etag);
    expect((await bulk(context).set('If-None-Match', `W/${etag}`)).status).toBe(304);
    const otherPerson = await bulk({ context: { targetingKey: 'etag-user', plan: 'free' } }).set('If-None-Match', etag);
    expect(otherPerson.status).toBe(200);
    expect(otherPerson.headers.etag).not.toBe(etag);
    await patchFlag(t, flags.pro.id, { active: false });
    try {
      const changed = await bulk(context).set('If-None-Match', etag);
      expect(changed.status).toBe(200);
      expect(changed.headers.etag).not.toBe(etag);
      expect((changed.body.flags as Json[]).map((f) => f.key)).not.toContain('pro-only');
    } finally {
      await patchFlag(t, flags.pro.id, { active: true });
    }
  });
});

describe('errors', () => {
  const cases: Array<[string, string, string]> = [
    ['not JSON', '{"context": ', 'PARSE_ERROR'],
    ['a JSON array', '[1]', 'PARSE_ERROR'],
    ['no targetingKey', JSON.stringify({ context: { plan: 'pro' } }), 'TARGETING_KEY_MISSING'],
    ['no context', JSON.stringify({}), 'TARGETING_KEY_MISSING'],
    ['a numeric targetingKey', JSON.stringify({ context: { targetingKey: 42 } }), 'INVALID_CONTEXT'],
    ['context not an object', JSON.stringify({ context: 'user-1' }), 'INVALID_CONTEXT'],
    ['groups with an object key', JSON.stringify({ context: { targetingKey: 'u', groups: { company: { id: 1 } } } }), 'INVALID_CONTEXT'],
    ['groupProperties not objects', JSON.stringify({ context: { targetingKey: 'u', groupProperties: { company: 'pro' } } }), 'INVALID_CONTEXT'],
  ];
  for (const [title, body, code] of cases) {
    it(`${title}: 400 ${code}, with the key on the one-flag path`, async () => {
      const single = await one('always-on', body);
      expect(single.status).toBe(400);
      expect(single.body).toMatchObject({ key: 'always-on', errorCode: code });
      expect(typeof single.body.errorDetails).toBe('string');
      const all = await bulk(body);
      expect(all.status).toBe(400);
      expect(Object.keys(all.body).sort()).toEqual(['errorCode', 'errorDetails']);
      expect(all.body.errorCode).toBe(code);
    });
  }

  it('an empty body is PARSE_ERROR', async () => {
    const res = await t.http.post('/ofrep/v1/evaluate/flags').set('Authorization', BEARER);
    expect(res.status).toBe(400);
    expect(res.body.errorCode).toBe('PARSE_ERROR');
  });

  it('a body over the /flags limit is 413, with OFREP’s general error body', async () => {
    const big = JSON.stringify({ context: { targetingKey: 'u', blob: 'x'.repeat(2 * 1024 * 1024 + 10) } });
    const res = await bulk(big);
    expect(res.status).toBe(413);
    expect(Object.keys(res.body)).toEqual(['errorDetails']);
  });

  it('GET is 405 in PostHog’s envelope', async () => {
    const res = await t.http.get('/ofrep/v1/evaluate/flags');
    expect(res.status).toBe(405);
    expect(res.body).toMatchObject({ type: 'invalid_request', code: 'method_not_allowed' });
  });
});

describe('authentication', () => {
  it('the project token as a bearer token or X-API-Key', async () => {
    const body = JSON.stringify({ context: { targetingKey: 'user-1' } });
    const viaHeader = await t.http
      .post('/ofrep/v1/evaluate/flags/always-on')
      .set('X-API-Key', PROJECT_TOKEN)
      .set('Content-Type', 'application/json')
      .send(body);
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body.value).toBe(true);
    expect((await one('always-on', body, `bearer ${PROJECT_TOKEN}`)).status).toBe(200);
  });

  it('no token: 401; an unknown token, or a secret or personal key instead of the project token: 401', async () => {
    const body = { context: { targetingKey: 'user-1' } };
    const none = await t.http.post('/ofrep/v1/evaluate/flags').set('Content-Type', 'application/json').send(JSON.stringify(body));
    expect(none.status).toBe(401);
    expect(none.body.errorDetails).toMatch(/Authorization: Bearer/);
    for (const auth of ['Bearer phc_unknown', `Bearer ${SECRET_TOKEN}`, 'Bearer phx_testadminkey0000000000000000000000000', 'Basic abc']) {
      const res = await bulk(body, auth);
      expect(res.status).toBe(401);
      expect(Object.keys(res.body)).toEqual(['errorDetails']);
      expect((await one('always-on', body, auth)).status).toBe(401);
    }
  });
});

describe('browsers', () => {
  it('CORS: the Origin is allowed, ETag exposed, and the preflight allows Authorization', async () => {
    const res = await bulk({ context: { targetingKey: 'user-1' } }).set('Origin', 'https://app.example.com');
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(res.headers['access-control-expose-headers']).toBe('ETag');
    const unauthorized = await t.http.post('/ofrep/v1/evaluate/flags/x').set('Origin', 'https://app.example.com').send('{}');
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const pre = await t.http
      .options('/ofrep/v1/evaluate/flags/always-on')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-headers']).toBe('authorization,content-type');
  });
});

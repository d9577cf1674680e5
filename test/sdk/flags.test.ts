// /flags and /decide over real HTTP: response shapes by version, config keys, methods, every body
// decoding PostHog accepts, request fields and their aliases, flag selection (keys, runtime,
// evaluation contexts, survey flags), experience continuity, group type registration and CORS.
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { createCohort, createFlag, createGroupType, dependsOn, eventually, inCohort, person, remoteClient, type Json } from '../helpers/sdk.ts';
import { flagHash } from '../../src/evaluation/hash.ts';

let t: TestApp;
const flags: Record<string, Json> = {};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NODE_UA = 'posthog-node/5.70.0';
const CONFIG_KEYS = {
  supportedCompression: ['gzip', 'gzip-js'],
  sessionRecording: false,
  surveys: false,
  heatmaps: false,
  capturePerformance: false,
  autocaptureExceptions: false,
  isAuthenticated: false,
  toolbarParams: {},
  config: { enable_collect_everything: true },
  hasFeatureFlags: true,
};

const post = (path: string, body: unknown, ua = NODE_UA) =>
  t.http
    .post(path)
    .set('User-Agent', ua)
    .send(body as object);
const flagsOf = (body: Json): Record<string, Json> => body.flags;
/** A request body for project 1 that only evaluates these keys. */
const only = (keys: string[], extra: Json = {}) => ({ token: PROJECT_TOKEN, distinct_id: 'someone', flag_keys_to_evaluate: keys, ...extra });

beforeAll(async () => {
  t = await createTestApp();
  await createGroupType(t, 'company');
  const all100 = { groups: [{ properties: [], rollout_percentage: 100 }] };
  flags.on = await createFlag(t, { key: 'always-on', filters: { ...all100, payloads: { true: { hello: 'world' } } } });
  flags.pro = await createFlag(t, {
    key: 'pro-only',
    filters: { groups: [{ properties: [person('plan', 'pro')], rollout_percentage: 100 }], payloads: { true: '"pro payload"' } },
  });
  flags.half = await createFlag(t, { key: 'half', filters: { groups: [{ properties: [], rollout_percentage: 50 }] } });
  flags.variants = await createFlag(t, {
    key: 'variants',
    filters: {
      groups: [{ properties: [], rollout_percentage: 100 }],
      multivariate: {
        variants: [
          { key: 'control', rollout_percentage: 50 },
          { key: 'test', rollout_percentage: 50 },
        ],
      },
      payloads: { control: { c: 1 }, test: { t: 2 } },
    },
  });
  flags.group = await createFlag(t, {
    key: 'company-half',
    filters: { aggregation_group_type_index: 0, groups: [{ properties: [], rollout_percentage: 50 }] },
  });
  flags.inactive = await createFlag(t, { key: 'inactive', active: false, filters: all100 });
  flags.dependent = await createFlag(t, { key: 'needs-pro', filters: { groups: [{ properties: [dependsOn(flags.pro.id)], rollout_percentage: 100 }] } });
  flags.server = await createFlag(t, { key: 'server-only', evaluation_runtime: 'server', filters: all100 });
  flags.client = await createFlag(t, { key: 'client-only', evaluation_runtime: 'client', filters: all100 });
  flags.web = await createFlag(t, { key: 'web-tagged', tags: ['web', 'docs'], evaluation_tags: ['web'], filters: all100 });
  flags.mobile = await createFlag(t, { key: 'mobile-tagged', tags: ['mobile'], evaluation_tags: ['mobile'], filters: all100 });
  flags.survey = await createFlag(t, { key: 'survey-targeting-abc', filters: all100 });
  flags.continuity = await createFlag(t, {
    key: 'continuity',
    ensure_experience_continuity: true,
    filters: { groups: [{ properties: [], rollout_percentage: 50 }] },
  });
  const members = await createCohort(t, { name: 'members', is_static: true, distinct_ids: ['member-1'] });
  flags.static = await createFlag(t, { key: 'static-members', filters: { groups: [{ properties: [inCohort(members.id)], rollout_percentage: 100 }] } });
});
afterAll(async () => {
  await t?.close();
});

describe('response shapes', () => {
  it('/flags?v=2: every evaluated flag with reason and metadata; payload only when enabled', async () => {
    const before = Date.now();
    const res = await post('/flags/?v=2', { token: PROJECT_TOKEN, distinct_id: 'user-1', person_properties: { plan: 'free' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.body;
    expect(Object.keys(body).sort()).toEqual(['errorsWhileComputingFlags', 'evaluatedAt', 'flags', 'requestId']);
    expect(body.errorsWhileComputingFlags).toBe(false);
    expect(body.requestId).toMatch(UUID);
    expect(body.evaluatedAt).toBeGreaterThanOrEqual(before);
    expect(body.evaluatedAt).toBeLessThanOrEqual(Date.now());
    expect(flagsOf(body)['always-on']).toEqual({
      key: 'always-on',
      enabled: true,
      variant: null,
      reason: { code: 'condition_match', condition_index: 0, description: 'Matched condition set 1' },
      metadata: { id: flags.on.id, version: 1, description: null, payload: '{"hello": "world"}', has_experiment: false },
    });
    expect(flagsOf(body)['pro-only']).toEqual({
      key: 'pro-only',
      enabled: false,
      variant: null,
      reason: { code: 'no_condition_match', condition_index: 0, description: 'No matching condition set' },
      metadata: { id: flags.pro.id, version: 1, description: null, payload: null, has_experiment: false },
    });
    const variant = flagsOf(body).variants;
    expect(variant.enabled).toBe(true);
    expect(['control', 'test']).toContain(variant.variant);
    expect(variant.metadata.payload).toBe(variant.variant === 'control' ? '{"c": 1}' : '{"t": 2}');
    expect(flagsOf(body).inactive).toBeUndefined();
    expect(flagsOf(body)['company-half']).toMatchObject({
      enabled: false,
      reason: { code: 'no_group_type', condition_index: 0, description: 'No group type' },
    });
    expect(flagsOf(body)['needs-pro']).toMatchObject({ enabled: false, reason: { code: 'no_condition_match' } });
    expect(flagsOf(body).half.reason.code).toBe(flagHash('half', 'user-1') <= 0.5 ? 'condition_match' : 'out_of_rollout_bound');
  });

  it('echoes a UUID X-Request-ID as requestId and replaces anything else', async () => {
    const id = '0b6f4b2e-4f8a-4d6c-9a51-3a1f2c9d8e7f';
    expect((await post('/flags/?v=2', only(['always-on'])).set('X-Request-ID', id)).body.requestId).toBe(id);
    const upper = 'ABCDEF01-2345-4678-9ABC-DEF012345678';
    expect((await post('/flags/?v=2', only(['always-on'])).set('X-Request-ID', upper)).body.requestId).toBe(upper);
    const replaced = (await post('/flags/?v=2', only(['always-on'])).set('X-Request-ID', 'not-a-uuid')).body.requestId;
    expect(replaced).toMatch(UUID);
    const a = (await post('/flags/?v=2', only(['always-on']))).body.requestId;
    const b = (await post('/flags/?v=2', only(['always-on']))).body.requestId;
    expect(a).not.toBe(b);
  });

  it('legacy v1 (/flags?v=1): every flag in featureFlags, payloads of enabled flags only', async () => {
    const res = await post('/flags?v=1', {
      token: PROJECT_TOKEN,
      distinct_id: 'user-1',
      person_properties: { plan: 'pro' },
      flag_keys_to_evaluate: ['always-on', 'pro-only', 'inactive', 'company-half', 'variants'],
    });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['errorsWhileComputingFlags', 'evaluatedAt', 'featureFlagPayloads', 'featureFlags', 'requestId']);
    expect(res.body.featureFlags).toEqual({ 'always-on': true, 'pro-only': true, 'company-half': false, variants: expect.stringMatching(/^(control|test)$/) });
    expect(res.body.featureFlagPayloads).toEqual({
      'always-on': '{"hello": "world"}',
      'pro-only': '"pro payload"',
      variants: res.body.featureFlags.variants === 'control' ? '{"c": 1}' : '{"t": 2}',
    });
  });

  it('/decide v1, v2, v3 and v4', async () => {
    const body = {
      token: PROJECT_TOKEN,
      distinct_id: 'user-1',
      person_properties: { plan: 'free' },
      flag_keys_to_evaluate: ['always-on', 'pro-only', 'variants'],
    };
    const v1 = await post('/decide/', body);
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject(CONFIG_KEYS);
    expect(v1.body.featureFlags).toEqual(['always-on', 'variants']);
    expect((await post('/decide?v=1', body)).body.featureFlags).toEqual(['always-on', 'variants']);

    const v2 = await post('/decide?v=2', body);
    expect(v2.body).toMatchObject(CONFIG_KEYS);
    expect(v2.body.featureFlags).toEqual({ 'always-on': true, variants: expect.stringMatching(/^(control|test)$/) });
    expect(v2.body.requestId).toMatch(UUID);

    const v3 = await post('/decide?v=3', body);
    expect(v3.body).toMatchObject(CONFIG_KEYS);
    expect(v3.body.featureFlags).toEqual({ 'always-on': true, 'pro-only': false, variants: expect.any(String) });
    expect(v3.body.featureFlagPayloads).toEqual({ 'always-on': '{"hello": "world"}', variants: expect.any(String) });

    const v4 = await post('/decide?v=4', body);
    expect(v4.body).toMatchObject(CONFIG_KEYS);
    expect(Object.keys(v4.body.flags).sort()).toEqual(['always-on', 'pro-only', 'variants']);
    expect(v4.body.flags['always-on']).toMatchObject({ enabled: true, reason: { code: 'condition_match' }, metadata: { id: flags.on.id } });

    const noConfig = await post('/decide?v=3&config=false', body);
    expect(noConfig.body.supportedCompression).toBeUndefined();
    expect(noConfig.body.featureFlags).toBeDefined();
  });

  it('config keys: /flags without v and config means v2 with config; explicit values are honoured', async () => {
    const body = only(['always-on']);
    const bare = await post('/flags', body);
    expect(bare.body).toMatchObject(CONFIG_KEYS);
    expect(bare.body.flags['always-on'].enabled).toBe(true);
    const slash = await post('/flags/', body);
    expect(slash.body).toMatchObject({ ...CONFIG_KEYS, flags: { 'always-on': expect.any(Object) } });

    const v2 = await post('/flags?v=2', body);
    expect(v2.body.supportedCompression).toBeUndefined();
    expect(v2.body.flags).toBeDefined();
    const v2config = await post('/flags?v=2&config=true', body);
    expect(v2config.body).toMatchObject({ ...CONFIG_KEYS, flags: { 'always-on': expect.any(Object) } });
    const legacyConfig = await post('/flags?config=true', body);
    expect(legacyConfig.body).toMatchObject({ ...CONFIG_KEYS, featureFlags: { 'always-on': true } });
    expect((await post('/flags?version=2', body)).body.flags).toBeDefined();
  });

  it('reports failed flags and errorsWhileComputingFlags (a cohort that no longer exists)', async () => {
    const broken = await createFlag(t, { key: 'broken-cohort', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    await t.sql('update feature_flags set filters = $1 where id = $2', [
      JSON.stringify({ groups: [{ properties: [inCohort(424242)], rollout_percentage: 100 }] }),
      broken.id,
    ]);
    t.ctx.changes.projectChanged(1);
    const res = await eventually(async () => {
      const r = await post('/flags?v=2', only(['broken-cohort', 'always-on']));
      return r.body.flags['broken-cohort']?.failed ? r : undefined;
    });
    expect(res!.body.errorsWhileComputingFlags).toBe(true);
    expect(res!.body.flags['broken-cohort']).toMatchObject({ enabled: false, failed: true, variant: null, reason: { code: 'dependency_not_found_cohort' } });
    expect(res!.body.flags['always-on'].enabled).toBe(true);
    await t.api('patch', `/api/projects/1/feature_flags/${broken.id}/`).send({ deleted: true });
  });
});

describe('methods', () => {
  it('GET answers minimal config and no flags in the shape of v; HEAD 200 empty; OPTIONS 204; PUT 405', async () => {
    const get = await t.http.get('/flags');
    expect(get.status).toBe(200);
    expect(get.body).toMatchObject({
      ...CONFIG_KEYS,
      hasFeatureFlags: false,
      flags: {},
      errorsWhileComputingFlags: false,
      requestId: expect.stringMatching(UUID),
    });
    const getV1 = await t.http.get('/flags?v=1');
    expect(getV1.body).toMatchObject({ featureFlags: {}, featureFlagPayloads: {} });
    expect((await t.http.get('/decide/')).body).toMatchObject({ ...CONFIG_KEYS, hasFeatureFlags: false, featureFlags: [] });

    const head = await rawRequest(t.baseUrl, 'HEAD', '/flags/?v=2');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const path of ['/flags', '/flags/', '/decide', '/decide/']) {
      const options = await rawRequest(t.baseUrl, 'OPTIONS', path);
      expect(options.status, path).toBe(204);
      for (const method of ['PUT', 'PATCH', 'DELETE']) {
        const res = await rawRequest(t.baseUrl, method, path, { 'content-type': 'application/json' }, '{}');
        expect(res.status, `${method} ${path}`).toBe(405);
      }
    }
  });
});

describe('body decoding', () => {
  const json = JSON.stringify({ token: PROJECT_TOKEN, distinct_id: 'decoded', flag_keys_to_evaluate: ['always-on'] });
  const ok = (res: { status: number; body: Buffer }) => {
    expect(res.status, res.body.toString()).toBe(200);
    expect(JSON.parse(res.body.toString()).flags['always-on'].enabled).toBe(true);
  };
  const send = (path: string, headers: Record<string, string>, body: Buffer | string) => rawRequest(t.baseUrl, 'POST', path, headers, body);

  it('gzip chosen by ?compression=gzip / gzip-js, by Content-Encoding, or by magic bytes', async () => {
    const gz = zlib.gzipSync(json);
    ok(await send('/flags/?v=2&compression=gzip', { 'content-type': 'application/json' }, gz));
    ok(await send('/flags/?v=2&compression=gzip-js', { 'content-type': 'text/plain' }, gz));
    ok(await send('/flags/?v=2', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, gz));
    ok(await send('/flags/?v=2', { 'content-type': 'text/plain;charset=UTF-8' }, gz));
    ok(await send('/flags/?v=2', {}, gz));
  });

  it('base64 form bodies (data=…&compression=base64), URL-encoded base64 and plain base64 text', async () => {
    const b64 = Buffer.from(json).toString('base64');
    ok(await send('/flags/?v=2&compression=base64', { 'content-type': 'application/x-www-form-urlencoded' }, `data=${encodeURIComponent(b64)}`));
    ok(await send('/flags/?v=2', { 'content-type': 'application/x-www-form-urlencoded' }, `data=${encodeURIComponent(b64)}`));
    ok(await send('/flags/?v=2', { 'content-type': 'text/plain' }, encodeURIComponent(b64)));
    ok(await send('/flags/?v=2', { 'content-type': 'application/json' }, b64));
    ok(await send('/flags/?v=2', { 'content-type': 'application/json' }, b64.replace(/=+$/, '')));
    ok(await send('/decide/?v=4', { 'content-type': 'text/plain' }, encodeURIComponent(json)));
    const gzForm = await send('/flags/?v=2&compression=gzip', { 'content-type': 'application/x-www-form-urlencoded' }, `data=${encodeURIComponent(b64)}`);
    expect(gzForm.status).toBe(400);
  });

  it('lenient JSON: NaN and ±Infinity become null; invalid UTF-8 is replaced', async () => {
    const lenient = `{"token": "${PROJECT_TOKEN}", "distinct_id": "nan", "person_properties": {"a": NaN, "b": Infinity, "c": -Infinity, "s": "NaN"}, "flag_keys_to_evaluate": ["always-on"]}`;
    ok(await send('/flags/?v=2', { 'content-type': 'application/json' }, lenient));
    const bytes = Buffer.concat([
      Buffer.from(`{"token": "${PROJECT_TOKEN}", "distinct_id": "bad-`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('", "flag_keys_to_evaluate": ["always-on"]}'),
    ]);
    ok(await send('/flags/?v=2', { 'content-type': 'application/json' }, bytes));
  });

  it('400 for unknown compression, unsupported content types and undecodable bodies; 413 for a gzip bomb', async () => {
    expect((await send('/flags/?v=2&compression=lz64', { 'content-type': 'application/json' }, json)).status).toBe(400);
    expect((await send('/flags/?v=2', { 'content-type': 'application/xml' }, json)).status).toBe(400);
    expect((await send('/flags/?v=2', { 'content-type': 'multipart/form-data; boundary=x' }, json)).status).toBe(400);
    expect((await send('/flags/?v=2', { 'content-type': 'application/json' }, '{not json')).status).toBe(400);
    expect((await send('/flags/?v=2', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'not gzip')).status).toBe(400);

    // 80 MB of zeros compress to ~80 KB; decompression stops at the inflated-size bound (413).
    const bomb = zlib.gzipSync(Buffer.alloc(80 * 1024 * 1024), { level: 1 });
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const started = Date.now();
    const res = await send('/flags/?v=2', { 'content-type': 'text/plain' }, bomb);
    expect(res.status).toBe(413);
    expect(Date.now() - started).toBeLessThan(5000);
    ok(await send('/flags/?v=2', { 'content-type': 'application/json' }, json));
  });
});

describe('request fields', () => {
  it('token aliases: token, api_key, $token; missing or unknown token is 401', async () => {
    for (const field of ['token', 'api_key', '$token']) {
      const res = await post('/flags?v=2', { [field]: PROJECT_TOKEN, distinct_id: 'alias', flag_keys_to_evaluate: ['always-on'] });
      expect(res.status, field).toBe(200);
      expect(res.body.flags['always-on'].enabled).toBe(true);
    }
    const missing = await post('/flags?v=2', { distinct_id: 'x' });
    expect(missing.status).toBe(401);
    const unknown = await post('/flags?v=2', { token: 'phc_nope000000000000000000000', distinct_id: 'x' });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toMatchObject({ type: 'authentication_error' });
  });

  it('distinct_id: required (400), numbers are strings, $distinct_id alias, truncated to 200 characters', async () => {
    expect((await post('/flags?v=2', { token: PROJECT_TOKEN })).status).toBe(400);
    expect((await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: null })).status).toBe(400);
    expect((await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: { a: 1 } })).status).toBe(400);
    expect((await t.http.post('/flags?v=2').set('Content-Type', 'application/json').send('')).status).toBe(400);
    expect((await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: '' })).status).toBe(200);

    for (let n = 1000; n < 1010; n++) {
      const res = await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: n, flag_keys_to_evaluate: ['half'] });
      expect(res.body.flags.half.enabled, String(n)).toBe(flagHash('half', String(n)) <= 0.5);
      const alias = await post('/flags?v=2', { token: PROJECT_TOKEN, $distinct_id: String(n), flag_keys_to_evaluate: ['half'] });
      expect(alias.body.flags.half.enabled).toBe(res.body.flags.half.enabled);
    }
    const long = 'x'.repeat(199) + 'abcdefghij'.repeat(10);
    const outcomes = new Set<boolean>();
    for (let i = 0; i < 8; i++) {
      const prefix = `${i}`.padEnd(200, 'y');
      const res = await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: prefix + long, flag_keys_to_evaluate: ['half'] });
      expect(res.body.flags.half.enabled).toBe(flagHash('half', prefix) <= 0.5);
      outcomes.add(res.body.flags.half.enabled);
    }
    expect(outcomes.size).toBe(2);
  });

  it('person_properties ($properties) and groups ($groups), with numeric group keys', async () => {
    expect((await post('/flags?v=2', only(['pro-only'], { person_properties: { plan: 'pro' } }))).body.flags['pro-only'].enabled).toBe(true);
    expect((await post('/flags?v=2', only(['pro-only'], { $properties: { plan: 'pro' } }))).body.flags['pro-only'].enabled).toBe(true);
    for (const key of ['acme', 'globex', 'initech', 'umbrella', 42, 43, 44]) {
      const expected = flagHash('company-half', String(key)) <= 0.5;
      const res = await post('/flags?v=2', only(['company-half'], { groups: { company: key } }));
      expect(res.body.flags['company-half'].enabled, String(key)).toBe(expected);
      const alias = await post('/flags?v=2', only(['company-half'], { $groups: { company: key } }));
      expect(alias.body.flags['company-half'].enabled).toBe(expected);
    }
    const empty = await post('/flags?v=2', only(['company-half'], { groups: { company: '' } }));
    expect(empty.body.flags['company-half'].reason.code).toBe('no_group_type');
  });

  it('the server adds distinct_id to person properties; a distinct_id sent in person_properties wins', async () => {
    const flag = await createFlag(t, {
      key: 'by-distinct-id',
      filters: { groups: [{ properties: [person('distinct_id', 'alice')], rollout_percentage: 100 }] },
    });
    expect(
      (await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: 'alice', flag_keys_to_evaluate: ['by-distinct-id'] })).body.flags['by-distinct-id']
        .enabled,
    ).toBe(true);
    expect(
      (await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: 'bob', flag_keys_to_evaluate: ['by-distinct-id'] })).body.flags['by-distinct-id'].enabled,
    ).toBe(false);
    const overridden = await post('/flags?v=2', {
      token: PROJECT_TOKEN,
      distinct_id: 'bob',
      person_properties: { distinct_id: 'alice' },
      flag_keys_to_evaluate: ['by-distinct-id'],
    });
    expect(overridden.body.flags['by-distinct-id'].enabled).toBe(true);
    await t.api('patch', `/api/projects/1/feature_flags/${flag.id}/`).send({ deleted: true });
  });

  it('flag_keys_to_evaluate (flag_keys) restricts evaluation to those keys plus their dependencies', async () => {
    const res = await post('/flags?v=2', only(['needs-pro', 'does-not-exist'], { person_properties: { plan: 'pro' } }));
    expect(Object.keys(res.body.flags).sort()).toEqual(['needs-pro', 'pro-only']);
    expect(res.body.flags['needs-pro'].enabled).toBe(true);
    const alias = await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: 'x', flag_keys: ['always-on'] });
    expect(Object.keys(alias.body.flags)).toEqual(['always-on']);
    const none = await post('/flags?v=2', only(['inactive']));
    expect(none.body.flags).toEqual({});
  });

  it('static cohorts are answered from membership', async () => {
    expect(
      (await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: 'member-1', flag_keys_to_evaluate: ['static-members'] })).body.flags['static-members'],
    ).toMatchObject({
      enabled: true,
      reason: { code: 'condition_match' },
    });
    expect(
      (await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: 'member-2', flag_keys_to_evaluate: ['static-members'] })).body.flags['static-members']
        .enabled,
    ).toBe(false);
  });

  it('disable_flags returns no flags, config still when asked', async () => {
    const res = await post('/flags', { token: PROJECT_TOKEN, distinct_id: 'x', disable_flags: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...CONFIG_KEYS, flags: {}, errorsWhileComputingFlags: false });
    expect((await post('/flags?v=1', { token: PROJECT_TOKEN, distinct_id: 'x', disable_flags: true })).body.featureFlags).toEqual({});
  });
});

describe('which flags are evaluated', () => {
  const keysFor = async (headers: Record<string, string>, extra: Json = {}) => {
    const res = await t.http
      .post('/flags?v=2')
      .set(headers)
      .send({ token: PROJECT_TOKEN, distinct_id: 'rt', flag_keys_to_evaluate: ['server-only', 'client-only', 'always-on'], ...extra });
    expect(res.status).toBe(200);
    return Object.keys(res.body.flags).sort();
  };

  it('runtime: explicit evaluation_runtime, else inferred from User-Agent, else from browser headers', async () => {
    expect(await keysFor({ 'User-Agent': NODE_UA })).toEqual(['always-on', 'server-only']);
    expect(await keysFor({ 'User-Agent': 'posthog-python/6.7.0' })).toEqual(['always-on', 'server-only']);
    const browser = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
    expect(await keysFor({ 'User-Agent': browser, Origin: 'https://app.example.com' })).toEqual(['always-on', 'client-only']);
    expect(await keysFor({ 'User-Agent': 'posthog-js/1.200.0' })).toEqual(['always-on', 'client-only']);
    expect(await keysFor({ 'User-Agent': 'some-http-client/1.0', Origin: 'https://app.example.com' })).toEqual(['always-on', 'client-only']);
    expect(await keysFor({ 'User-Agent': 'some-http-client/1.0', 'Sec-Fetch-Mode': 'cors' })).toEqual(['always-on', 'client-only']);
    expect(await keysFor({ 'User-Agent': 'some-http-client/1.0' })).toEqual(['always-on']);
    expect(await keysFor({ 'User-Agent': NODE_UA }, { evaluation_runtime: 'client' })).toEqual(['always-on', 'client-only']);
    expect(await keysFor({ 'User-Agent': browser, Origin: 'https://x.example' }, { evaluation_runtime: 'server' })).toEqual(['always-on', 'server-only']);
  });

  it('runtime-filtered and inactive dependencies count as false', async () => {
    const gated = await createFlag(t, {
      key: 'needs-client-flag',
      filters: { groups: [{ properties: [dependsOn(flags.client.id, false)], rollout_percentage: 100 }] },
    });
    const res = await post('/flags?v=2', only(['needs-client-flag']));
    expect(res.body.flags['needs-client-flag'].enabled).toBe(true);
    expect(res.body.flags['client-only']).toBeUndefined();
    await t.api('patch', `/api/projects/1/feature_flags/${gated.id}/`).send({ deleted: true });
  });

  it('posthog-node remote evaluation sends evaluation_runtime server', async () => {
    const c = remoteClient(t);
    try {
      const all = await c.client.getAllFlags('rt-node');
      expect(all['server-only']).toBe(true);
      expect(all['client-only']).toBeUndefined();
      expect(c.errors).toEqual([]);
    } finally {
      await c.client.shutdown();
    }
  });

  it('evaluation_contexts (evaluation_environments): tagged flags need a shared context', async () => {
    const keys = async (extra: Json) => {
      const res = await post('/flags?v=2', only(['web-tagged', 'mobile-tagged', 'always-on'], extra));
      return Object.keys(res.body.flags).sort();
    };
    expect(await keys({})).toEqual(['always-on', 'mobile-tagged', 'web-tagged']);
    expect(await keys({ evaluation_contexts: [] })).toEqual(['always-on', 'mobile-tagged', 'web-tagged']);
    expect(await keys({ evaluation_contexts: ['web'] })).toEqual(['always-on', 'web-tagged']);
    expect(await keys({ evaluation_contexts: ['docs'] })).toEqual(['always-on']);
    expect(await keys({ evaluation_contexts: ['mobile', 'web'] })).toEqual(['always-on', 'mobile-tagged', 'web-tagged']);
    expect(await keys({ evaluation_environments: ['mobile'] })).toEqual(['always-on', 'mobile-tagged']);
  });

  it('only_evaluate_survey_feature_flags=true keeps survey-targeting flags only', async () => {
    const res = await post('/flags?v=2&only_evaluate_survey_feature_flags=true', { token: PROJECT_TOKEN, distinct_id: 'x' });
    expect(Object.keys(res.body.flags)).toEqual(['survey-targeting-abc']);
    const all = await post('/flags?v=2&only_evaluate_survey_feature_flags=false', { token: PROJECT_TOKEN, distinct_id: 'x' });
    expect(Object.keys(all.body.flags).length).toBeGreaterThan(5);
    // A body field of that name is not the switch.
    const body = await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: 'x', only_evaluate_survey_feature_flags: true });
    expect(Object.keys(body.body.flags).length).toBeGreaterThan(5);
  });
});

describe('experience continuity', () => {
  it('buckets by $anon_distinct_id (or anon_distinct_id) when the request carries one', async () => {
    let differing = 0;
    for (let i = 0; differing < 6 && i < 200; i++) {
      const distinctId = `identified-${i}`;
      const anon = `anon-${i}`;
      const byAnon = flagHash('continuity', anon) <= 0.5;
      if (byAnon === flagHash('continuity', distinctId) <= 0.5) continue;
      differing++;
      const field = differing % 2 ? '$anon_distinct_id' : 'anon_distinct_id';
      const res = await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: distinctId, [field]: anon, flag_keys_to_evaluate: ['continuity', 'half'] });
      expect(res.body.flags.continuity.enabled, distinctId).toBe(byAnon);
      // Flags without continuity still bucket on distinct_id.
      expect(res.body.flags.half.enabled).toBe(flagHash('half', distinctId) <= 0.5);
      const plain = await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: `fresh-${distinctId}`, flag_keys_to_evaluate: ['continuity'] });
      expect(plain.body.flags.continuity.enabled).toBe(flagHash('continuity', `fresh-${distinctId}`) <= 0.5);
    }
    expect(differing).toBe(6);
  });
});

describe('group types and CORS', () => {
  it('registers a group type seen for the first time', async () => {
    const before = await t.api('get', '/api/projects/1/groups_types/');
    expect(before.body.map((g: Json) => g.group_type)).toEqual(['company']);
    const res = await post('/flags?v=2', { token: PROJECT_TOKEN, distinct_id: 'g', groups: { workspace: 'w-1', company: 'c-1' } });
    expect(res.status).toBe(200);
    const listed = await eventually(async () => {
      const list = await t.api('get', '/api/projects/1/groups_types/');
      return list.body.some((g: Json) => g.group_type === 'workspace') ? list.body : undefined;
    }, 3000);
    expect(listed.map((g: Json) => [g.group_type_index, g.group_type])).toEqual([
      [0, 'company'],
      [1, 'workspace'],
    ]);
    const defs = await t.http.get(`/flags/definitions?token=${PROJECT_TOKEN}`).set('Authorization', `Bearer ${t.boot.personalApiKey}`);
    expect(defs.body.group_type_mapping).toEqual({ 0: 'company', 1: 'workspace' });
  });

  it('answers a browser Origin with CORS headers, and preflights with 204', async () => {
    const origin = 'https://shop.example.com';
    const res = await t.http
      .post('/flags/?v=2')
      .set('Origin', origin)
      .set('User-Agent', 'Mozilla/5.0 Firefox/128.0')
      .send(only(['always-on']));
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers.vary).toMatch(/Origin/);
    const preflight = await rawRequest(t.baseUrl, 'OPTIONS', '/flags/?v=2', {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(origin);
    expect(preflight.headers['access-control-allow-methods']).toMatch(/POST/);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/content-type/i);
    const noOrigin = await post('/flags/?v=2', only(['always-on']));
    expect(noOrigin.headers['access-control-allow-origin']).toBeUndefined();
    // Error answers are readable by the browser too.
    const unknown = await t.http.post('/flags/?v=2').set('Origin', origin).send({ token: 'phc_unknown0000000000000000', distinct_id: 'x' });
    expect(unknown.status).toBe(401);
    expect(unknown.headers['access-control-allow-origin']).toBe(origin);
    const bad = await t.http
      .post('/flags/?v=2&compression=zstd')
      .set('Origin', origin)
      .send(only(['always-on']));
    expect(bad.status).toBe(400);
    expect(bad.headers['access-control-allow-origin']).toBe(origin);
  });
});

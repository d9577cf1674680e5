// One request must not stop the world: hostile bodies and values are refused (or answered) at a
// cost bounded before the work, in PostHog's envelope, while an ordinary /flags request sent
// meanwhile still answers within 100 ms (src/sdk/body.ts, src/platform/bounded-json.ts,
// src/evaluation/regex.ts and operators.ts; the limits are in the README's Reliability section).
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { createFlag, person } from '../helpers/sdk.ts';
import { rawSend, sendWhileProbing, type Probed, type RawRequest } from '../helpers/probe.ts';

let t: TestApp;
const MB = 1024 * 1024;
const STALL_MS = 100;
const SDK_PATHS = ['/flags?v=2', '/decide?v=4', '/batch/', '/e/', '/i/v0/e/', '/capture/', '/track/'];
const JSON_TYPE = { 'content-type': 'application/json' };

/** A 4xx in PostHog's envelope, with the /flags probe never stalled. */
function expectRefused(res: Probed, status: number, label: string): void {
  expect(res.status, `${label}: ${res.text.slice(0, 200)}`).toBe(status);
  const body = res.json();
  expect(typeof body.type === 'string' && typeof body.code === 'string' && typeof body.detail === 'string' && 'attr' in body, label).toBe(true);
  expectNoStall(res, label);
}

function expectNoStall(res: Probed, label: string): void {
  expect(res.worstProbeMs, `${label}: an ordinary /flags took ${res.worstProbeMs} ms`).toBeLessThan(STALL_MS);
}

const flags = (distinctId: string, personProperties: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  rawSend(t.baseUrl, {
    path: '/flags?v=2',
    headers: JSON_TYPE,
    body: Buffer.from(JSON.stringify({ token: PROJECT_TOKEN, distinct_id: distinctId, person_properties: personProperties, ...extra })),
  });

let bomb: Buffer;
beforeAll(async () => {
  t = await createTestApp();
  // 61 KB on the wire, 60 MB of `[` once inflated.
  bomb = zlib.gzipSync(Buffer.alloc(60 * MB, '['), { level: 9 });
  await createFlag(t, { key: 'corp-email', filters: { groups: [{ properties: [person('email', '.*@corp\\.com$', 'regex')], rollout_percentage: 100 }] } });
  await createFlag(t, {
    key: 'not-corp-email',
    filters: { groups: [{ properties: [person('email', '.*@corp\\.com$', 'not_regex')], rollout_percentage: 100 }] },
  });
  await createFlag(t, { key: 'lower-tail', filters: { groups: [{ properties: [person('name', '[a-z]+$', 'regex')], rollout_percentage: 100 }] } });
  await createFlag(t, {
    key: 'email-shape',
    filters: { groups: [{ properties: [person('email', '[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}', 'regex')], rollout_percentage: 100 }] },
  });
  await createFlag(t, { key: 'contains-corp', filters: { groups: [{ properties: [person('email', 'corp', 'not_icontains')], rollout_percentage: 100 }] } });
});
afterAll(async () => {
  await t?.close();
});

describe('SDK bodies', () => {
  it('is a 61 KB body that inflates to 60 MB', () => {
    expect(bomb.length).toBeLessThan(70 * 1024);
  });

  for (const path of SDK_PATHS) {
    it(`refuses a gzip bomb to ${path} with 413 before inflating it`, async () => {
      const res = await sendWhileProbing(t.baseUrl, { path, headers: { 'content-type': 'text/plain' }, body: bomb });
      expectRefused(res, 413, path);
      expect(res.json().detail).toMatch(/decompressed request body exceeds the limit/i);
    });
  }

  it('refuses the bomb however the compression is announced (header, query, form)', async () => {
    const sends: RawRequest[] = [
      { path: '/flags?v=2', headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: bomb },
      { path: '/batch/?compression=gzip-js', headers: JSON_TYPE, body: bomb },
      {
        path: '/e/?compression=base64',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(`data=${encodeURIComponent(bomb.toString('base64'))}`),
      },
    ];
    for (const req of sends) expectRefused(await sendWhileProbing(t.baseUrl, req), 413, req.path);
  });

  it('refuses 19 MB of plain garbage to every endpoint without parsing it', async () => {
    const garbage = Buffer.alloc(19 * MB, 'x');
    // JSON-looking all the way, broken only at the very end.
    const almost = Buffer.from(`{"api_key":"${PROJECT_TOKEN}","batch":[${'{"event":"e","distinct_id":"d","properties":{"a":[1,2,3]}},'.repeat(330_000)}`);
    for (const path of SDK_PATHS) {
      const res = await sendWhileProbing(t.baseUrl, { path, headers: JSON_TYPE, body: garbage });
      expectRefused(res, path.startsWith('/batch') ? 400 : 413, path);
    }
    expect(almost.length).toBeGreaterThan(18 * MB);
    expectRefused(await sendWhileProbing(t.baseUrl, { path: '/batch/', headers: JSON_TYPE, body: almost }), 400, 'truncated batch');
  });

  it('refuses deep nesting before JSON.parse builds it', async () => {
    for (const [path, size] of [
      ['/flags?v=2', 1.5 * MB],
      ['/e/', 1.5 * MB],
      ['/batch/', 15 * MB],
    ] as const) {
      const res = await sendWhileProbing(t.baseUrl, { path, headers: JSON_TYPE, body: Buffer.alloc(size, '[') });
      expectRefused(res, 400, path);
      expect(res.json().detail).toMatch(/deeper than 1000 levels/);
    }
  });

  it('tries the URL-encoded and base64 fallbacks only on small bodies, quickly', async () => {
    const encoded = Buffer.from(encodeURIComponent('{"broken": '.repeat(45_000)));
    expect(encoded.length).toBeLessThan(1 * MB);
    expectRefused(await sendWhileProbing(t.baseUrl, { path: '/flags?v=2', headers: { 'content-type': 'text/plain' }, body: encoded }), 400, 'url-encoded');
    const base64 = Buffer.from(Buffer.from('{"broken": '.repeat(70_000)).toString('base64'));
    expectRefused(
      await sendWhileProbing(t.baseUrl, { path: '/e/', headers: { 'content-type': 'text/plain' }, body: base64.subarray(0, 1.5 * MB) }),
      400,
      'base64',
    );
    const form = Buffer.from(`data=${'A'.repeat(1.5 * MB)}`);
    expectRefused(
      await sendWhileProbing(t.baseUrl, { path: '/batch/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form }),
      413,
      'form',
    );
  });

  it('still decodes what SDKs send: a large gzip batch and a small base64 form', async () => {
    const events = Array.from({ length: 5_000 }, (_, i) => ({
      event: '$pageview',
      distinct_id: `big-batch-${i % 50}`,
      properties: { $current_url: `https://example.com/${i}`, i },
    }));
    const body = zlib.gzipSync(JSON.stringify({ api_key: PROJECT_TOKEN, batch: events }));
    const res = await sendWhileProbing(t.baseUrl, { path: '/batch/', headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body });
    expect(res.status, res.text).toBe(200);
    // Decoding is in slices on both databases; embedded PGlite then runs its own SQL for the
    // writes on this same thread, which is the database's cost rather than the request's.
    if (t.database.kind === 'postgres') expectNoStall(res, 'large batch');
    const [{ n }] = await t.sql<{ n: number }>("select count(*)::int as n from person_distinct_ids where distinct_id like 'big-batch-%'");
    expect(n).toBe(50);
    const form = `data=${encodeURIComponent(Buffer.from(JSON.stringify({ token: PROJECT_TOKEN, distinct_id: 'form-person', person_properties: { email: 'a@corp.com' } })).toString('base64'))}`;
    const flagsRes = await rawSend(t.baseUrl, {
      path: '/flags?v=2&compression=base64',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(form),
    });
    expect(flagsRes.status, flagsRes.text).toBe(200);
    expect(flagsRes.json().flags['corp-email'].enabled).toBe(true);
  });
});

describe('management JSON', () => {
  it('refuses 1 MB of nesting before parsing it', async () => {
    const res = await sendWhileProbing(t.baseUrl, {
      path: '/api/projects/1/feature_flags/',
      headers: { ...JSON_TYPE, authorization: `Bearer ${ADMIN_KEY}` },
      body: Buffer.alloc(MB, '['),
    });
    expectRefused(res, 400, 'nesting');
    expect(res.json()).toEqual({ type: 'invalid_request', code: 'parse_error', detail: 'JSON parse error - nesting deeper than 64 levels', attr: null });
  });
});

describe('regex and string conditions', () => {
  const long = (suffix: string, size = MB) => 'a'.repeat(size - suffix.length) + suffix;

  it('answers a /flags carrying a long property value quickly; no string condition holds on it', async () => {
    // 45,000 characters that do not match: under V8's 50,000-backtrack threshold an unanchored
    // search of them was quadratic (seconds per condition). And a 1 MB value.
    for (const [size, suffix] of [
      [45_000, '!'],
      [MB, 'x@corp.com'],
    ] as const) {
      const body = { token: PROJECT_TOKEN, distinct_id: 'long-value', person_properties: { email: long(suffix, size), name: long('!', size / 2) } };
      const res = await sendWhileProbing(t.baseUrl, { path: '/flags?v=2', headers: JSON_TYPE, body: Buffer.from(JSON.stringify(body)) });
      expect(res.status, res.text).toBe(200);
      expectNoStall(res, `${size} characters`);
      const answer = res.json().flags;
      for (const key of ['corp-email', 'not-corp-email', 'lower-tail', 'email-shape', 'contains-corp'])
        expect(answer[key].enabled, `${key} on ${size}`).toBe(false);
    }
  });

  it('still compares values up to 10,000 characters, on every engine', async () => {
    for (const size of [200, 5_000, 10_000]) {
      const res = await flags(`ok-${size}`, { email: long('x@corp.com', size), name: long('abc', size) });
      const answer = res.json().flags;
      expect(answer['corp-email'].enabled, `${size}`).toBe(true);
      expect(answer['not-corp-email'].enabled, `${size}`).toBe(false);
      expect(answer['lower-tail'].enabled, `${size}`).toBe(true);
      expect(answer['email-shape'].enabled, `${size}`).toBe(true);
    }
    const other = (await flags('other', { email: long('x@example.com', 9_000) })).json().flags;
    expect(other['corp-email'].enabled).toBe(false);
    expect(other['not-corp-email'].enabled).toBe(true);
    expect(other['contains-corp'].enabled).toBe(true);
  });

  it('does not make every later /flags pay for a long value stored with $set', async () => {
    // Under V8's 50,000-backtrack threshold, where an unanchored search that fails went quadratic.
    const stored = long('!', 45_000);
    const capture = await rawSend(t.baseUrl, {
      path: '/batch/',
      headers: JSON_TYPE,
      body: Buffer.from(
        JSON.stringify({ api_key: PROJECT_TOKEN, batch: [{ event: '$identify', distinct_id: 'stored-long', properties: { $set: { email: stored } } }] }),
      ),
    });
    expect(capture.status, capture.text).toBe(200);
    const [row] = await t.sql<{ n: number }>(
      "select length(p.properties->>'email')::int as n from persons p join person_distinct_ids d on d.person_id = p.id where d.distinct_id = 'stored-long'",
    );
    expect(row.n).toBe(45_000);
    for (let i = 0; i < 3; i++) {
      const res = await sendWhileProbing(t.baseUrl, () => flags('stored-long'));
      expect(res.status).toBe(200);
      expectNoStall(res, 'stored value');
      expect(res.json().flags['corp-email'].enabled).toBe(false);
      expect(res.json().flags['not-corp-email'].enabled).toBe(false);
    }
  });

  it('refuses a person update that would store more than 1 MiB of properties', async () => {
    const batch = [
      { event: '$identify', distinct_id: 'too-big', properties: { $set: { email: 'ok@corp.com' } } },
      { event: 'e', distinct_id: 'too-big', properties: { $set: { blob: 'x'.repeat(1_100_000) } } },
    ];
    const res = await rawSend(t.baseUrl, { path: '/batch/', headers: JSON_TYPE, body: Buffer.from(JSON.stringify({ api_key: PROJECT_TOKEN, batch })) });
    expect(res.status, res.text).toBe(200);
    const rows = await t.sql<{ size: number }>(
      "select length(p.properties::text)::int as size from persons p join person_distinct_ids d on d.person_id = p.id where d.distinct_id = 'too-big'",
    );
    expect(rows.length).toBe(1);
    expect(rows[0].size).toBeLessThan(1000);
  });

  it('applies the regex cost screen on PATCH, as on create, and keeps evaluation linear', async () => {
    const flag = await createFlag(t, {
      key: 'patched-regex',
      filters: { groups: [{ properties: [person('email', '@corp', 'regex')], rollout_percentage: 100 }] },
    });
    for (const pattern of ['(a{255}){255}', '(x{2}){1200}', '(?:a?){150}a{150}']) {
      const res = await t
        .api('patch', `/api/projects/1/feature_flags/${flag.id}/`)
        .send({ filters: { groups: [{ properties: [person('email', pattern, 'regex')], rollout_percentage: 100 }] } });
      expect(res.status, pattern).toBe(400);
      expect(res.body).toEqual({
        type: 'validation_error',
        code: 'invalid_input',
        detail: "Can't evaluate flag - please check release conditions",
        attr: null,
      });
    }
    const cohort = await t.api('post', '/api/projects/1/cohorts/').send({
      name: 'costly',
      filters: {
        properties: { type: 'OR', values: [{ type: 'AND', values: [{ type: 'person', key: 'email', operator: 'regex', value: '(x{2}){1200}' }] }] },
      },
    });
    expect(cohort.status).toBe(400);
    // The costliest pattern the screen admits, against a long value: bounded by the work limit.
    const costly = await t
      .api('patch', `/api/projects/1/feature_flags/${flag.id}/`)
      .send({ filters: { groups: [{ properties: [person('email', '[a-z]{1000}[0-9]{990}', 'regex')], rollout_percentage: 100 }] } });
    expect(costly.status, costly.text).toBe(200);
    for (const size of [100, 300, 9_000]) {
      const res = await sendWhileProbing(t.baseUrl, () => flags('costly', { email: `${'a'.repeat(size - 1)}0` }));
      expect(res.status).toBe(200);
      expectNoStall(res, `costly pattern on ${size} characters`);
      expect(res.json().flags['patched-regex'].enabled).toBe(false);
    }
  });
});

describe('OFREP (docs/compatibility.md#ofrep-9)', () => {
  const OFREP = { ...JSON_TYPE, authorization: `Bearer ${PROJECT_TOKEN}` };
  const paths = ['/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/corp-email'];
  const long = (suffix: string, size: number) => 'a'.repeat(size - suffix.length) + suffix;
  /** A 4xx in OFREP's shape, with the /flags probe never stalled. */
  const expectOfrepRefused = (res: Probed, status: number, label: string) => {
    expect(res.status, `${label}: ${res.text.slice(0, 200)}`).toBe(status);
    expect(typeof res.json().errorDetails, label).toBe('string');
    expectNoStall(res, label);
  };

  it('refuses a gzip bomb, 19 MB of garbage and deep nesting with the limits of /flags', async () => {
    for (const path of paths) {
      expectOfrepRefused(await sendWhileProbing(t.baseUrl, { path, headers: { ...OFREP, 'content-encoding': 'gzip' }, body: bomb }), 413, `${path} bomb`);
      expectOfrepRefused(await sendWhileProbing(t.baseUrl, { path, headers: OFREP, body: Buffer.alloc(19 * MB, 'x') }), 413, `${path} garbage`);
      const deep = await sendWhileProbing(t.baseUrl, { path, headers: OFREP, body: Buffer.alloc(1.5 * MB, '[') });
      expectOfrepRefused(deep, 400, `${path} nesting`);
      expect(deep.json().errorCode).toBe('PARSE_ERROR');
    }
  });

  it('answers a context carrying a 1 MB value quickly; no string condition holds on it', async () => {
    const context = { targetingKey: 'long-value', email: long('x@corp.com', MB), name: long('!', MB / 2) };
    const res = await sendWhileProbing(t.baseUrl, { path: paths[0], headers: OFREP, body: Buffer.from(JSON.stringify({ context })) });
    expect(res.status, res.text).toBe(200);
    expectNoStall(res, 'OFREP with 1 MB values');
    const values = Object.fromEntries((res.json().flags as Array<{ key: string; value: unknown }>).map((f) => [f.key, f.value]));
    for (const key of ['corp-email', 'not-corp-email', 'lower-tail', 'email-shape', 'contains-corp']) expect(values[key], key).toBe(false);
  });
});

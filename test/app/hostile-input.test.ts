// Bad input never gets a 500 or a partial write: every documented write route receives malformed
// and hostile bodies and must answer a 4xx in PostHog's envelope with the database unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let flagId: number;
let cohortId: number;
const BODY_LIMIT = 2 * 1024 * 1024;

interface Route {
  method: 'post' | 'patch' | 'put';
  path: string;
  sdk: boolean;
  /** Whether the route documents a request body (actions like POST …/dashboard take none). */
  takesBody: boolean;
}

/** Every documented POST/PATCH/PUT route, from the OpenAPI document the app serves. */
function writeRoutes(): Route[] {
  const doc = t.app.swagger() as { paths: Record<string, Record<string, unknown>> };
  const routes: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of ['post', 'patch', 'put'] as const) {
      if (!ops[method]) continue;
      const concrete = path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
        if (name === 'project_id') return '1';
        if (name === 'token') return PROJECT_TOKEN;
        if (/org/.test(name)) return '@current';
        if (/feature_flag_id/.test(name)) return String(flagId);
        if (name === 'id') return path.includes('cohort') ? String(cohortId) : String(flagId);
        return '1';
      });
      const sdk = !concrete.startsWith('/api/');
      routes.push({ method, path: concrete, sdk, takesBody: Boolean((ops[method] as { requestBody?: unknown }).requestBody) });
    }
  }
  return routes;
}

/** A digest of every table's rows: equal digests mean nothing was written. */
async function fingerprint(): Promise<string> {
  const tables = await t.sql<{ tablename: string }>("select tablename from pg_tables where schemaname = 'public' order by tablename");
  const parts: string[] = [];
  for (const { tablename } of tables) {
    const [row] = await t.sql<{ n: number; h: string | null }>(
      `select count(*)::int as n, md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as h from "${tablename}" x`,
    );
    parts.push(`${tablename}:${row.n}:${row.h}`);
  }
  return parts.join('\n');
}

const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const huge = 'x'.repeat(1024 * 1024);
const nul = 'a\u0000b';

const MALFORMED: Array<[string, string]> = [
  ['not JSON', 'this is not json'],
  ['truncated JSON', '{"key": "abc", "filters": {'],
  ['deep nesting', deep(100_000)],
];
const WRONG_SHAPES: Array<[string, unknown]> = [
  ['array', []],
  ['string', 'str'],
  ['number', 123],
  ['null', null],
  [
    'wrong types everywhere',
    {
      key: 123,
      name: {},
      filters: 'x',
      active: 'maybe',
      deleted: [],
      version: 'abc',
      tags: 'x',
      evaluation_tags: 5,
      ensure_experience_continuity: {},
      is_static: 'x',
      distinct_ids: 'x',
      group_type: 5,
      group_type_index: 'x',
      ids: { a: 1 },
      user_uuid: 7,
      role_id: [],
      scopes: 'x',
      label: [],
      feature_flags_access_level: 'x',
      access_level: 'x',
    },
  ],
  ['huge strings', { key: huge, name: huge, group_type: huge, description: huge }],
  ['deeply nested filters', { key: 'deep-filters', filters: JSON.parse(deep(50)) }],
];
const NUL_BODY = {
  key: nul,
  name: nul,
  description: nul,
  group_type: nul,
  label: nul,
  user_uuid: nul,
  role_id: nul,
  distinct_ids: [nul],
  scopes: [nul],
  tags: [nul],
  filters: { groups: [{ properties: [{ key: nul, type: 'person', value: nul, operator: 'exact' }], rollout_percentage: 50 }] },
};

/** Bodies that are valid no-ops for a route in PostHog (reads, or an empty list of changes). */
const NO_OPS: Array<[RegExp, string]> = [
  [/\/bulk_keys$/, '*'],
  [/\/groups_types\/update_metadata$/, 'array'],
  // PATCH /api/users/@me/ ignores fields it does not know, as DRF does: a body without any is a no-op.
  [/^\/api\/users\/@me$/, '*'],
  // So does PATCH /api/projects/:id/ (it changes only name and timezone).
  [/^\/api\/projects\/\d+$/, '*'],
  // An empty list of invites creates none.
  [/\/invites\/bulk$/, 'array'],
];
const isNoOp = (path: string, label: string, status: number) =>
  status >= 200 && status < 300 && NO_OPS.some(([re, l]) => re.test(path) && (l === '*' || l === label));

function assertRefused(res: { status: number; body: unknown; text: string }, label: string) {
  expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
  if (res.text !== '') {
    const body = res.body as Record<string, unknown>;
    const envelope = typeof body.type === 'string' && typeof body.code === 'string' && typeof body.detail === 'string' && 'attr' in body;
    const errorBody = typeof body.error === 'string';
    // OFREP answers its own error bodies (docs/compatibility.md#ofrep-7).
    const ofrepBody = typeof body.errorDetails === 'string';
    expect(envelope || errorBody || ofrepBody, `${label}: ${res.text.slice(0, 300)}`).toBe(true);
  }
}

beforeAll(async () => {
  t = await createTestApp({ env: { FLAGHOST_BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
  flagId = (await t.api('post', '/api/projects/1/feature_flags/').send({ key: 'target', filters: { groups: [{ rollout_percentage: 50 }] } })).body.id;
  cohortId = (await t.api('post', '/api/projects/1/cohorts/').send({ name: 'target cohort', filters: { properties: { type: 'AND', values: [] } } })).body.id;
  // Warm up: the key's last_used_at is written on first use.
  await t.api('get', '/api/users/@me/');
});
afterAll(async () => {
  await t?.close();
});

describe('hostile bodies on every write route', () => {
  it('finds the write routes', () => {
    const routes = writeRoutes();
    expect(routes.some((r) => r.path === '/api/projects/1/feature_flags' && r.method === 'post')).toBe(true);
    expect(routes.some((r) => r.path === `/api/projects/1/feature_flags/${flagId}` && r.method === 'patch')).toBe(true);
    expect(routes.some((r) => r.path === '/flags' && r.sdk)).toBe(true);
  });

  it('refuses malformed JSON, wrong shapes, NUL bytes and oversized bodies without writing', async () => {
    const before = await fingerprint();
    for (const route of writeRoutes()) {
      const send = (body: string, type = 'application/json') => t.api(route.method, route.path).set('Content-Type', type).send(body);
      for (const [label, body] of MALFORMED) assertRefused(await send(body), `${route.method} ${route.path} ${label}`);
      assertRefused(await send(JSON.stringify({ key: 'x', name: 'y'.repeat(BODY_LIMIT + 10) })), `${route.method} ${route.path} oversized`);
      if (route.sdk) continue; // SDK endpoints decode leniently (PostHog replaces rather than rejects).
      if (!route.takesBody) continue; // Actions without a body ignore its content, as in PostHog.
      for (const [label, body] of WRONG_SHAPES) {
        const res = await send(JSON.stringify(body));
        if (!isNoOp(route.path, label, res.status)) assertRefused(res, `${route.method} ${route.path} ${label}`);
      }
      const res = await send(JSON.stringify(NUL_BODY));
      if (!isNoOp(route.path, 'NUL bytes', res.status)) assertRefused(res, `${route.method} ${route.path} NUL bytes`);
    }
    expect(await fingerprint()).toBe(before);
  });

  it('malformed SDK bodies are 4xx too', async () => {
    const before = await fingerprint();
    for (const path of ['/flags?v=2', '/decide?v=4', '/batch/', '/e/']) {
      assertRefused(await t.http.post(path).set('Content-Type', 'application/json').send('{"token": '), `${path} truncated`);
      assertRefused(await t.http.post(path).set('Content-Type', 'application/octet-stream').send('x'), `${path} content type`);
      assertRefused(await t.http.post(`${path}${path.includes('?') ? '&' : '?'}compression=lz4`).send('{}'), `${path} compression`);
      assertRefused(await t.http.post(path).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('not gzip'), `${path} bad gzip`);
    }
    // OFREP with the project token, so that the bodies are decoded.
    for (const path of ['/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/target']) {
      const post = () => t.http.post(path).set('Authorization', `Bearer ${PROJECT_TOKEN}`);
      assertRefused(await post().set('Content-Type', 'application/json').send('{"context": '), `${path} truncated`);
      assertRefused(await post().set('Content-Type', 'application/octet-stream').send('x'), `${path} content type`);
      assertRefused(await post().set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('not gzip'), `${path} bad gzip`);
      assertRefused(await post().set('Content-Type', 'application/json').send(deep(100_000)), `${path} deep nesting`);
      assertRefused(
        await post()
          .set('Content-Type', 'application/json')
          .send(JSON.stringify({ context: { targetingKey: nul, groups: { company: {} } } })),
        `${path} bad groups`,
      );
    }
    expect(await fingerprint()).toBe(before);
  });
});

describe('hostile query strings', () => {
  it('SQL fragments in search and order are inert', async () => {
    const before = await fingerprint();
    for (const search of ["' or 1=1 --", "x'); drop table feature_flags; --", '%', '_', '\\', nul]) {
      const res = await t.api('get', `/api/projects/1/feature_flags/?search=${encodeURIComponent(search)}`);
      expect(res.status).toBe(200);
      expect(res.body.count).toBe(0);
    }
    for (const order of ['key; drop table feature_flags', '-created_at, (select 1)', 'nonexistent', '--', nul]) {
      const res = await t.api('get', `/api/projects/1/feature_flags/?order=${encodeURIComponent(order)}`);
      assertRefused(res, `order=${order}`);
    }
    for (const query of [
      'limit=-1',
      'limit=abc',
      'offset=-5',
      `limit=${'9'.repeat(40)}`,
      'created_by_id=abc',
      `tags=${encodeURIComponent('["' + nul + '"]')}`,
    ]) {
      const res = await t.api('get', `/api/projects/1/feature_flags/?${query}`);
      expect(res.status, query).toBeLessThan(500);
    }
    expect(await fingerprint()).toBe(before);
  });
});

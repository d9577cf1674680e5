// The persons API in PostHog's shape: list (newest first, distinct_id / email / search filters,
// PostHog's limit/offset links, count only with include_total), retrieve by id or uuid, delete
// with everything attached to the person, person:read / person:write scopes, the legacy path.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { createProject } from '../../src/access/organizations/admin.ts';

let t: TestApp;
let clock = new Date('2024-05-01T00:00:00.000Z');
const P = '/api/projects/1/persons';
type Json = Record<string, any>;

async function capture(batch: Json[], token = PROJECT_TOKEN): Promise<void> {
  const res = await t.http.post('/batch/').send({ api_key: token, batch: batch.map((e) => ({ uuid: crypto.randomUUID(), ...e })) });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  t = await createTestApp({ now: () => clock });
  // Five persons, one a minute: p0 oldest … p4 newest.
  for (let i = 0; i < 5; i++) {
    clock = new Date(Date.UTC(2024, 4, 1, 0, i));
    await capture([{ event: '$set', distinct_id: `p${i}`, properties: { $set: { email: `p${i}@example.com`, n: i } } }]);
  }
  clock = new Date('2024-05-01T01:00:00.000Z');
  await capture([
    { event: '$identify', distinct_id: 'p4', properties: { $anon_distinct_id: '0190e0f5-3c4a-7d2b-9b1e-2f7c1a9d8e01' } },
    { event: '$set', distinct_id: 'nameless', properties: { $set: { name: 'Grace' } } },
  ]);
});
afterAll(async () => {
  await t?.close();
});

describe('list', () => {
  it("lists newest first in PostHog's person shape", async () => {
    const res = await t.api('get', `${P}/`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['results', 'next', 'previous']);
    expect(res.body.results.map((p: Json) => p.name)).toEqual([
      'Grace',
      'p4@example.com',
      'p3@example.com',
      'p2@example.com',
      'p1@example.com',
      'p0@example.com',
    ]);
    const p4 = res.body.results[1];
    expect(Object.keys(p4)).toEqual(['id', 'name', 'distinct_ids', 'properties', 'created_at', 'uuid', 'last_seen_at']);
    expect(p4).toMatchObject({
      // Ids the app chose come before generated (uuid-like) ones.
      distinct_ids: ['p4', '0190e0f5-3c4a-7d2b-9b1e-2f7c1a9d8e01'],
      properties: { email: 'p4@example.com', n: 4 },
      created_at: '2024-05-01T00:04:00.000000Z',
      last_seen_at: null,
    });
    expect(typeof p4.id).toBe('number');
    expect(p4.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('paginates with limit/offset like PostHog: next while a page is full, count with include_total', async () => {
    const first = await t.api('get', `${P}/?limit=2`);
    expect(first.body.results).toHaveLength(2);
    expect(first.body.previous).toBeNull();
    expect(first.body.next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/projects\/1\/persons\/\?limit=2&offset=2$/);
    const second = await t.api('get', new URL(first.body.next).pathname + new URL(first.body.next).search);
    expect(second.body.results.map((p: Json) => p.name)).toEqual(['p3@example.com', 'p2@example.com']);
    expect(second.body.previous).toMatch(/\/persons\/\?limit=2&offset=0$/);
    const last = await t.api('get', `${P}/?limit=2&offset=4&include_total`);
    expect(last.body.results.map((p: Json) => p.name)).toEqual(['p1@example.com', 'p0@example.com']);
    expect(last.body.count).toBe(6);
    const beyond = await t.api('get', `${P}/?limit=2&offset=6`);
    expect(beyond.body).toMatchObject({ results: [], next: null });
  });

  it('filters by distinct_id and email exactly, and searches email, name, distinct ids and uuids', async () => {
    const byId = await t.api('get', `${P}/?distinct_id=0190e0f5-3c4a-7d2b-9b1e-2f7c1a9d8e01`);
    expect(byId.body.results.map((p: Json) => p.name)).toEqual(['p4@example.com']);
    expect((await t.api('get', `${P}/?distinct_id=p`)).body.results).toEqual([]);
    expect((await t.api('get', `${P}/?email=p2@example.com`)).body.results.map((p: Json) => p.name)).toEqual(['p2@example.com']);
    expect((await t.api('get', `${P}/?email=p2`)).body.results).toEqual([]);
    expect((await t.api('get', `${P}/?search=P1@EXAMPLE`)).body.results.map((p: Json) => p.name)).toEqual(['p1@example.com']);
    expect((await t.api('get', `${P}/?search=grac`)).body.results.map((p: Json) => p.name)).toEqual(['Grace']);
    expect((await t.api('get', `${P}/?search=nameless`)).body.results.map((p: Json) => p.name)).toEqual(['Grace']);
    const uuid = byId.body.results[0].uuid;
    expect((await t.api('get', `${P}/?search=${uuid}`)).body.results.map((p: Json) => p.name)).toEqual(['p4@example.com']);
    expect((await t.api('get', `${P}/?search=%25`)).body.results).toEqual([]);
  });
});

describe('retrieve and delete', () => {
  it('retrieves by numeric id or uuid; other ids are a 400, unknown ones a 404', async () => {
    const [p2] = (await t.api('get', `${P}/?email=p2@example.com`)).body.results;
    expect((await t.api('get', `${P}/${p2.id}/`)).body).toEqual(p2);
    expect((await t.api('get', `${P}/${p2.uuid}`)).body).toEqual(p2);
    const bad = await t.api('get', `${P}/p2/`);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      type: 'validation_error',
      code: 'invalid_input',
      detail: 'The ID provided does not look like a personID. If you are using a distinctId, please use /persons?distinct_id=p2 instead.',
      attr: null,
    });
    const missing = await t.api('get', `${P}/${crypto.randomUUID()}/`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null });
    expect((await t.api('get', `/api/person/${p2.id}/`)).body).toEqual(p2);
  });

  it('DELETE removes the person, its distinct ids, overrides, usage days and static-cohort memberships (204)', async () => {
    // A project of its own: the persons the other tests list stay as they are.
    const project = await createProject(t.ctx, { name: 'Deletions' });
    const P = `/api/projects/${project.id}/persons`;
    await capture(
      [0, 1].map((i) => ({ event: '$set', distinct_id: `d${i}`, properties: { $set: { email: `d${i}@example.com` } } })),
      project.apiToken,
    );
    await capture(
      [{ event: '$feature_flag_called', distinct_id: 'd0', properties: { $feature_flag: 'deleted-person-flag', $feature_flag_response: true } }],
      project.apiToken,
    );
    const cohort = await t.api('post', `/api/projects/${project.id}/cohorts/`).send({ name: 'Static', is_static: true, distinct_ids: ['d0', 'd1'] });
    expect(cohort.body.count).toBe(2);
    const [p3] = (await t.api('get', `${P}/?distinct_id=d0`)).body.results;
    await t.sql(`insert into flag_hash_key_overrides values ($2, $1, 'flag-a', 'anon-d0')`, [p3.id, project.id]);
    const res = await t.api('delete', `${P}/${p3.uuid}/`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await t.api('get', `${P}/${p3.id}/`)).status).toBe(404);
    expect((await t.api('get', `${P}/?distinct_id=d0`)).body.results).toEqual([]);
    const [left] = await t.sql<{ ids: number; overrides: number; members: number; usage_people: number }>(
      `select (select count(*)::int from person_distinct_ids where distinct_id = 'd0') as ids,
              (select count(*)::int from flag_hash_key_overrides where hash_key = 'anon-d0') as overrides,
              (select count(*)::int from cohort_members where cohort_id = $1) as members,
              (select count(*)::int from flag_usage_persons where person_key = $2) as usage_people`,
      [cohort.body.id, p3.uuid],
    );
    expect(left).toEqual({ ids: 0, overrides: 0, members: 1, usage_people: 0 });
    expect((await t.api('get', `/api/projects/${project.id}/cohorts/${cohort.body.id}/`)).body.count).toBe(1);
    // Aggregated counts are not about anyone and stay.
    expect(await t.sql(`select count::int from flag_usage_daily where flag_key = 'deleted-person-flag'`)).toEqual([{ count: 1 }]);
    expect((await t.api('delete', `${P}/${p3.uuid}/`)).status).toBe(404);
    // The distinct id starts afresh when it is seen again.
    await capture([{ event: '$set', distinct_id: 'd0', properties: { $set: { back: true } } }], project.apiToken);
    const [again] = (await t.api('get', `${P}/?distinct_id=d0`)).body.results;
    expect(again.uuid).not.toBe(p3.uuid);
    expect(again.properties).toEqual({ back: true, $creator_event_uuid: expect.any(String) });
  });

  it('persons of another project are not found', async () => {
    const other = await createProject(t.ctx, { name: 'Other' });
    const [p0] = (await t.api('get', `${P}/?distinct_id=p0`)).body.results;
    expect((await t.api('get', `/api/projects/${other.id}/persons/${p0.uuid}/`)).status).toBe(404);
    expect((await t.api('delete', `/api/projects/${other.id}/persons/${p0.uuid}/`)).status).toBe(404);
    expect((await t.api('get', `/api/projects/${other.id}/persons/`)).body.results).toEqual([]);
    expect((await t.api('get', `/api/projects/999/persons/`)).status).toBe(404);
  });
});

describe('scopes', () => {
  it('person:read lists and retrieves; deleting needs person:write', async () => {
    const reader = await t.userWithKey({ email: 'reader@example.com', scopes: ['person:read'] });
    const writer = await t.userWithKey({ email: 'writer@example.com', scopes: ['person:write'] });
    const flagsOnly = await t.userWithKey({ email: 'flags@example.com', scopes: ['feature_flag:read'] });
    // A person of its own to delete (the other tests read p0 … p4); it is gone again at the end.
    await capture([{ event: '$set', distinct_id: 'scoped-delete', properties: { $set: { email: 'scoped@example.com' } } }]);
    const [p0] = (await t.api('get', `${P}/?distinct_id=scoped-delete`, reader.key)).body.results;
    expect(p0.name).toBe('scoped@example.com');
    const refused = await t.api('delete', `${P}/${p0.uuid}/`, reader.key);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe("API key missing required scope 'person:write'");
    expect((await t.api('get', `${P}/`, flagsOnly.key)).body.detail).toBe("API key missing required scope 'person:read'");
    expect((await t.api('get', `${P}/`)).status).toBe(200);
    expect((await t.http.get(`${P}/`)).status).toBe(401);
    expect((await t.api('delete', `${P}/${p0.uuid}/`, writer.key)).status).toBe(204);
  });
});

// GET …/cohorts/:id/persons/ over real HTTP (docs/compatibility.md#diff-cohort-persons): PostHog's
// page shape and serialized persons, limit/offset links, static members, dynamic members computed
// from stored properties (nested cohorts included), unknown and deleted cohorts, both scopes, and
// the legacy path.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { createProject } from '../../src/access/organizations/admin.ts';
import { findProject } from '../../src/access/organizations/projects-repository.ts';
import { listCohortPersons } from '../../src/cohorts/persons.ts';

let t: TestApp;
let clock = new Date('2024-05-01T00:00:00.000Z');
const P = '/api/projects/1/cohorts';
type Json = Record<string, any>;

async function capture(batch: Json[]): Promise<void> {
  const res = await t.http.post('/batch/').send({ api_key: PROJECT_TOKEN, batch: batch.map((e) => ({ uuid: crypto.randomUUID(), ...e })) });
  expect(res.status).toBe(200);
}

async function createCohort(body: Json): Promise<number> {
  const res = await t.api('post', `${P}/`).send(body);
  expect(res.status).toBe(201);
  return res.body.id;
}

const names = (res: { body: Json }) => res.body.results.map((p: Json) => p.distinct_ids[0]);
const plan = (value: string, operator = 'exact') => ({ type: 'person', key: 'plan', operator, value });

let staticId: number;

beforeAll(async () => {
  t = await createTestApp({ now: () => clock });
  // Six persons, one a minute: m0 oldest … m5 newest; even ones are on the pro plan.
  for (let i = 0; i < 6; i++) {
    clock = new Date(Date.UTC(2024, 4, 1, 0, i));
    await capture([{ event: '$set', distinct_id: `m${i}`, properties: { $set: { email: `m${i}@example.com`, plan: i % 2 ? 'free' : 'pro' } } }]);
  }
  clock = new Date('2024-05-01T01:00:00.000Z');
  staticId = await createCohort({ name: 'Beta testers', is_static: true, distinct_ids: ['m1', 'm2', 'm3', 'm4'] });
});
afterAll(async () => {
  await t?.close();
});

describe('static cohorts', () => {
  it("lists the stored members newest first in PostHog's serialized-person shape", async () => {
    const res = await t.api('get', `${P}/${staticId}/persons/`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['results', 'next', 'previous']);
    expect(names(res)).toEqual(['m4', 'm3', 'm2', 'm1']);
    const [first] = res.body.results;
    expect(Object.keys(first)).toEqual([
      'type',
      'id',
      'uuid',
      'created_at',
      'properties',
      'is_identified',
      'name',
      'distinct_ids',
      'matched_recordings',
      'value_at_data_point',
    ]);
    const [row] = await t.sql<{ uuid: string }>(
      "select p.uuid::text as uuid from persons p join person_distinct_ids d on d.person_id = p.id where d.distinct_id = 'm4'",
    );
    expect(first).toMatchObject({
      type: 'person',
      id: row.uuid,
      uuid: row.uuid,
      created_at: '2024-05-01T00:04:00.000000Z',
      properties: { email: 'm4@example.com', plan: 'pro' },
      is_identified: false,
      name: 'm4@example.com',
      distinct_ids: ['m4'],
      matched_recordings: [],
      value_at_data_point: null,
    });
    expect(res.body).toMatchObject({ next: null, previous: null });
  });

  it('pages with limit and offset, next only when the page is full', async () => {
    const first = await t.api('get', `${P}/${staticId}/persons/?limit=2`);
    expect(names(first)).toEqual(['m4', 'm3']);
    expect(first.body.previous).toBeNull();
    const next = new URL(first.body.next);
    expect(next.pathname).toBe(`${P}/${staticId}/persons/`);
    expect(Object.fromEntries(next.searchParams)).toEqual({ limit: '2', offset: '2' });

    const second = await t.http
      .get(`${next.pathname}${next.search}`)
      .set('authorization', `Bearer ${(await t.userWithKey({ email: 'pager@example.com' })).key}`);
    expect(names(second)).toEqual(['m2', 'm1']);
    // The page is full, so PostHog gives a next link even though nothing follows.
    expect(new URL(second.body.next).searchParams.get('offset')).toBe('4');
    expect(new URL(second.body.previous).searchParams.get('offset')).toBe('0');

    const last = await t.api('get', `${P}/${staticId}/persons/?limit=2&offset=4`);
    expect(last.body).toMatchObject({ results: [], next: null });
  });

  it('caps the page at 1000 persons', async () => {
    // With limit 5000 taken as is, offset 1000 - 5000 < 0 would give no previous link.
    const res = await t.api('get', `${P}/${staticId}/persons/?limit=5000&offset=1000`);
    expect(res.status).toBe(200);
    expect(new URL(res.body.previous).searchParams.get('offset')).toBe('0');
  });

  it('lists a soft-deleted cohort too, as PostHog does', async () => {
    const id = await createCohort({ name: 'Gone', is_static: true, distinct_ids: ['m0'] });
    expect((await t.api('patch', `${P}/${id}/`).send({ deleted: true })).status).toBe(200);
    const res = await t.api('get', `${P}/${id}/persons/`);
    expect(res.status).toBe(200);
    expect(names(res)).toEqual(['m0']);
  });
});

describe('dynamic cohorts', () => {
  it('lists the persons whose stored properties match the criteria now', async () => {
    const id = await createCohort({ name: 'Pro', filters: { properties: { type: 'AND', values: [{ type: 'AND', values: [plan('pro')] }] } } });
    expect(names(await t.api('get', `${P}/${id}/persons/`))).toEqual(['m4', 'm2', 'm0']);
    // A property change is seen on the next request.
    await capture([{ event: '$set', distinct_id: 'm0', properties: { $set: { plan: 'free' } } }]);
    expect(names(await t.api('get', `${P}/${id}/persons/`))).toEqual(['m4', 'm2']);
    await capture([{ event: '$set', distinct_id: 'm0', properties: { $set: { plan: 'pro' } } }]);
  });

  it('follows nested cohort conditions, static and dynamic, and pages the matches', async () => {
    const pro = await createCohort({ name: 'Pro again', filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [plan('pro')] }] } } });
    const both = await createCohort({
      name: 'Pro beta testers',
      filters: {
        properties: {
          type: 'AND',
          values: [
            {
              type: 'AND',
              values: [
                { type: 'cohort', key: 'id', value: staticId },
                { type: 'cohort', key: 'id', value: pro },
              ],
            },
          ],
        },
      },
    });
    expect(names(await t.api('get', `${P}/${both}/persons/`))).toEqual(['m4', 'm2']);
    const page = await t.api('get', `${P}/${both}/persons/?limit=1&offset=1`);
    expect(names(page)).toEqual(['m2']);
    expect(new URL(page.body.next).searchParams.get('offset')).toBe('2');
    expect((await t.api('get', `${P}/${both}/persons/?limit=1&offset=2`)).body).toMatchObject({ results: [], next: null });

    const outside = await createCohort({
      name: 'Pro outside the beta',
      filters: {
        properties: { type: 'AND', values: [{ type: 'AND', values: [plan('pro'), { type: 'cohort', key: 'id', value: staticId, negation: true }] }] },
      },
    });
    expect(names(await t.api('get', `${P}/${outside}/persons/`))).toEqual(['m0']);
  });

  it('reads at most the newest persons the scan allows, a page of the scan at a time', async () => {
    const id = await createCohort({ name: 'Pro, bounded', filters: { properties: { type: 'AND', values: [{ type: 'AND', values: [plan('pro')] }] } } });
    const project = (await findProject(t.ctx.db, 1))!;
    const url = new URL(`http://localhost${P}/${id}/persons/`);
    const list = async (query: Record<string, string>, maxScanned: number, pageSize = 2) =>
      (await listCohortPersons(t.ctx, project, id, query, url, { maxScanned, pageSize })).results.map((p) => p.distinct_ids[0]);
    // m5 … m0 newest first; pro: m4, m2, m0.
    expect(await list({}, 6)).toEqual(['m4', 'm2', 'm0']);
    expect(await list({}, 6, 4)).toEqual(['m4', 'm2', 'm0']);
    expect(await list({}, 3)).toEqual(['m4']);
    expect(await list({}, 5, 4)).toEqual(['m4', 'm2']);
    expect(await list({ offset: '1' }, 3)).toEqual([]);
    expect(await list({ offset: '3' }, 3)).toEqual([]);
  });

  it('lists nobody for criteria it cannot evaluate (behavioral)', async () => {
    const id = await createCohort({
      name: 'Visitors',
      filters: {
        properties: {
          type: 'OR',
          values: [{ type: 'behavioral', key: '$pageview', value: 'performed_event', event_type: 'events', time_value: 1, time_interval: 'day' }],
        },
      },
    });
    const res = await t.api('get', `${P}/${id}/persons/`);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([]);
  });
});

describe('errors, scopes and paths', () => {
  it('answers 404 for a cohort that does not exist or belongs to another project', async () => {
    const notFound = { type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null };
    for (const id of ['999999', 'abc']) {
      const res = await t.api('get', `${P}/${id}/persons/`);
      expect(res.status).toBe(404);
      expect(res.body).toEqual(notFound);
    }
    const other = await createProject(t.ctx, { name: 'Other' });
    const res = await t.api('get', `/api/projects/${other.id}/cohorts/${staticId}/persons/`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual(notFound);
  });

  it('needs both cohort:read and person:read, as PostHog does', async () => {
    const path = `${P}/${staticId}/persons/`;
    const cohortOnly = await t.userWithKey({ email: 'c-only@example.com', scopes: ['cohort:read'] });
    const denied = await t.api('get', path, cohortOnly.key);
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      type: 'authentication_error',
      code: 'permission_denied',
      detail: "API key missing required scope 'person:read'",
      attr: null,
    });
    const personOnly = await t.userWithKey({ email: 'p-only@example.com', scopes: ['person:read'] });
    expect((await t.api('get', path, personOnly.key)).body.detail).toBe("API key missing required scope 'cohort:read'");
    const both = await t.userWithKey({ email: 'both@example.com', scopes: ['cohort:write', 'person:read'] });
    const ok = await t.api('get', path, both.key);
    expect(ok.status).toBe(200);
    expect(ok.body.results).toHaveLength(4);
    expect((await t.http.get(path)).status).toBe(401);
  });

  it('serves the legacy /api/cohort/:id/persons/ path', async () => {
    const res = await t.api('get', `/api/cohort/${staticId}/persons/?limit=3`);
    expect(res.status).toBe(200);
    expect(names(res)).toEqual(['m4', 'm3', 'm2']);
    expect(new URL(res.body.next).pathname).toBe(`/api/cohort/${staticId}/persons/`);
  });
});

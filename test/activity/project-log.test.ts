// GET /api/projects/:id/advanced_activity_logs/ (docs/compatibility.md#api-7.6): the project's log
// with filters by date, users, scopes, activities and items, in numbered pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createProject } from '../../src/access/organizations/admin.ts';

type Json = Record<string, any>;
let t: TestApp;
let clock = new Date('2025-05-01T10:00:00.000Z');
const LOG = '/api/projects/1/advanced_activity_logs';
let member: { key: string; userId: number };
let memberUuid: string;
let flagId: number;

beforeAll(async () => {
  t = await createTestApp({ now: () => clock });
  member = await t.userWithKey({ email: 'log-member@example.com', level: 'member' });
  [{ uuid: memberUuid }] = await t.sql<{ uuid: string }>('select uuid from users where id = $1', [member.userId]);
  // 1 May: the admin creates a flag; 2 May: the member updates it; 3 May: the admin creates a cohort.
  const flag = await t.api('post', '/api/projects/1/feature_flags/').send({ key: 'logged-flag' });
  flagId = flag.body.id;
  clock = new Date('2025-05-02T10:00:00.000Z');
  expect((await t.api('patch', `/api/projects/1/feature_flags/${flagId}/`, member.key).send({ name: 'renamed' })).status).toBe(200);
  clock = new Date('2025-05-03T10:00:00.000Z');
  const cohort = await t.api('post', '/api/projects/1/cohorts/').send({ name: 'logged cohort', is_static: true, distinct_ids: [] });
  expect(cohort.status).toBe(201);
  // Another project's activity never shows.
  const other = await createProject(t.ctx, { name: 'Log elsewhere' });
  await t.api('post', `/api/projects/${other.id}/feature_flags/`).send({ key: 'elsewhere' });
});
afterAll(async () => {
  await t?.close();
});

const keysOf = (res: { body: Json }) => res.body.results.map((e: Json) => `${e.scope}:${e.activity}:${e.detail.name}`);

describe('advanced_activity_logs', () => {
  it("lists the project's entries newest first, in the per-flag log's entry shape", async () => {
    const res = await t.api('get', `${LOG}/`);
    expect(res.status).toBe(200);
    expect(keysOf(res)).toEqual(['Cohort:created:logged cohort', 'FeatureFlag:updated:logged-flag', 'FeatureFlag:created:logged-flag']);
    expect(res.body).toMatchObject({ count: 3, next: null, previous: null });
    const perFlag = await t.api('get', `/api/projects/1/feature_flags/${flagId}/activity`);
    expect(res.body.results.slice(1)).toEqual(perFlag.body.results);
  });

  it('filters by scope, activity, item, user and date', async () => {
    expect(keysOf(await t.api('get', `${LOG}/?scopes=FeatureFlag`))).toEqual(['FeatureFlag:updated:logged-flag', 'FeatureFlag:created:logged-flag']);
    expect(keysOf(await t.api('get', `${LOG}/?scopes=${encodeURIComponent('["Cohort","Nothing"]')}`))).toEqual(['Cohort:created:logged cohort']);
    expect(keysOf(await t.api('get', `${LOG}/?activities=created`))).toEqual(['Cohort:created:logged cohort', 'FeatureFlag:created:logged-flag']);
    expect(keysOf(await t.api('get', `${LOG}/?item_ids=${flagId}&scopes=FeatureFlag`))).toHaveLength(2);
    expect(keysOf(await t.api('get', `${LOG}/?users=${memberUuid}`))).toEqual(['FeatureFlag:updated:logged-flag']);
    expect(keysOf(await t.api('get', `${LOG}/?start_date=2025-05-02T00:00:00Z&end_date=2025-05-02T23:59:59Z`))).toEqual(['FeatureFlag:updated:logged-flag']);
    expect(keysOf(await t.api('get', `${LOG}/?start_date=2025-05-02`))).toEqual(['Cohort:created:logged cohort', 'FeatureFlag:updated:logged-flag']);
  });

  it('pages by number with links that keep the filters', async () => {
    const first = await t.api('get', `${LOG}/?page_size=2&scopes=FeatureFlag,Cohort`);
    expect(first.body.count).toBe(3);
    expect(first.body.results).toHaveLength(2);
    expect(first.body.previous).toBeNull();
    const next = new URL(first.body.next);
    expect(Object.fromEntries(next.searchParams)).toEqual({ page_size: '2', scopes: 'FeatureFlag,Cohort', page: '2' });
    const second = await t.api('get', `${next.pathname}${next.search}`);
    expect(keysOf(second)).toEqual(['FeatureFlag:created:logged-flag']);
    expect(second.body.next).toBeNull();
    expect(new URL(second.body.previous).searchParams.get('page')).toBe('1');
    const beyond = await t.api('get', `${LOG}/?page=9`);
    expect(beyond.status).toBe(404);
    expect(beyond.body).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Invalid page.', attr: null });
  });

  it("refuses malformed filters in PostHog's envelope", async () => {
    const cases: Array<[string, Json]> = [
      [
        'start_date=yesterday',
        {
          code: 'invalid',
          detail: 'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].',
          attr: 'start_date',
        },
      ],
      ['users=not-a-uuid', { code: 'invalid', detail: 'Must be a valid UUID.', attr: 'users' }],
      ['page=0', { code: 'min_value', detail: 'Ensure this value is greater than or equal to 1.', attr: 'page' }],
      ['page_size=1001', { code: 'max_value', detail: 'Ensure this value is less than or equal to 1000.', attr: 'page_size' }],
      ['page_size=x', { code: 'invalid', detail: 'A valid integer is required.', attr: 'page_size' }],
    ];
    for (const [q, error] of cases) {
      const res = await t.api('get', `${LOG}/?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body, q).toEqual({ type: 'validation_error', ...error });
    }
  });

  it('needs activity_log:read', async () => {
    const noScope = await t.userWithKey({ email: 'log-flags-only@example.com', scopes: ['feature_flag:read'] });
    const refused = await t.api('get', `${LOG}/`, noScope.key);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe("API key missing required scope 'activity_log:read'");
    const reader = await t.userWithKey({ email: 'log-reader@example.com', scopes: ['activity_log:read'] });
    expect((await t.api('get', `${LOG}/`, reader.key)).body.count).toBe(3);
  });
});

// Cohorts over real HTTP: CRUD, PostHog's validation messages, references and loops, soft delete and
// its guards, static membership by JSON, CSV upload and text/csv, activity, scopes and projects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createProject } from '../../src/access/organizations/admin.ts';
import { loadPersonContext } from '../../src/persons/service.ts';

const staticCohortsOf = async (db: Parameters<typeof loadPersonContext>[0], projectId: number, distinctId: string) => [
  ...(await loadPersonContext(db, projectId, { distinctId })).staticCohortIds,
];

let t: TestApp;
const P = '/api/projects/1/cohorts';

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const create = (body: Record<string, unknown>, key?: string) => t.api('post', `${P}/`, key).send(body);
const patch = (id: number, body: Record<string, unknown>) => t.api('patch', `${P}/${id}/`).send(body);

const personFilter = (key: string, value: unknown, extra: Record<string, unknown> = {}) => ({ key, value, type: 'person', operator: 'exact', ...extra });
const props = (...values: unknown[]) => ({ properties: { type: 'OR', values } });
const cohortRef = (id: number) => ({ key: 'id', type: 'cohort', value: id });
const behavioral = { key: '$pageview', event_type: 'events', time_value: 1, time_interval: 'day', value: 'performed_event', type: 'behavioral' };

const revision = async () => Number((await t.sql<{ revision: string }>('select revision from projects where id = 1'))[0].revision);
const personsWith = (distinctId: string) =>
  t.sql<{ person_id: string }>('select person_id from person_distinct_ids where project_id = 1 and distinct_id = $1', [distinctId]);

describe('create and retrieve', () => {
  it('returns PostHog representation with normalized filters and bumps the project revision', async () => {
    const before = await revision();
    const res = await create({ name: 'Power users', description: 'many logins', filters: props({ type: 'AND', values: [personFilter('plan', 'pro')] }) });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual([
      'id',
      'name',
      'description',
      'groups',
      'deleted',
      'filters',
      'query',
      'version',
      'pending_version',
      'is_calculating',
      'created_by',
      'created_at',
      'last_calculation',
      'last_backfill_person_properties_at',
      'errors_calculating',
      'last_error_message',
      'count',
      'is_static',
      'cohort_type',
      'experiment_set',
    ]);
    expect(res.body).toMatchObject({
      name: 'Power users',
      description: 'many logins',
      groups: [],
      deleted: false,
      // pydantic's model dump: defaults such as negation are filled in.
      filters: props({ type: 'AND', values: [{ type: 'person', key: 'plan', operator: 'exact', value: 'pro', negation: false }] }),
      query: null,
      is_calculating: false,
      errors_calculating: 0,
      count: null,
      is_static: false,
      last_calculation: null,
      experiment_set: [],
    });
    expect(res.body.created_by).toMatchObject({ email: 'admin@example.com' });
    expect(res.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(await revision()).toBe(before + 1);

    const got = await t.api('get', `${P}/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('presents a cohort without criteria as an empty AND group and converts legacy groups', async () => {
    const bare = await create({});
    expect(bare.status).toBe(201);
    expect(bare.body.filters).toEqual({ properties: { type: 'AND', values: [] } });

    const legacy = await create({ name: 'legacy', groups: [{ properties: { team_id: 5 } }, { properties: [{ key: 'email', value: 'a@b.c' }] }] });
    expect(legacy.status).toBe(201);
    expect(legacy.body.groups).toEqual([]);
    expect(legacy.body.filters).toEqual({
      properties: {
        type: 'OR',
        values: [
          { type: 'AND', values: [{ key: 'team_id', value: 5, type: 'person' }] },
          { type: 'AND', values: [{ key: 'email', value: 'a@b.c', type: 'person' }] },
        ],
      },
    });
    const badGroup = await create({ groups: [{ days: 3 }] });
    expect(badGroup.body).toEqual({
      type: 'validation_error',
      code: 'invalid_input',
      detail: 'Cohort group needs properties or action_id or event_id',
      attr: 'groups__0',
    });
  });

  it('accepts is_set without a value, behavioral criteria and read-only fields sent back', async () => {
    expect((await create({ filters: props({ key: 'p', type: 'person', operator: 'is_set' }) })).status).toBe(201);
    const withBehavioral = await create({ filters: props(personFilter('a', 'b'), behavioral) });
    expect(withBehavioral.status).toBe(201);
    expect(withBehavioral.body.filters.properties.values[1]).toEqual({ ...behavioral, negation: false });
    const echo = await create({ ...withBehavioral.body, name: 'copy', id: 999999, count: 5, is_calculating: true, experiment_set: [] });
    expect(echo.status).toBe(201);
    expect(echo.body).toMatchObject({ name: 'copy', count: null, is_calculating: false });
    expect(echo.body.id).not.toBe(999999);
  });

  it('404s for unknown ids, malformed ids and other projects', async () => {
    const other = await createProject(t.ctx, { name: 'Other' });
    const res = await t.api('post', `/api/projects/${other.id}/cohorts/`).send({ name: 'theirs' });
    expect(res.status).toBe(201);
    for (const path of [`${P}/${res.body.id}`, `${P}/99999`, `${P}/abc`]) {
      const got = await t.api('get', path);
      expect(got.status).toBe(404);
      expect(got.body).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null });
    }
    expect((await patch(res.body.id, { name: 'mine now' })).status).toBe(404);
    expect((await t.api('get', `/api/projects/${other.id}/cohorts/${res.body.id}`)).body.name).toBe('theirs');
  });
});

describe('validation', () => {
  const expectError = async (body: Record<string, unknown>, expected: Partial<{ code: string; detail: string; attr: string | null }>) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: 'validation_error', ...expected });
    return res;
  };

  it('checks the filters structure with PostHog messages', async () => {
    await expectError(
      { filters: '[Slkasd=lkxcn]' },
      { code: 'invalid_input', detail: "Must contain a 'properties' key with type and values", attr: 'filters__detail' },
    );
    await expectError({ filters: null }, { detail: "Must contain a 'properties' key with type and values" });
    await expectError(
      { filters: props({ key: 'some_prop', value: 'v', type: 'person' }) },
      { detail: 'Missing required keys for person filter: operator', attr: 'filters' },
    );
    await expectError(
      { filters: props({ key: 'some_prop', type: 'person', operator: 'exact' }) },
      { detail: 'Missing required keys for person filter: value' },
    );
    await expectError(
      { filters: props({ type: 'AND', values: [personFilter('a', 'b'), { key: 'another_prop', type: 'person' }] }) },
      { detail: 'Missing required keys for person filter: value, operator' },
    );
    await expectError({ filters: props({ key: 'id', type: 'cohort' }) }, { detail: 'Missing required keys for cohort filter: value' });
    await expectError(
      { filters: props({ key: '$pageview', type: 'behavioral', value: 'performed_event' }) },
      { detail: 'Missing required keys for behavioral filter: event_type' },
    );
    const extra = await expectError({ filters: props({ ...behavioral, not_a_field: 123 }) }, { attr: 'filters' });
    expect(extra.body.detail).toContain('not_a_field');
    expect(extra.body.detail).toContain('Extra inputs are not permitted');
    const badOperatorValue = await expectError({ filters: props({ ...behavioral, operator: 'gte', operator_value: [5] }) }, {});
    expect(badOperatorValue.body.detail).toContain('operator_value');
    const badType = await expectError({ filters: props({ key: 'x', value: 1, type: 'event' }) }, {});
    expect(badType.body.detail).toContain(
      "Input tag 'event' found using 'type' does not match any of the expected tags: 'behavioral', 'cohort', 'person', 'AND', 'OR'",
    );
    const badGroup = await expectError({ filters: { properties: { type: 'XOR', values: [] } } }, {});
    expect(badGroup.body.detail).toContain("Input should be 'AND' or 'OR'");
    const badDate = await expectError({ filters: props(personFilter('signup', 'not a date', { operator: 'is_date_before' })) }, {});
    expect(badDate.body.detail).toContain("Invalid date value 'not a date' for operator 'is_date_before'");
    expect((await create({ filters: props(personFilter('signup', '-30d', { operator: 'is_date_after' })) })).status).toBe(201);
  });

  it('checks plain fields in serializer order', async () => {
    await expectError({ name: 'x'.repeat(401) }, { code: 'max_length', detail: 'Ensure this field has no more than 400 characters.', attr: 'name' });
    await expectError({ name: ['a'] }, { detail: 'Not a valid string.', attr: 'name' });
    await expectError({ description: null }, { code: 'null', attr: 'description' });
    await expectError({ deleted: 'maybe' }, { detail: 'Must be a valid boolean.', attr: 'deleted' });
    await expectError({ is_static: 'maybe', name: 'y'.repeat(500) }, { attr: 'name' });
    await expectError({ cohort_type: 'odd' }, { code: 'invalid_choice', detail: '"odd" is not a valid choice.', attr: 'cohort_type' });
    await expectError({ query: 'select 1' }, { detail: 'Query must be a dictionary.', attr: 'query' });
    await expectError({ query: { kind: 'EventsQuery' } }, { detail: 'Query must be an ActorsQuery or HogQLQuery. Got: EventsQuery', attr: 'query' });
    await expectError(
      { query: { kind: 'HogQLQuery', query: 'select 1' } },
      { detail: 'Cannot create a dynamic cohort with a query. Set is_static to true.', attr: null },
    );
    await expectError({ distinct_ids: 'abc' }, { code: 'not_a_list', attr: 'distinct_ids' });
    const list = await t.api('post', P).send([1, 2]);
    expect(list.status).toBe(400);
    expect(list.body).toEqual({ type: 'validation_error', code: 'invalid_input', detail: 'Invalid data. Expected a dictionary, but got list.', attr: null });
  });

  it('requires referenced cohorts to exist and refuses loops', async () => {
    const before = Number((await t.sql<{ n: number }>('select count(*)::int as n from cohorts'))[0].n);
    await expectError({ filters: props(cohortRef(99999)) }, { detail: 'Invalid Cohort ID in filter', attr: null });
    expect(Number((await t.sql<{ n: number }>('select count(*)::int as n from cohorts'))[0].n)).toBe(before);

    const a = (await create({ name: 'cohort A', filters: props(personFilter('team_id', 5)) })).body;
    const b = (await create({ name: 'cohort B', filters: props(cohortRef(a.id)) })).body;
    const c = (await create({ name: 'cohort C', filters: props(cohortRef(b.id), cohortRef(a.id)) })).body;
    // C → B → A and C → A is not a loop.
    expect((await patch(c.id, { name: 'Cohort C, reloaded' })).status).toBe(200);
    for (const target of [c.id, a.id]) {
      const loop = await patch(a.id, { name: 'Cohort A, reloaded', filters: props(cohortRef(target)) });
      expect(loop.status).toBe(400);
      expect(loop.body).toEqual({ type: 'validation_error', code: 'invalid_input', detail: 'Cohorts cannot reference other cohorts in a loop.', attr: null });
    }
    const viaGroups = await patch(a.id, { groups: [{ properties: [{ type: 'cohort', value: String(c.id), key: 'id' }] }] });
    expect(viaGroups.body.detail).toBe('Cohorts cannot reference other cohorts in a loop.');
    const invalid = await patch(a.id, { groups: [{ properties: [{ type: 'cohort', value: '99999', key: 'id' }] }] });
    expect(invalid.body.detail).toBe('Invalid Cohort ID in filter');
    expect((await t.api('get', `${P}/${a.id}`)).body.name).toBe('cohort A');
  });
});

describe('update, soft delete and activity', () => {
  it('updates fields, logs created/updated/deleted/restored and keeps DELETE a bare 405', async () => {
    const res = await create({ name: 'whatever', filters: props(personFilter('prop', '5')) });
    const id = res.body.id;
    const updated = await patch(id, { name: 'woohoo', description: 'A great cohort!', created_by: 'x', last_calculation: 'y', errors_calculating: 100 });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'woohoo', description: 'A great cohort!', errors_calculating: 0 });
    expect(updated.body.created_by.email).toBe('admin@example.com');

    const del = await t.api('delete', `${P}/${id}/`);
    expect(del.status).toBe(405);
    expect(del.text).toBe('');
    expect((await t.api('get', `${P}/${id}`)).body.deleted).toBe(false);

    const deleted = await patch(id, { deleted: true });
    expect(deleted.status).toBe(200);
    expect(deleted.body.deleted).toBe(true);
    expect((await t.api('get', `${P}/${id}`)).body.deleted).toBe(true);
    const list = await t.api('get', `${P}/?limit=1000`);
    expect(list.body.results.map((c: { id: number }) => c.id)).not.toContain(id);
    expect((await patch(id, { deleted: false })).body.deleted).toBe(false);

    const activity = await t.api('get', `${P}/${id}/activity`);
    expect(activity.status).toBe(200);
    expect(activity.body.results.map((e: { activity: string }) => e.activity)).toEqual(['restored', 'deleted', 'updated', 'created']);
    const [, , update, created] = activity.body.results;
    expect(created).toMatchObject({ scope: 'Cohort', item_id: String(id), user: { email: 'admin@example.com' }, detail: { changes: [], name: 'whatever' } });
    expect(update.detail).toMatchObject({
      name: 'woohoo',
      changes: [
        { type: 'Cohort', action: 'changed', field: 'name', before: 'whatever', after: 'woohoo' },
        { type: 'Cohort', action: 'created', field: 'description', before: null, after: 'A great cohort!' },
      ],
    });
    expect(activity.body.results[1].detail.changes).toEqual([{ type: 'Cohort', action: 'changed', field: 'deleted', before: false, after: true }]);
    const all = await t.api('get', `${P}/activity`);
    expect(all.body.total_count).toBeGreaterThanOrEqual(4);
    expect((await t.api('get', `${P}/99999/activity`)).status).toBe(404);
  });

  it('refuses to delete a cohort that active flags or other cohorts use', async () => {
    const used = (await create({ name: 'used by flag', filters: props(personFilter('a', 'b')) })).body;
    const flag = await t.api('post', '/api/projects/1/feature_flags/').send({
      key: 'cohort-flag',
      name: 'This is a cohort-based flag',
      filters: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: used.id }] }] },
    });
    expect(flag.status).toBe(201);
    const refused = await patch(used.id, { deleted: true });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      type: 'validation_error',
      code: 'invalid_input',
      detail:
        'This cohort is used in 1 active feature flag(s): This is a cohort-based flag. Please remove the cohort from these feature flags before deleting it.',
      attr: null,
    });
    await t.api('patch', `/api/projects/1/feature_flags/${flag.body.id}/`).send({ active: false });
    expect((await patch(used.id, { deleted: true })).status).toBe(200);

    const base = (await create({ name: 'base', filters: props(personFilter('a', 'b')) })).body;
    await create({ name: 'dependent one', filters: props(cohortRef(base.id)) });
    const refusedByCohort = await patch(base.id, { deleted: true });
    expect(refusedByCohort.body.detail).toBe(
      'This cohort is used as criteria in 1 other cohort(s): dependent one. Please remove this cohort from those cohort definitions before deleting it.',
    );
  });

  it('keeps behavioral criteria away from cohorts that flags use', async () => {
    const events = (await create({ name: 'cohort XX', filters: props(behavioral) })).body;
    const target = (await create({ name: 'flag cohort', filters: props(personFilter('$some_prop', 'something')) })).body;
    const flag = await t.api('post', '/api/projects/1/feature_flags/').send({
      key: 'behavioral-guard',
      filters: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: target.id }] }] },
    });
    expect(flag.status).toBe(201);
    const direct = await patch(target.id, { filters: props(personFilter('$some_prop', 'something'), behavioral) });
    expect(direct.status).toBe(400);
    expect(direct.body).toEqual({
      type: 'validation_error',
      code: 'behavioral_cohort_found',
      detail: 'Behavioral filters cannot be added to cohorts used in feature flags.',
      attr: 'filters',
    });
    const nested = await patch(target.id, { filters: props(personFilter('$some_prop', 'something'), cohortRef(events.id)) });
    expect(nested.body).toEqual({
      type: 'validation_error',
      code: 'behavioral_cohort_found',
      detail: "A cohort dependency (cohort XX) has filters based on events. These cohorts can't be used in feature flags.",
      attr: 'filters',
    });
    expect((await patch(target.id, { filters: props(personFilter('$some_prop', 'other')) })).status).toBe(200);
  });
});

describe('static cohorts', () => {
  it('adds members by distinct id, creating persons for ids never seen', async () => {
    await t.sql(`insert into persons (id, project_id, properties) values (900001, 1, '{"email": "known@example.com"}')`);
    await t.sql(`insert into person_distinct_ids (project_id, distinct_id, person_id) values (1, 'known-user', 900001)`);
    const res = await create({ name: 'beta testers', is_static: true, distinct_ids: ['known-user', 'new-1', 'new-2', 'new-1', ' new-3 '] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ is_static: true, count: 4, is_calculating: false });
    expect(res.body.last_calculation).toMatch(/Z$/);
    expect(await personsWith('known-user')).toEqual([{ person_id: expect.anything() }]);
    expect(Number((await personsWith('known-user'))[0].person_id)).toBe(900001);
    expect(await personsWith('new-3')).toHaveLength(1);
    const [person] = await t.sql<{ properties: unknown }>(
      'select p.properties from persons p join person_distinct_ids d on d.person_id = p.id where d.distinct_id = $1',
      ['new-1'],
    );
    expect(person.properties).toEqual({});

    const more = await patch(res.body.id, { distinct_ids: ['new-2', 'new-4'] });
    expect(more.status).toBe(200);
    expect(more.body.count).toBe(5);
    expect(await staticCohortsOf(t.ctx.db, 1, 'new-4')).toEqual([res.body.id]);
    expect(await staticCohortsOf(t.ctx.db, 1, 'never-seen')).toEqual([]);
    expect(await staticCohortsOf(t.ctx.db, 2, 'new-4')).toEqual([]);

    const uuid = (await t.sql<{ uuid: string }>('select uuid from persons where id = 900001'))[0].uuid;
    const byUuid = await create({ name: 'by uuid', is_static: true, _create_static_person_ids: [uuid, '00000000-0000-0000-0000-000000000000', 'not-a-uuid'] });
    expect(byUuid.body.count).toBe(1);
    const empty = await create({ name: 'empty static', is_static: true, distinct_ids: [] });
    expect(empty.status).toBe(201);
    expect(empty.body.count).toBe(0);

    await patch(res.body.id, { deleted: true });
    expect(await staticCohortsOf(t.ctx.db, 1, 'new-4')).toEqual([]);
  });

  it('uploads a CSV of distinct ids as multipart, with or without a header', async () => {
    const res = await t
      .api('post', `${P}/`)
      .field('name', 'csv cohort')
      .field('is_static', 'true')
      .attach('csv', Buffer.from('\ncsv-1\r\ncsv-2\n"csv,3"\n\ncsv-1\n0\n'), { filename: 'ids.csv', contentType: 'text/csv' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'csv cohort', is_static: true, count: 4 });
    expect(await personsWith('csv,3')).toHaveLength(1);
    expect(await personsWith('0')).toHaveLength(1);

    const header = await t.api('patch', `${P}/${res.body.id}`).attach('csv', Buffer.from('\ufeffdistinct_id\ncsv-4\n'), 'ids.csv');
    expect(header.status).toBe(200);
    expect(header.body.count).toBe(5);
    expect(await personsWith('distinct_id')).toEqual([]);

    const bare = await t.api('patch', `${P}/${res.body.id}`).set('Content-Type', 'text/csv').send('csv-5\ncsv-6\n');
    expect(bare.status).toBe(200);
    expect(bare.body.count).toBe(7);
  });

  it('reads multi-column CSVs by their id header and other id types', async () => {
    await t.sql(`insert into persons (id, project_id, properties) values (900002, 1, '{"email": "mail@example.com"}')`);
    const multi = await t
      .api('post', P)
      .field('is_static', 'True')
      .field('name', 'multi')
      .attach('csv', Buffer.from('name,distinct_id,plan\nAnn,multi-1,pro\nshort\nBob,multi-2\n'), 'people.csv');
    expect(multi.status).toBe(201);
    expect(multi.body.count).toBe(2);
    const emails = await t.api('post', P).field('is_static', 'true').attach('csv', Buffer.from('email\nmail@example.com\nnobody@example.com\n'), 'e.csv');
    expect(emails.body.count).toBe(1);
    const uuid = (await t.sql<{ uuid: string }>('select uuid from persons where id = 900002'))[0].uuid;
    const personIds = await t
      .api('post', P)
      .field('is_static', 'true')
      .attach('csv', Buffer.from(`id,person_id\n1,${uuid}\n`), 'p.csv');
    expect(personIds.body.count).toBe(1);
  });

  it('answers CSV and source problems with PostHog messages', async () => {
    const upload = (data: Buffer | string) => t.api('post', P).field('is_static', 'true').attach('csv', Buffer.from(data), 'x.csv');
    expect((await upload('\n\n')).body).toEqual({
      type: 'validation_error',
      code: 'invalid_input',
      detail: 'CSV file is empty. Please upload a CSV file with at least one row of data.',
      attr: 'csv',
    });
    expect((await upload('name,plan\nAnn,pro\n')).body.detail).toBe(
      "Multi-column CSV must contain at least one column with a supported ID header: 'person_id', 'Person .id' (PostHog export format), 'distinct_id', 'distinct-id', or 'email'. Found columns: name, plan",
    );
    expect((await upload('distinct_id\n  \n')).body.detail).toBe(
      'CSV file contains no valid person IDs, distinct IDs, or email addresses. Please ensure your file has data rows with person IDs, distinct IDs, or email addresses.',
    );
    expect((await upload(Buffer.from([0x61, 0xff, 0x0a]))).body.detail).toBe(
      'CSV file encoding is not supported. Please save your file as UTF-8 and try again.',
    );

    const noSource = await create({ name: 'nothing', is_static: true });
    expect(noSource.body).toEqual({
      type: 'validation_error',
      code: 'invalid_input',
      detail: 'Invalid source for static cohort. Requires criteria, a csv, feature flag, existing cohort or query.',
      attr: null,
    });
    const criteria = await create({ is_static: true, filters: props(personFilter('a', 'b')) });
    expect(criteria.status).toBe(400);
    expect(criteria.body.attr).toBe('filters');
    const dynamic = (await create({ name: 'dynamic' })).body;
    expect((await patch(dynamic.id, { distinct_ids: ['x'] })).body.detail).toBe('Can only add users to static cohorts');
    const staticOne = (await create({ name: 'static', is_static: true, distinct_ids: ['s-1'] })).body;
    const edit = await patch(staticOne.id, { filters: props(personFilter('a', 'b')) });
    expect(edit.body.detail).toBe('Editing the criteria of a static cohort is not supported yet. Create a new static cohort instead.');
    const toDynamic = await patch(staticOne.id, { is_static: false, filters: props(personFilter('a', 'b')) });
    expect(toDynamic.status).toBe(200);
    expect(toDynamic.body).toMatchObject({ is_static: false, count: null });

    const badMultipart = await t.api('post', P).set('Content-Type', 'multipart/form-data; boundary=xyz').send('garbage');
    expect(badMultipart.status).toBe(400);
    expect(badMultipart.body).toMatchObject({ type: 'invalid_request', code: 'parse_error' });
    expect(badMultipart.body.detail).toMatch(/^Multipart form parse error - /);
    const badJsonField = await t.api('post', P).field('filters', '{nope');
    expect(badJsonField.body).toEqual({ type: 'validation_error', code: 'invalid_input', detail: 'Value must be valid JSON.', attr: 'filters' });
  });

  it('takes form fields as DRF does: JSON text fields and repeated list fields', async () => {
    const res = await t
      .api('post', P)
      .field('name', 'form cohort')
      .field('filters', JSON.stringify(props(personFilter('plan', 'pro'))));
    expect(res.status).toBe(201);
    expect(res.body.filters.properties.values[0]).toMatchObject({ key: 'plan', value: 'pro' });
    const listed = await t.api('post', P).field('is_static', 'true').field('distinct_ids', 'form-1').field('distinct_ids', 'form-2');
    expect(listed.status).toBe(201);
    expect(listed.body.count).toBe(2);
    const urlencoded = await t.api('post', P).type('form').send({ name: 'urlencoded', is_static: 'true', distinct_ids: 'form-3' });
    expect(urlencoded.status).toBe(201);
    expect(urlencoded.body.count).toBe(1);
  });

  it('gives each distinct id exactly one person under concurrent uploads', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `race-${i}`);
    const uploads = Array.from({ length: 6 }, (_, i) => create({ name: `race ${i}`, is_static: true, distinct_ids: ids.slice(i * 4, i * 4 + 20) }));
    const results = await Promise.all(uploads);
    for (const r of results) expect(r.status).toBe(201);
    const rows = await t.sql<{ distinct_id: string; n: number }>(
      "select distinct_id, count(*)::int as n from person_distinct_ids where project_id = 1 and distinct_id like 'race-%' group by distinct_id",
    );
    expect(rows).toHaveLength(40);
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    const orphans = await t.sql<{ n: number }>(
      'select count(*)::int as n from persons p where not exists (select 1 from person_distinct_ids d where d.person_id = p.id) and p.id < 900000',
    );
    expect(Number(orphans[0].n)).toBe(0);
  });
});

describe('list', () => {
  it('paginates with limit/offset and filters by type, search, creator and behavioral criteria', async () => {
    // Cohorts of its own, in a project of its own: the other tests add cohorts to project 1.
    const P = `/api/projects/${(await createProject(t.ctx, { name: 'Cohort list' })).id}/cohorts`;
    for (const body of [
      { name: 'Power users', filters: props({ type: 'AND', values: [personFilter('plan', 'pro')] }) },
      { name: 'cohort XX', filters: props(behavioral) },
      { name: 'Germans', filters: props({ type: 'AND', values: [personFilter('country', 'DE')] }) },
      { name: 'Listed by hand', is_static: true, distinct_ids: ['listed-1'] },
    ]) {
      expect((await t.api('post', `${P}/`).send(body)).status).toBe(201);
    }
    const page = await t.api('get', `${P}/?limit=2`);
    expect(page.status).toBe(200);
    expect(page.body.results).toHaveLength(2);
    expect(page.body.next).toMatch(/cohorts\/\?limit=2&offset=2$/);
    expect(page.body.previous).toBeNull();
    const total = page.body.count;
    expect(total).toBe(4);
    const second = await t.api('get', `${P}/?limit=2&offset=2`);
    expect(second.body.previous).toMatch(/cohorts\/\?limit=2$/);
    expect(new Date(page.body.results[0].created_at).getTime()).toBeGreaterThanOrEqual(new Date(second.body.results[0].created_at).getTime());

    const statics = await t.api('get', `${P}/?type=static&limit=1000`);
    expect(statics.body.results.map((c: { name: string }) => c.name)).toEqual(['Listed by hand']);
    const dynamics = await t.api('get', `${P}/?type=dynamic&limit=1000`);
    expect(statics.body.count + dynamics.body.count).toBe(total);
    const search = await t.api('get', `${P}/?search=POWER`);
    expect(search.body.results.map((c: { name: string }) => c.name)).toEqual(['Power users']);
    expect((await t.api('get', `${P}/?created_by_id=999`)).body.count).toBe(0);
    expect((await t.api('get', `${P}/?created_by_id=abc`)).status).toBe(400);

    const hidden = await t.api('get', `${P}/?hide_behavioral_cohorts=true&limit=1000`);
    const names = hidden.body.results.map((c: { name: string }) => c.name);
    expect(names).not.toContain('cohort XX');
    expect(names).toContain('Power users');
    expect(hidden.body.count).toBe(total - 1);
  });

  it('serves the legacy /api/cohort path from the current project', async () => {
    const created = await t.api('post', '/api/cohort/').send({ name: 'legacy path' });
    expect(created.status).toBe(201);
    expect((await t.api('get', `${P}/${created.body.id}`)).body.name).toBe('legacy path');
    const res = await t.api('get', '/api/cohort/?limit=1');
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(1);
  });

  it('needs the cohort scopes', async () => {
    const reader = await t.userWithKey({ email: 'cohort-reader@example.com', level: 'member', scopes: ['cohort:read'] });
    expect((await t.api('get', P, reader.key)).status).toBe(200);
    const denied = await create({ name: 'nope' }, reader.key);
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toBe("API key missing required scope 'cohort:write'");
    const activity = await t.api('get', `${P}/activity`, reader.key);
    expect(activity.body.detail).toBe("API key missing required scope 'activity_log:read'");
    expect((await t.http.get(P)).status).toBe(401);
  });
});

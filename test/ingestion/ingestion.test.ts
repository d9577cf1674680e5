// Capture ingestion over real HTTP: persons from $set/$set_once/$unset and identify/alias merges
// (PostHog's rules), flag usage and last_called_at from $feature_flag_called, groups from
// $groupidentify, every body encoding the SDKs use, deduplication by uuid within the window,
// malformed events skipped and counted, and no accepted event lost on app.close().
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { rawRequest } from '../helpers/raw-http.ts';

let t: TestApp;
const START = '2024-06-15T12:00:00.000Z';
let clock = new Date(START);
const P = '/api/projects/1';

beforeAll(async () => {
  t = await createTestApp({ now: () => clock });
});
// Every test starts at the same time, whichever ran before it (those that need another set it).
beforeEach(() => {
  clock = new Date(START);
});
afterAll(async () => {
  await t?.close();
});

type Json = Record<string, any>;
const uuid = () => crypto.randomUUID();
const ev = (event: string, distinctId: string, properties: Json = {}, extra: Json = {}): Json => ({
  event,
  distinct_id: distinctId,
  uuid: uuid(),
  properties,
  ...extra,
});

async function capture(batch: unknown[], path = '/batch/'): Promise<void> {
  const res = await t.http.post(path).send({ api_key: PROJECT_TOKEN, batch });
  expect(res.status, res.text).toBe(200);
  expect(res.body).toEqual({ status: 1 });
}

async function personOf(distinctId: string): Promise<Json | undefined> {
  const res = await t.api('get', `${P}/persons/?distinct_id=${encodeURIComponent(distinctId)}`);
  expect(res.status).toBe(200);
  expect(res.body.results.length).toBeLessThanOrEqual(1);
  return res.body.results[0];
}

async function usage(flagKey: string): Promise<Array<{ day: string; value: string; count: number }>> {
  return t.sql(`select to_char(day, 'YYYY-MM-DD') as day, value, count::int as count from flag_usage_daily where flag_key = $1 order by day, value`, [flagKey]);
}

describe('persons from events', () => {
  it('$set and $set_once in properties and at the top level, $unset, and event properties onto the person', async () => {
    await capture([
      ev('$pageview', 'p-1', { $browser: 'Firefox', utm_source: 'news', $set: { plan: 'free', tier: 1 }, $set_once: { first_seen: 'monday' } }),
      ev('$set', 'p-1', { $set: { plan: 'pro' }, $set_once: { first_seen: 'tuesday', signup: 'web' } }),
      // posthog-js puts $set at the top level of the event; it wins over the one in properties.
      ev('$identify', 'p-1', { $set: { color: 'red' } }, { $set: { color: 'blue' }, $set_once: { lang: 'en' } }),
      ev('$set', 'p-1', { $unset: ['tier'] }),
    ]);
    const person = await personOf('p-1');
    expect(person).toMatchObject({
      name: 'p-1',
      distinct_ids: ['p-1'],
      properties: {
        plan: 'pro',
        first_seen: 'monday',
        signup: 'web',
        color: 'blue',
        lang: 'en',
        $browser: 'Firefox',
        $initial_browser: 'Firefox',
        utm_source: 'news',
        $initial_utm_source: 'news',
      },
      created_at: '2024-06-15T12:00:00.000000Z',
      last_seen_at: null,
    });
    expect(person!.properties).not.toHaveProperty('tier');
    expect(person!.properties.$creator_event_uuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('$identify with $anon_distinct_id merges the anonymous person into the identified one (its properties win)', async () => {
    clock = new Date('2024-06-15T12:00:00.000Z');
    await capture([ev('$pageview', 'anon-a', { $set: { plan: 'anon-plan', seen_as_anon: true } })]);
    clock = new Date('2024-06-16T12:00:00.000Z');
    await capture([ev('$set', 'user-a', { $set: { plan: 'user-plan', email: 'a@example.com' } })]);
    clock = new Date('2024-06-17T12:00:00.000Z');
    await capture([ev('$identify', 'user-a', { $anon_distinct_id: 'anon-a', $set: { name: 'Ada' } })]);
    const person = await personOf('anon-a');
    expect(person).toMatchObject({
      name: 'a@example.com',
      properties: { plan: 'user-plan', seen_as_anon: true, email: 'a@example.com', name: 'Ada' },
      // The older created_at of the two persons is kept.
      created_at: '2024-06-15T12:00:00.000000Z',
    });
    expect([...person!.distinct_ids].sort()).toEqual(['anon-a', 'user-a']);
    expect((await personOf('user-a'))!.uuid).toBe(person!.uuid);
    const [row] = await t.sql<{ is_identified: boolean; n: number }>(
      `select p.is_identified, (select count(*)::int from persons q where q.project_id = 1 and q.id in (select person_id from person_distinct_ids where distinct_id in ('anon-a','user-a'))) as n
       from persons p where p.uuid = $1`,
      [person!.uuid],
    );
    expect(row).toEqual({ is_identified: true, n: 1 });
  });

  it('identify adds the other id to whichever person exists, or creates one person with both', async () => {
    await capture([ev('$pageview', 'anon-b', { $set: { a: 1 } }), ev('$identify', 'user-b', { $anon_distinct_id: 'anon-b' })]);
    expect([...(await personOf('user-b'))!.distinct_ids].sort()).toEqual(['anon-b', 'user-b']);
    await capture([ev('$set', 'user-c', { $set: { c: 1 } }), ev('$identify', 'user-c', { $anon_distinct_id: 'anon-c' })]);
    expect([...(await personOf('anon-c'))!.distinct_ids].sort()).toEqual(['anon-c', 'user-c']);
    await capture([ev('$identify', 'user-d', { $anon_distinct_id: 'anon-d', $set: { d: 1 } })]);
    const d = await personOf('anon-d');
    expect([...d!.distinct_ids].sort()).toEqual(['anon-d', 'user-d']);
    expect(d!.properties.d).toBe(1);
  });

  it('never merges away an identified person, nor illegal ids; $merge_dangerously does', async () => {
    await capture([ev('$identify', 'user-e', { $anon_distinct_id: 'anon-e' }), ev('$identify', 'user-f', { $anon_distinct_id: 'anon-f' })]);
    // user-e's person is identified: identify/alias cannot merge it into user-f.
    await capture([ev('$identify', 'user-f', { $anon_distinct_id: 'user-e' }), ev('$create_alias', 'user-f', { alias: 'user-e' })]);
    expect((await personOf('user-e'))!.uuid).not.toBe((await personOf('user-f'))!.uuid);
    await capture([ev('$identify', 'anonymous', { $anon_distinct_id: 'anon-g' }), ev('$identify', 'user-g', { $anon_distinct_id: 'null' })]);
    expect(await personOf('anon-g')).toBeUndefined();
    expect((await personOf('user-g'))!.distinct_ids).toEqual(['user-g']);
    expect(t.app.services.ingestion.stats(1).warnings).toMatchObject({ cannot_merge_already_identified: 2, cannot_merge_with_illegal_distinct_id: 2 });
    await capture([ev('$merge_dangerously', 'user-f', { alias: 'user-e' })]);
    expect((await personOf('user-e'))!.uuid).toBe((await personOf('user-f'))!.uuid);
  });

  it('$create_alias merges the alias (also given as $anon_distinct_id) into distinct_id', async () => {
    await capture([ev('$pageview', 'alias-old', { $set: { x: 1 } }), ev('$create_alias', 'alias-new', { alias: 'alias-old', distinct_id: 'alias-new' })]);
    expect([...(await personOf('alias-new'))!.distinct_ids].sort()).toEqual(['alias-new', 'alias-old']);
    await capture([ev('$pageview', 'alias-anon'), ev('$pageview', 'alias-user'), ev('$create_alias', 'alias-user', { $anon_distinct_id: 'alias-anon' })]);
    expect([...(await personOf('alias-user'))!.distinct_ids].sort()).toEqual(['alias-anon', 'alias-user']);
  });

  it('a merge moves static-cohort memberships and continuity overrides (the target keeps its own)', async () => {
    await capture([ev('$pageview', 'm-anon'), ev('$pageview', 'm-user')]);
    const cohort = await t.api('post', `${P}/cohorts/`).send({ name: 'Static', is_static: true, distinct_ids: ['m-anon'] });
    expect(cohort.status).toBe(201);
    const ids = await t.sql<{ distinct_id: string; person_id: number }>(
      `select distinct_id, person_id::int as person_id from person_distinct_ids where distinct_id in ('m-anon','m-user')`,
    );
    const anonPerson = ids.find((r) => r.distinct_id === 'm-anon')!.person_id;
    const userPerson = ids.find((r) => r.distinct_id === 'm-user')!.person_id;
    await t.sql(`insert into flag_hash_key_overrides values (1, $1, 'k1', 'from-anon'), (1, $1, 'k2', 'from-anon'), (1, $2, 'k2', 'from-user')`, [
      anonPerson,
      userPerson,
    ]);
    await capture([ev('$identify', 'm-user', { $anon_distinct_id: 'm-anon' })]);
    expect(await t.sql(`select feature_flag_key, hash_key from flag_hash_key_overrides where person_id = $1 order by 1`, [userPerson])).toEqual([
      { feature_flag_key: 'k1', hash_key: 'from-anon' },
      { feature_flag_key: 'k2', hash_key: 'from-user' },
    ]);
    expect(await t.sql(`select person_id::int as person_id from cohort_members where cohort_id = $1`, [cohort.body.id])).toEqual([{ person_id: userPerson }]);
    expect(await t.sql(`select id from persons where id = $1`, [anonPerson])).toEqual([]);
  });

  it('merges and property changes within one batch apply in order', async () => {
    await capture([
      ev('$pageview', 'o-anon', { $set: { step: 1 } }),
      ev('$identify', 'o-user', { $anon_distinct_id: 'o-anon', $set: { step: 2 } }),
      ev('$set', 'o-anon', { $set: { step: 3 }, $set_once: { once: 'first' } }),
      ev('$set', 'o-user', { $set_once: { once: 'second' } }),
    ]);
    const person = await personOf('o-user');
    expect(person!.properties).toMatchObject({ step: 3, once: 'first' });
    expect([...person!.distinct_ids].sort()).toEqual(['o-anon', 'o-user']);
  });

  it('$process_person_profile: false creates and changes no person', async () => {
    await capture([ev('$pageview', 'personless', { $process_person_profile: false, $set: { a: 1 } })]);
    expect(await personOf('personless')).toBeUndefined();
  });
});

describe('flag usage', () => {
  it('$feature_flag_called counts calls per day and value, unique persons per day, and sets last_called_at', async () => {
    clock = new Date('2024-07-01T10:00:00.000Z');
    const flag = await t.api('post', `${P}/feature_flags/`).send({ key: 'usage-flag', _should_create_usage_dashboard: false });
    expect(flag.status).toBe(201);
    const called = (distinctId: string, value: unknown, timestamp?: string) =>
      ev('$feature_flag_called', distinctId, { $feature_flag: 'usage-flag', $feature_flag_response: value }, timestamp ? { timestamp } : {});
    await capture([called('u1', true), called('u1', true), called('u2', false), called('u3', 'variant-a'), called('u4', true, '2024-06-30T09:00:00.000Z')]);
    expect(await usage('usage-flag')).toEqual([
      { day: '2024-06-30', value: 'true', count: 1 },
      { day: '2024-07-01', value: 'false', count: 1 },
      { day: '2024-07-01', value: 'true', count: 2 },
      { day: '2024-07-01', value: 'variant-a', count: 1 },
    ]);
    expect(
      await t.sql(
        `select to_char(day, 'YYYY-MM-DD') as day, count(*)::int as n from flag_usage_persons where flag_key = 'usage-flag' group by day order by day`,
      ),
    ).toEqual([
      { day: '2024-06-30', n: 1 },
      { day: '2024-07-01', n: 3 },
    ]);
    const after = await t.api('get', `${P}/feature_flags/${flag.body.id}/`);
    expect(after.body.last_called_at).toBe('2024-07-01T10:00:00.000000Z');

    // An older call never moves last_called_at back; a newer one moves it forward.
    await capture([called('u5', true, '2024-06-01T00:00:00.000Z')]);
    expect((await t.api('get', `${P}/feature_flags/${flag.body.id}/`)).body.last_called_at).toBe('2024-07-01T10:00:00.000000Z');
    clock = new Date('2024-07-02T08:30:00.000Z');
    await capture([called('u5', true)]);
    expect((await t.api('get', `${P}/feature_flags/${flag.body.id}/`)).body.last_called_at).toBe('2024-07-02T08:30:00.000000Z');
  });

  it('corrects the client clock with sent_at, and ignores timestamps a day ahead', async () => {
    clock = new Date('2024-08-01T12:00:00.000Z');
    // The client's clock runs 2 hours fast: its event 1 hour before sending happened at 11:00.
    const res = await t.http.post('/batch/').send({
      api_key: PROJECT_TOKEN,
      sent_at: '2024-08-01T14:00:00.000Z',
      batch: [ev('$feature_flag_called', 'skew', { $feature_flag: 'skew-flag', $feature_flag_response: true }, { timestamp: '2024-08-01T13:00:00.000Z' })],
    });
    expect(res.status).toBe(200);
    await capture([
      ev('$feature_flag_called', 'future', { $feature_flag: 'future-flag', $feature_flag_response: true }, { timestamp: '2024-08-05T00:00:00.000Z' }),
    ]);
    expect(await usage('skew-flag')).toEqual([{ day: '2024-08-01', value: 'true', count: 1 }]);
    expect(await usage('future-flag')).toEqual([{ day: '2024-08-01', value: 'true', count: 1 }]);
  });

  it('$feature_view and $feature_interaction count as enriched analytics and mark the flag', async () => {
    const flag = await t.api('post', `${P}/feature_flags/`).send({ key: 'enriched-flag', _should_create_usage_dashboard: false });
    expect(flag.body.has_enriched_analytics).toBe(false);
    await capture([ev('$feature_view', 'v1', { feature_flag: 'enriched-flag' }), ev('$feature_interaction', 'v1', { feature_flag: 'enriched-flag' })]);
    expect((await t.api('get', `${P}/feature_flags/${flag.body.id}/`)).body.has_enriched_analytics).toBe(true);
    expect((await usage('enriched-flag')).map((r) => r.value)).toEqual(['$feature_interaction', '$feature_view']);
  });
});

describe('groups', () => {
  it('$groupidentify registers the group type and merges $group_set into the group', async () => {
    await capture([
      ev('$groupidentify', '$company_acme', { $group_type: 'company', $group_key: 'acme', $group_set: { name: 'Acme', size: 10 } }),
      ev('$groupidentify', '$company_acme', { $group_type: 'company', $group_key: 'acme', $group_set: { size: 12 } }),
      ev('$groupidentify', '$team_7', { $group_type: 'team', $group_key: 7, $group_set: { seats: 3 } }),
    ]);
    const types = await t.api('get', `${P}/groups_types/`);
    expect(types.body.map((g: Json) => [g.group_type, g.group_type_index])).toEqual([
      ['company', 0],
      ['team', 1],
    ]);
    expect(await t.sql(`select group_type_index, group_key, group_properties from groups order by group_type_index`)).toEqual([
      { group_type_index: 0, group_key: 'acme', group_properties: { name: 'Acme', size: 12 } },
      { group_type_index: 1, group_key: '7', group_properties: { seats: 3 } },
    ]);
    await capture([ev('$groupidentify', '$company_acme', { $group_type: 'company', $group_key: 'acme', $group_set: { plan: 'enterprise' } })]);
    expect((await t.sql<{ group_properties: Json }>(`select group_properties from groups where group_key = 'acme'`))[0].group_properties).toEqual({
      name: 'Acme',
      size: 12,
      plan: 'enterprise',
    });
    // A group identify is about the group: no person is created for its distinct id.
    expect(await personOf('$company_acme')).toBeUndefined();
  });
});

describe('transport', () => {
  const called = (key: string) => ev('$feature_flag_called', 'transport', { $feature_flag: key, $feature_flag_response: true });

  it('accepts gzip (header and magic bytes), base64 form bodies and every capture path', async () => {
    const body = (key: string) => JSON.stringify({ api_key: PROJECT_TOKEN, batch: [called(key)] });
    const raw = (path: string, headers: Record<string, string>, bytes: Buffer) => rawRequest(t.baseUrl, 'POST', path, headers, bytes);
    expect((await raw('/batch/', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, zlib.gzipSync(body('t-gzip-header')))).status).toBe(200);
    expect((await raw('/e/?compression=gzip-js', { 'content-type': 'text/plain' }, zlib.gzipSync(body('t-gzip-query')))).status).toBe(200);
    expect((await raw('/i/v0/e/', { 'content-type': 'text/plain' }, zlib.gzipSync(body('t-gzip-magic')))).status).toBe(200);
    const form = `data=${encodeURIComponent(Buffer.from(JSON.stringify([{ ...called('t-form'), properties: { ...called('t-form').properties, token: PROJECT_TOKEN } }])).toString('base64'))}`;
    expect((await t.http.post('/e/').set('content-type', 'application/x-www-form-urlencoded').send(form)).status).toBe(200);
    expect((await t.http.post('/capture/').send({ api_key: PROJECT_TOKEN, ...called('t-single') })).status).toBe(200);
    const base64 = encodeURIComponent(Buffer.from(JSON.stringify({ api_key: PROJECT_TOKEN, batch: [called('t-base64')] })).toString('base64'));
    expect((await t.http.post(`/e/?compression=base64`).set('content-type', 'text/plain').send(base64)).status).toBe(200);
    for (const key of ['t-gzip-header', 't-gzip-query', 't-gzip-magic', 't-form', 't-single', 't-base64']) {
      expect(await usage(key), key).toEqual([expect.objectContaining({ value: 'true', count: 1 })]);
    }
  });

  it('skips and counts malformed events without failing their batch; hostile values are stored safely', async () => {
    const before = t.app.services.ingestion.stats(1);
    let deep: Json = { leaf: true };
    for (let i = 0; i < 200; i++) deep = { deep };
    await capture([
      { event: '$feature_flag_called', properties: { $feature_flag: 'm-flag', $feature_flag_response: true } },
      'not an event',
      { distinct_id: 'no-event-name' },
      ev('$feature_flag_called', 'm-user', { $feature_flag: '' }),
      ev('$set', 'm-deep', { $set: { deep } }),
      ev('$set', 'm-nul', { $set: { 'nul\u0000key': 'a\u0000b', surrogate: '\ud800x', big: 1e308 } }),
      ev('$feature_flag_called', 'm-user', { $feature_flag: 'm-flag', $feature_flag_response: 'on\u0000' }),
    ]);
    const after = t.app.services.ingestion.stats(1);
    expect(after.malformed - before.malformed).toBe(5);
    expect(after.malformedReasons.not_an_event! - (before.malformedReasons.not_an_event ?? 0)).toBe(2);
    expect(after.malformedReasons.missing_distinct_id! - (before.malformedReasons.missing_distinct_id ?? 0)).toBe(1);
    expect(after.malformedReasons.missing_feature_flag! - (before.malformedReasons.missing_feature_flag ?? 0)).toBe(1);
    expect(after.malformedReasons.invalid_properties! - (before.malformedReasons.invalid_properties ?? 0)).toBe(1);
    expect(await usage('m-flag')).toEqual([expect.objectContaining({ value: 'on', count: 1 })]);
    expect((await personOf('m-nul'))!.properties).toMatchObject({ nulkey: 'ab', surrogate: '\ufffdx', big: 1e308 });
    const exposed = await t.api('get', `${P}/ingestion_stats/`);
    expect(exposed.status).toBe(200);
    expect(exposed.body).toMatchObject({
      events_received: after.received,
      events_ingested: after.ingested,
      malformed_skipped: after.malformed,
      malformed_reasons: { not_an_event: after.malformedReasons.not_an_event, invalid_properties: after.malformedReasons.invalid_properties },
    });
    // Only malformed entries: still acknowledged, nothing stored.
    await capture(['x', 1, null]);
  });

  it('rejects a missing or unknown token and an empty batch like PostHog', async () => {
    expect((await t.http.post('/batch/').send({ batch: [called('t-no-token')] })).status).toBe(401);
    expect((await t.http.post('/batch/').send({ api_key: 'phc_unknown', batch: [called('t-no-token')] })).status).toBe(401);
    expect((await t.http.post('/batch/').send({ api_key: PROJECT_TOKEN, batch: [] })).status).toBe(400);
    expect(await usage('t-no-token')).toEqual([]);
  });
});

describe('deduplication', () => {
  it('counts a repeated uuid once within the window, and again after it', async () => {
    clock = new Date('2024-09-01T00:00:00.000Z');
    const event = ev('$feature_flag_called', 'dup', { $feature_flag: 'dup-flag', $feature_flag_response: true });
    await capture([event, event, { ...event }]);
    await capture([event]);
    expect(await usage('dup-flag')).toEqual([{ day: '2024-09-01', value: 'true', count: 1 }]);
    const stats = t.app.services.ingestion.stats(1);
    expect(stats.duplicates).toBeGreaterThanOrEqual(3);
    clock = new Date('2024-09-01T23:00:00.000Z');
    await capture([event]);
    expect(await usage('dup-flag')).toEqual([{ day: '2024-09-01', value: 'true', count: 1 }]);
    // The default window is 24 hours: 25 hours after the first sighting the uuid counts again.
    clock = new Date('2024-09-02T01:00:00.000Z');
    await capture([{ ...event, timestamp: '2024-09-01T00:00:00.000Z' }]);
    expect(await usage('dup-flag')).toEqual([{ day: '2024-09-01', value: 'true', count: 2 }]);
  });

  it('counts events without a uuid every time', async () => {
    const event = { event: '$feature_flag_called', distinct_id: 'no-uuid', properties: { $feature_flag: 'no-uuid-flag', $feature_flag_response: true } };
    await capture([event, event]);
    await capture([event]);
    expect((await usage('no-uuid-flag'))[0].count).toBe(3);
  });
});

describe('durability', () => {
  it('acknowledges only committed events and drains accepted ones on app.close()', async () => {
    // A second app on its own database, closed while requests are in flight.
    const other = await createTestApp();
    const requests = Array.from({ length: 30 }, (_, i) =>
      other.http
        .post('/batch/')
        .send({
          api_key: PROJECT_TOKEN,
          batch: Array.from({ length: 50 }, (_, j) => ev('$feature_flag_called', `c-${i}-${j}`, { $feature_flag: 'close-flag', $feature_flag_response: true })),
        })
        .then(
          (res) => res.status,
          () => 0,
        ),
    );
    // Close once the server has started receiving them.
    for (let i = 0; i < 400 && other.app.services.ingestion.stats(1).received === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const submitted = other.app.services.ingestion.submit(1, {
      token: PROJECT_TOKEN,
      events: [
        { event: '$feature_flag_called', distinctId: 'direct', properties: { $feature_flag: 'close-flag', $feature_flag_response: true }, uuid: uuid() },
      ],
      malformed: 0,
    });
    await other.app.close();
    await submitted;
    const statuses = await Promise.all(requests);
    const acknowledged = statuses.filter((s) => s === 200).length;
    expect(acknowledged).toBeGreaterThan(0);
    const [row] = await other.sql<{ n: number }>(`select coalesce(sum(count), 0)::int as n from flag_usage_daily where flag_key = 'close-flag'`);
    // Every acknowledged request and the direct submission are stored; refused ones (503 while closing) are not.
    expect(row.n).toBe(acknowledged * 50 + 1);
    await expect(other.app.services.ingestion.submit(1, { token: PROJECT_TOKEN, events: [], malformed: 1 })).rejects.toMatchObject({ statusCode: 503 });
    await other.close();
  });
});

// loadPersonContext, what /flags reads about a distinct id (docs/compatibility.md#sdk-3.1,
// #sdk-3.12): stored person and group properties, static cohorts, and experience-continuity overrides
// written for both persons (first anon id wins, under concurrency too) so a continuity flag keeps its
// value across identify.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { loadPersonContext } from '../../src/persons/service.ts';
import { evaluateFlags, type FlagEvaluation } from '../../src/evaluation/index.ts';

let t: TestApp;
type Json = Record<string, any>;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

async function capture(batch: Json[]): Promise<void> {
  const res = await t.http.post('/batch/').send({ api_key: PROJECT_TOKEN, batch: batch.map((e) => ({ uuid: crypto.randomUUID(), ...e })) });
  expect(res.status).toBe(200);
}

async function createFlag(body: Json): Promise<Json> {
  const res = await t.api('post', '/api/projects/1/feature_flags/').send({ _should_create_usage_dashboard: false, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** /flags as the lead wires it: stored context under the request's properties, then the engine. */
async function evaluate(distinctId: string, anonDistinctId?: string, personProperties: Json = {}): Promise<Map<string, FlagEvaluation>> {
  const snapshot = (await t.app.services.snapshots.forProject(1))!;
  const continuityFlagKeys = snapshot.flags.filter((f) => f.active && f.ensureExperienceContinuity).map((f) => f.key);
  const stored = await loadPersonContext(t.ctx.db, 1, { distinctId, anonDistinctId, continuityFlagKeys });
  const results = evaluateFlags(snapshot.compiled, {
    distinctId,
    anonDistinctId,
    personProperties: { ...stored.personProperties, ...personProperties, distinct_id: distinctId },
    staticCohortIds: stored.staticCohortIds,
    hashKeyOverrides: stored.hashKeyOverrides,
    runtime: 'all',
  });
  return new Map(results.map((r) => [r.key, r]));
}

describe('stored context', () => {
  it("returns the person's properties and created_at, its static cohorts and the requested groups by index", async () => {
    await capture([
      { event: '$set', distinct_id: 'ctx-user', properties: { $set: { email: 'ctx@example.com', plan: 'pro' } } },
      { event: '$groupidentify', distinct_id: 'ctx-user', properties: { $group_type: 'company', $group_key: 'acme', $group_set: { size: 50 } } },
    ]);
    const cohort = await t.api('post', '/api/projects/1/cohorts/').send({ name: 'Beta', is_static: true, distinct_ids: ['ctx-user'] });
    const context = await loadPersonContext(t.ctx.db, 1, { distinctId: 'ctx-user', groups: { 0: 'acme', 1: 'nope' } });
    expect(context.personProperties).toMatchObject({ email: 'ctx@example.com', plan: 'pro' });
    expect(context.personCreatedAt).toBeInstanceOf(Date);
    expect(context.staticCohortIds).toEqual(new Set([cohort.body.id]));
    expect(context.groupProperties).toEqual(new Map([[0, { size: 50 }]]));
    expect(context.hashKeyOverrides).toEqual({});

    const unknown = await loadPersonContext(t.ctx.db, 1, { distinctId: 'never-seen', groups: {} });
    expect(unknown).toEqual({ personProperties: {}, personCreatedAt: null, groupProperties: new Map(), staticCohortIds: new Set(), hashKeyOverrides: {} });
    // Reading creates nothing.
    expect(await t.sql(`select 1 from person_distinct_ids where distinct_id = 'never-seen'`)).toEqual([]);
  });

  it('stored properties let a flag target a person the request says nothing about; request values win', async () => {
    await capture([{ event: '$set', distinct_id: 'pro-user', properties: { $set: { plan: 'pro' } } }]);
    await createFlag({ key: 'pro-only', filters: { groups: [{ properties: [{ key: 'plan', value: 'pro', type: 'person' }], rollout_percentage: 100 }] } });
    expect((await evaluate('pro-user')).get('pro-only')!.enabled).toBe(true);
    expect((await evaluate('pro-user', undefined, { plan: 'free' })).get('pro-only')!.enabled).toBe(false);
    expect((await evaluate('someone-else')).get('pro-only')!.enabled).toBe(false);
  });
});

describe('experience continuity (SDK 3.12)', () => {
  let anon = '';
  let user = '';

  beforeAll(async () => {
    await createFlag({ key: 'sticky', ensure_experience_continuity: true, filters: { groups: [{ rollout_percentage: 50 }] } });
    await createFlag({ key: 'loose', filters: { groups: [{ rollout_percentage: 50 }] } });
    // A visitor and a user id that land on different sides of both 50 % rollouts.
    const compiled = (await t.app.services.snapshots.forProject(1))!.compiled;
    const value = (id: string, key: string) => evaluateFlags(compiled, { distinctId: id, runtime: 'all', flagKeys: [key] }).find((r) => r.key === key)!.enabled;
    for (let i = 0; !anon; i++) {
      if (value(`visitor-${i}`, 'sticky') && !value(`member-${i}`, 'sticky') && value(`visitor-${i}`, 'loose') !== value(`member-${i}`, 'loose')) {
        anon = `visitor-${i}`;
        user = `member-${i}`;
      }
    }
  });

  it('keeps the anonymous value across identify, for the user and for later anon ids (first anon id wins)', async () => {
    // 1. An anonymous visit: bucketed on the visitor id.
    const visit = await evaluate(anon);
    expect(visit.get('sticky')!.enabled).toBe(true);
    // 2. Sign-in: posthog-js asks with the user id and the visitor id as $anon_distinct_id.
    const signIn = await evaluate(user, anon);
    expect(signIn.get('sticky')!.enabled).toBe(true);
    // (Other tests write overrides for the same flag, for other people.)
    expect(
      await t.sql(
        `select d.distinct_id, o.hash_key from flag_hash_key_overrides o join person_distinct_ids d on d.person_id = o.person_id
                        where o.feature_flag_key = 'sticky' and d.distinct_id in ($1, $2) order by d.distinct_id`,
        [user, anon],
      ),
    ).toEqual(
      [
        { distinct_id: user, hash_key: anon },
        { distinct_id: anon, hash_key: anon },
      ].sort((a, b) => (a.distinct_id < b.distinct_id ? -1 : 1)),
    );
    // 3. The $identify event merges the two persons; the override stays with the user.
    await capture([{ event: '$identify', distinct_id: user, properties: { $anon_distinct_id: anon } }]);
    // 4. Later requests carry only the user id: still the visitor's value. A flag without
    //    continuity follows the user id instead.
    const later = await evaluate(user);
    expect(later.get('sticky')!.enabled).toBe(true);
    expect(later.get('loose')!.enabled).toBe(visit.get('loose')!.enabled === false);
    // 5. A new device: a different anon id does not replace the first one.
    expect((await evaluate(user, 'another-device')).get('sticky')!.enabled).toBe(true);
    const context = await loadPersonContext(t.ctx.db, 1, { distinctId: user, anonDistinctId: 'another-device', continuityFlagKeys: ['sticky'] });
    expect(context.hashKeyOverrides).toEqual({ sticky: anon });
    // The new device's own person got its own (first) anon id.
    expect((await loadPersonContext(t.ctx.db, 1, { distinctId: 'another-device', continuityFlagKeys: ['sticky'] })).hashKeyOverrides).toEqual({
      sticky: 'another-device',
    });
  });

  it('writes nothing without an anon id or without continuity flags', async () => {
    const before = await t.sql(`select count(*)::int as n from flag_hash_key_overrides`);
    await loadPersonContext(t.ctx.db, 1, { distinctId: 'quiet-user', continuityFlagKeys: ['sticky'] });
    await loadPersonContext(t.ctx.db, 1, { distinctId: 'quiet-user', anonDistinctId: 'quiet-anon', continuityFlagKeys: [] });
    expect(await t.sql(`select count(*)::int as n from flag_hash_key_overrides`)).toEqual(before);
    expect(await t.sql(`select 1 from person_distinct_ids where distinct_id in ('quiet-user', 'quiet-anon')`)).toEqual([]);
  });

  it('gives every concurrent request the same first anon id', async () => {
    const anons = Array.from({ length: 20 }, (_, i) => `race-anon-${i}`);
    const contexts = await Promise.all(
      anons.map((a) => loadPersonContext(t.ctx.db, 1, { distinctId: 'race-user', anonDistinctId: a, continuityFlagKeys: ['sticky', 'other-key'] })),
    );
    const winner = contexts[0].hashKeyOverrides.sticky;
    expect(anons).toContain(winner);
    for (const c of contexts) expect(c.hashKeyOverrides).toEqual({ sticky: winner, 'other-key': winner });
    expect(await t.sql(`select count(*)::int as n from person_distinct_ids where distinct_id = 'race-user'`)).toEqual([{ n: 1 }]);
    expect(
      await t.sql(`select o.hash_key from flag_hash_key_overrides o join person_distinct_ids d on d.person_id = o.person_id
                        where d.distinct_id = 'race-user' and o.feature_flag_key = 'sticky'`),
    ).toEqual([{ hash_key: winner }]);
  });

  it('POST /flags keeps a continuity flag across identify, end to end over HTTP', async () => {
    const flags = async (body: Json) => {
      const res = await t.http.post('/flags?v=2').send({ token: PROJECT_TOKEN, flag_keys_to_evaluate: ['sticky', 'loose'], ...body });
      expect(res.status).toBe(200);
      return res.body.flags as Record<string, { enabled: boolean }>;
    };
    // Fresh ids that land on different sides of the sticky flag's rollout.
    const compiled = (await t.app.services.snapshots.forProject(1))!.compiled;
    const sticky = (id: string) => evaluateFlags(compiled, { distinctId: id, runtime: 'all', flagKeys: ['sticky'] })[0].enabled;
    let i = 0;
    while (sticky(`e2e-visitor-${i}`) === sticky(`e2e-member-${i}`)) i++;
    const [visitor, member] = [`e2e-visitor-${i}`, `e2e-member-${i}`];
    const expected = sticky(visitor);
    expect((await flags({ distinct_id: visitor })).sticky.enabled).toBe(expected);
    expect((await flags({ distinct_id: member, $anon_distinct_id: visitor })).sticky.enabled).toBe(expected);
    await capture([{ event: '$identify', distinct_id: member, properties: { $anon_distinct_id: visitor } }]);
    // Later requests carry only the member's id: the stored override keeps the visitor's value.
    expect((await flags({ distinct_id: member })).sticky.enabled).toBe(expected);
  });
});

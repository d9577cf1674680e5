// Stored-context lookups of concurrent /flags requests are read in one statement
// (src/persons/context-batch.ts): each request still gets its own person, cohorts, groups and
// overrides, a value the database refuses fails only its own request, and nothing is cached (a
// $set acknowledged by capture is what the next lookup reads, on this instance and on another).
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { createPeerApp, type PeerApp } from '../helpers/sdk.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { loadPersonContext, type PersonContextRequest } from '../../src/persons/service.ts';
import { contextBatcherOf, MAX_LOOKUPS_PER_STATEMENT } from '../../src/persons/context-batch.ts';
import { rowsOf } from '../../src/platform/db/sql.ts';
import { sql } from 'drizzle-orm';

let t: TestApp;
type Json = Record<string, any>;
const PERSONS = 40;

beforeAll(async () => {
  t = await createTestApp();
  const batch: Json[] = [];
  for (let i = 0; i < PERSONS; i++) {
    batch.push({ event: '$set', distinct_id: `batch-${i}`, properties: { $set: { n: i, plan: i % 2 ? 'pro' : 'free' } } });
    if (i % 5 === 0)
      batch.push({ event: '$groupidentify', distinct_id: `batch-${i}`, properties: { $group_type: 'company', $group_key: `co-${i}`, $group_set: { n: i } } });
  }
  await capture(batch);
}, 60_000);
afterAll(async () => {
  await t?.close();
});

async function capture(batch: Json[]): Promise<void> {
  const res = await t.http.post('/batch/').send({ api_key: PROJECT_TOKEN, batch: batch.map((e) => ({ uuid: crypto.randomUUID(), ...e })) });
  expect(res.status).toBe(200);
}

/** Reads of every kind (none writes an override): known and unknown ids, repeated ids, groups, continuity flags, anon ids. */
function lookups(): PersonContextRequest[] {
  const out: PersonContextRequest[] = [];
  for (let i = 0; i < PERSONS; i++) {
    out.push({ distinctId: `batch-${i}`, groups: i % 5 === 0 ? { 0: `co-${i}` } : {} });
    if (i % 7 === 0) out.push({ distinctId: `batch-${i}` });
    if (i % 9 === 0) out.push({ distinctId: `batch-${i}`, continuityFlagKeys: ['sticky'] });
    if (i % 11 === 0) out.push({ distinctId: `batch-${i}`, anonDistinctId: `anon-9`, continuityFlagKeys: [] });
  }
  out.push({ distinctId: 'never-seen' }, { distinctId: 'never-seen-either', groups: { 0: 'co-0' } });
  return out;
}

describe('batched stored-context lookups', () => {
  it('answers each of many concurrent lookups with its own person, cohorts, groups and overrides, in one statement', async () => {
    const cohort = await t.api('post', '/api/projects/1/cohorts/').send({ name: 'Thirds', is_static: true, distinct_ids: ['batch-0', 'batch-3', 'batch-6'] });
    expect(cohort.status).toBe(201);
    // Overrides are written by a lookup with an anon id and continuity flags.
    await loadPersonContext(t.ctx.db, 1, { distinctId: 'batch-9', anonDistinctId: 'anon-9', continuityFlagKeys: ['sticky'] });

    const requests = lookups();
    const alone: unknown[] = [];
    for (const r of requests) alone.push(await loadPersonContext(t.ctx.db, 1, r));

    const batcher = contextBatcherOf(t.ctx.db);
    const before = { ...batcher.counts };
    const together = await Promise.all(requests.map((r) => loadPersonContext(t.ctx.db, 1, r)));
    expect(together).toEqual(alone);
    expect(batcher.counts.statements - before.statements).toBe(1);
    expect(batcher.counts.lookups - before.lookups).toBe(requests.length);

    // Lookups that first write an override (an anon id with continuity flags) read correctly too.
    const writing = [
      { distinctId: 'batch-9', anonDistinctId: 'anon-9b', continuityFlagKeys: ['sticky'] },
      { distinctId: 'batch-12', anonDistinctId: 'anon-12', continuityFlagKeys: ['sticky'] },
      { distinctId: 'batch-13', continuityFlagKeys: ['sticky'] },
    ];
    const written = await Promise.all(writing.map((r) => loadPersonContext(t.ctx.db, 1, r)));
    expect(written.map((c) => c.hashKeyOverrides)).toEqual([{ sticky: 'anon-9' }, { sticky: 'anon-12' }, {}]);

    // Spot checks that the answers are the persons' own (not just equal to each other).
    const byId = (id: string) => together[requests.findIndex((r) => r.distinctId === id)];
    expect(byId('batch-3').personProperties).toMatchObject({ n: 3, plan: 'pro' });
    expect(byId('batch-3').staticCohortIds).toEqual(new Set([cohort.body.id]));
    expect(byId('batch-4').staticCohortIds).toEqual(new Set());
    expect(byId('batch-5').groupProperties).toEqual(new Map([[0, { n: 5 }]]));
    expect(together[requests.findIndex((r) => r.distinctId === 'batch-9' && r.continuityFlagKeys)].hashKeyOverrides).toEqual({ sticky: 'anon-9' });
    expect(byId('batch-9').hashKeyOverrides).toEqual({});
    expect(byId('never-seen').personProperties).toEqual({});
  });

  it(`splits more than ${MAX_LOOKUPS_PER_STATEMENT} concurrent lookups into statements of at most that many`, async () => {
    const ids = Array.from({ length: 600 }, (_, i) => `batch-${(i * 13) % (PERSONS + 5)}`);
    const batcher = contextBatcherOf(t.ctx.db);
    const before = batcher.counts.statements;
    const contexts = await Promise.all(ids.map((distinctId) => loadPersonContext(t.ctx.db, 1, { distinctId })));
    expect(batcher.counts.statements - before).toBe(Math.ceil(600 / MAX_LOOKUPS_PER_STATEMENT));
    contexts.forEach((c, i) => {
      const n = Number(ids[i].slice('batch-'.length));
      expect(c.personProperties).toEqual(n < PERSONS ? expect.objectContaining({ n }) : {});
    });
  });

  it('fails only the lookup whose value the database refuses; the others in its statement are answered', async () => {
    const requests = [{ distinctId: 'batch-1' }, { distinctId: 'nul\u0000id' }, { distinctId: 'batch-2' }];
    const settled = await Promise.allSettled(requests.map((r) => loadPersonContext(t.ctx.db, 1, r)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[0] as PromiseFulfilledResult<Json>).value.personProperties).toMatchObject({ n: 1 });
    expect((settled[2] as PromiseFulfilledResult<Json>).value.personProperties).toMatchObject({ n: 2 });
  });

  it.runIf(Boolean(process.env.DATABASE_URL))('runs on connections without JIT (compiling the statement cost seconds per lookup)', async () => {
    const [row] = rowsOf<{ jit: string }>(await t.ctx.db.execute(sql`show jit`));
    expect(row.jit).toBe('off');
  });

  it('reads what capture acknowledged, with no cache in between: /flags changes with each $set', async () => {
    const flag = await t.api('post', '/api/projects/1/feature_flags/').send({
      key: 'batch-pro',
      filters: { groups: [{ properties: [{ key: 'plan', value: 'pro', type: 'person' }], rollout_percentage: 100 }] },
    });
    expect(flag.status).toBe(201);
    const enabled = async (baseUrl: string) => {
      const res = await rawRequest(
        baseUrl,
        'POST',
        '/flags/?v=2',
        { 'content-type': 'application/json' },
        JSON.stringify({ token: PROJECT_TOKEN, distinct_id: 'batch-2' }),
      );
      return JSON.parse(res.body.toString()).flags['batch-pro'].enabled as boolean;
    };
    // Another instance on the same PostgreSQL database reads the same rows.
    let peer: PeerApp | undefined;
    if (process.env.DATABASE_URL) peer = await createPeerApp(t);
    try {
      for (const plan of ['pro', 'free', 'pro', 'free']) {
        await capture([{ event: '$set', distinct_id: 'batch-2', properties: { $set: { plan } } }]);
        expect(await enabled(t.baseUrl)).toBe(plan === 'pro');
        if (peer) expect(await enabled(peer.baseUrl)).toBe(plan === 'pro');
      }
    } finally {
      await peer?.close();
    }
  });
});

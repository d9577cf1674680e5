// flag_keys_to_evaluate: the cost follows what is asked. Only the requested flags and their
// dependencies are evaluated and answered, and stored data (persons, static cohorts, continuity
// overrides) is read only when one of those flags needs it, whatever the rest of the project reads.
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { createCohort, createFlag, dependsOn, inCohort, person } from '../helpers/sdk.ts';
import { contextBatcherOf } from '../../src/persons/context-batch.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  const base = await createFlag(t, { key: 'req-base', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
  await createFlag(t, { key: 'req-dependent', filters: { groups: [{ properties: [dependsOn(base.id)], rollout_percentage: 100 }] } });
  await createFlag(t, { key: 'req-plain', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
  await createFlag(t, { key: 'req-email', filters: { groups: [{ properties: [person('email', '@corp.example', 'icontains')], rollout_percentage: 100 }] } });
  const members = await createCohort(t, { name: 'Req static', is_static: true, distinct_ids: ['member-1'] });
  await createFlag(t, { key: 'req-static', filters: { groups: [{ properties: [inCohort(members.id)], rollout_percentage: 100 }] } });
  await createFlag(t, { key: 'req-continuity', ensure_experience_continuity: true, filters: { groups: [{ properties: [], rollout_percentage: 50 }] } });
});
afterAll(async () => {
  await t?.close();
});

/**
 * POST /flags?v=2 through the app, counting the database statements this request makes: the
 * handle's query methods, and the stored-context lookups, which go to the database in batches
 * (src/persons/context-batch.ts) as prepared statements.
 */
async function flags(body: Record<string, unknown>): Promise<{ keys: string[]; statements: number; body: Record<string, any> }> {
  const db = t.ctx.db as unknown as Record<string, (...args: unknown[]) => unknown>;
  const request = new AsyncLocalStorage<true>();
  let statements = 0;
  const lookupsBefore = contextBatcherOf(t.ctx.db).counts.lookups;
  const originals = Object.fromEntries(['select', 'selectDistinct', 'execute', 'insert', 'transaction'].map((m) => [m, db[m]]));
  for (const m of Object.keys(originals)) {
    db[m] = (...args: unknown[]) => {
      if (request.getStore()) statements++;
      return originals[m].apply(db, args);
    };
  }
  try {
    const res = await request.run(
      true,
      async () => await t.app.inject({ method: 'POST', url: '/flags?v=2', payload: { api_key: PROJECT_TOKEN, distinct_id: 'member-1', ...body } }),
    );
    expect(res.statusCode).toBe(200);
    const json = res.json();
    statements += contextBatcherOf(t.ctx.db).counts.lookups - lookupsBefore;
    return { keys: Object.keys(json.flags).sort(), statements, body: json };
  } finally {
    Object.assign(db, originals);
  }
}

describe('flag_keys_to_evaluate', () => {
  it('answers the requested flags and their dependencies only', async () => {
    expect((await flags({ flag_keys_to_evaluate: ['req-dependent'] })).keys).toEqual(['req-base', 'req-dependent']);
    expect((await flags({ flag_keys_to_evaluate: ['req-plain', 'no-such-flag'] })).keys).toEqual(['req-plain']);
  });

  it('reads nothing stored when the requested flags need nothing stored, though others in the project do', async () => {
    const all = await flags({});
    expect(all.statements).toBeGreaterThan(0);
    expect(all.body.flags['req-static'].enabled).toBe(true);
    const plain = await flags({ flag_keys_to_evaluate: ['req-plain', 'req-dependent'] });
    expect(plain.statements).toBe(0);
    expect(plain.body.flags['req-plain'].enabled).toBe(true);
    // A property the request sends needs no lookup either.
    expect((await flags({ flag_keys_to_evaluate: ['req-email'], person_properties: { email: 'a@corp.example' } })).statements).toBe(0);
  });

  it('reads stored data when a requested flag needs it: a static cohort, a property not sent, continuity', async () => {
    const stat = await flags({ flag_keys_to_evaluate: ['req-static'] });
    expect(stat.statements).toBeGreaterThan(0);
    expect(stat.body.flags['req-static'].enabled).toBe(true);
    expect((await flags({ flag_keys_to_evaluate: ['req-email'] })).statements).toBeGreaterThan(0);
    expect((await flags({ flag_keys_to_evaluate: ['req-continuity'] })).statements).toBeGreaterThan(0);
  });
});

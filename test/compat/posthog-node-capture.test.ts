// posthog-node's events reach flaghost's persons and usage: identify with an email (capture), a
// flag targeting that email, and $feature_flag_called events (gzip /batch/) counted as usage and
// last_called_at, through a proxy that records what the SDK sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createFlag, eventually, person, remoteClient, startRecordingProxy, type RecordingProxy } from '../helpers/sdk.ts';
import { loadPersonContext } from '../../src/persons/service.ts';
import { evaluateFlags } from '../../src/evaluation/index.ts';

let t: TestApp;
let proxy: RecordingProxy;

beforeAll(async () => {
  t = await createTestApp();
  proxy = await startRecordingProxy(t.baseUrl);
});
afterAll(async () => {
  await proxy?.close();
  await t?.close();
});

// identify first, then the flags that read what it stored: an order the tests keep when CI shuffles.
describe('posthog-node identify', { shuffle: false }, () => {
  it('identify with an email stores the person; a flag targeting the email matches it from stored properties', async () => {
    await createFlag(t, { key: 'email-flag', filters: { groups: [{ properties: [person('email', 'node@example.com')], rollout_percentage: 100 }] } });
    const { client, errors } = remoteClient({ baseUrl: proxy.url });
    client.identify({ distinctId: 'node-user', properties: { email: 'node@example.com', plan: 'pro' } });
    await client.shutdown();
    expect(errors).toEqual([]);
    const batch = proxy.exchanges.find((x) => x.url.startsWith('/batch'));
    expect(batch).toMatchObject({ method: 'POST', status: 200, requestHeaders: { 'content-encoding': 'gzip' } });

    const persons = await t.api('get', '/api/projects/1/persons/?distinct_id=node-user');
    expect(persons.body.results).toHaveLength(1);
    expect(persons.body.results[0]).toMatchObject({ name: 'node@example.com', properties: { email: 'node@example.com', plan: 'pro' } });

    // What /flags evaluates for this distinct id once it reads the stored person
    // (docs/compatibility.md#sdk-3.1).
    const snapshot = (await t.app.services.snapshots.forProject(1))!;
    const stored = await loadPersonContext(t.ctx.db, 1, { distinctId: 'node-user' });
    const [result] = evaluateFlags(snapshot.compiled, {
      distinctId: 'node-user',
      personProperties: { ...stored.personProperties, distinct_id: 'node-user' },
      runtime: 'all',
      flagKeys: ['email-flag'],
    });
    expect(result).toMatchObject({ key: 'email-flag', enabled: true, reason: { code: 'condition_match' } });
  });

  it('the flag targeting the email is true when evaluated remotely (POST /flags with stored persons)', async () => {
    await createFlag(t, { key: 'remote-email-flag', filters: { groups: [{ properties: [person('email', 'remote@example.com')], rollout_percentage: 100 }] } });
    // The person, stored through capture (acknowledged once committed: shutdown waits for it).
    const writer = remoteClient(t);
    writer.client.identify({ distinctId: 'remote-user', properties: { email: 'remote@example.com' } });
    await writer.client.shutdown();
    expect(writer.errors).toEqual([]);
    const { client } = remoteClient(t);
    expect(await client.getFeatureFlag('remote-email-flag', 'remote-user')).toBe(true);
    expect(await client.getFeatureFlag('remote-email-flag', 'someone-else')).toBe(false);
    await client.shutdown();
  });
});

describe('posthog-node $feature_flag_called', () => {
  it('flag reads send $feature_flag_called (gzip /batch/), counted as usage per value and setting last_called_at', async () => {
    const flag = await createFlag(t, { key: 'called-flag', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    const variant = await createFlag(t, {
      key: 'called-variant',
      filters: { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: { variants: [{ key: 'a', rollout_percentage: 100 }] } },
    });
    expect(flag.last_called_at).toBeNull();
    const before = proxy.exchanges.length;
    const { client, errors } = remoteClient({ baseUrl: proxy.url }, { sendFeatureFlagEvent: true, flushAt: 20 });
    for (const id of ['n1', 'n2', 'n3']) {
      expect(await client.getFeatureFlag('called-flag', id)).toBe(true);
      expect(await client.getFeatureFlag('called-variant', id)).toBe('a');
    }
    // The SDK reports each (distinct id, flag, value) once: a second read sends nothing new.
    expect(await client.getFeatureFlag('called-flag', 'n1')).toBe(true);
    await client.shutdown();
    expect(errors).toEqual([]);
    const batches = proxy.exchanges.slice(before).filter((x) => x.url.startsWith('/batch'));
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) expect(b).toMatchObject({ status: 200, requestHeaders: { 'content-encoding': 'gzip' } });

    const usage = await t.sql(`select flag_key, value, count::int as count from flag_usage_daily where flag_key like 'called-%' order by flag_key`);
    expect(usage).toEqual([
      { flag_key: 'called-flag', value: 'true', count: 3 },
      { flag_key: 'called-variant', value: 'a', count: 3 },
    ]);
    const after = await eventually(async () => (await t.api('get', `/api/projects/1/feature_flags/${flag.id}/`)).body);
    expect(after.last_called_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Date.now() - Date.parse(after.last_called_at)).toBeLessThan(60_000);
    expect((await t.api('get', `/api/projects/1/feature_flags/${variant.id}/status`)).body).toEqual({ status: 'active', reason: 'Flag was called today' });
    const dashboard = await t.api('get', `/api/projects/1/dashboards/${flag.usage_dashboard}/`);
    expect(dashboard.body.tiles[1].insight.result[0].count).toBe(3);
  });
});

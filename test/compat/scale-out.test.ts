// Two (three) flaghost instances on one PostgreSQL database, as a scaled-out deployment runs them:
// a change committed through instance A reaches B's /flags and definitions within a second through
// LISTEN/NOTIFY, and still arrives after B's listener connection is killed (reconnect, periodic check).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { createFlag, createPeerApp, patchFlag, type Json, type PeerApp } from '../helpers/sdk.ts';

const POSTGRES = Boolean(process.env.DATABASE_URL);

let t: TestApp;
/** Notifications only: its periodic check is an hour away. */
let b: PeerApp;
/** A short periodic check (200 ms) to repair missed notifications. */
let c: PeerApp;
const listeners: Record<'a' | 'b' | 'c', number> = { a: 0, b: 0, c: 0 };

const listenerPids = async () =>
  (await t.sql<{ pid: number }>("select pid from pg_stat_activity where datname = current_database() and query ilike 'listen%'")).map((r) => Number(r.pid));

async function newListener(before: number[]): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const fresh = (await listenerPids()).filter((pid) => !before.includes(pid));
    if (fresh.length === 1) return fresh[0];
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no new listener connection');
}

async function flagValue(baseUrl: string, key: string, distinctId = 'scale-user'): Promise<boolean | string | undefined> {
  const res = await rawRequest(baseUrl, 'POST', '/flags/?v=2', { 'content-type': 'application/json' }, JSON.stringify({ token: PROJECT_TOKEN, distinct_id: distinctId, flag_keys_to_evaluate: [key] }));
  const flag = JSON.parse(res.body.toString()).flags[key] as Json | undefined;
  return flag === undefined ? undefined : flag.enabled ? (flag.variant ?? true) : false;
}

async function definitionsFlag(baseUrl: string, key: string): Promise<Json | undefined> {
  const res = await rawRequest(baseUrl, 'GET', `/flags/definitions?token=${PROJECT_TOKEN}&send_cohorts`, { authorization: `Bearer ${ADMIN_KEY}` });
  return (JSON.parse(res.body.toString()).flags as Json[]).find((f) => f.key === key);
}

/** Milliseconds until `check` holds, polling every 10 ms; Infinity past `limitMs`. */
async function timeUntil(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= limitMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 10));
  }
  return Infinity;
}

beforeAll(async () => {
  if (!POSTGRES) return;
  t = await createTestApp({ env: { FLAGHOST_SNAPSHOT_CHECK_INTERVAL_MS: '3600000' } });
  listeners.a = await newListener([]);
  b = await createPeerApp(t, { FLAGHOST_SNAPSHOT_CHECK_INTERVAL_MS: '3600000' });
  listeners.b = await newListener([listeners.a]);
  c = await createPeerApp(t, { FLAGHOST_SNAPSHOT_CHECK_INTERVAL_MS: '200' });
  listeners.c = await newListener([listeners.a, listeners.b]);
});

afterAll(async () => {
  await c?.close();
  await b?.close();
  await t?.close();
});

describe.skipIf(!POSTGRES)('scale-out on PostgreSQL', () => {
  it('a flag created and edited through A is served by B within a second (LISTEN/NOTIFY)', async () => {
    // Warm B's snapshot so that it has something to go stale.
    expect(await flagValue(b.baseUrl, 'scale-flag')).toBeUndefined();
    const etag = (await rawRequest(b.baseUrl, 'GET', `/flags/definitions?token=${PROJECT_TOKEN}`, { authorization: `Bearer ${ADMIN_KEY}` })).headers.etag as string;

    const flag = await createFlag(t, { key: 'scale-flag', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'scale-flag')) === true, 1000)).toBeLessThanOrEqual(1000);
    expect(await timeUntil(async () => (await definitionsFlag(b.baseUrl, 'scale-flag')) !== undefined, 1000)).toBeLessThanOrEqual(1000);
    const changed = await rawRequest(b.baseUrl, 'GET', `/flags/definitions?token=${PROJECT_TOKEN}`, { authorization: `Bearer ${ADMIN_KEY}`, 'if-none-match': etag });
    expect(changed.status).toBe(200);

    await patchFlag(t, flag.id, { filters: { groups: [{ properties: [], rollout_percentage: 0 }] } });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'scale-flag')) === false, 1000)).toBeLessThanOrEqual(1000);
    expect(await timeUntil(async () => (await definitionsFlag(b.baseUrl, 'scale-flag'))?.filters.groups[0].rollout_percentage === 0, 1000)).toBeLessThanOrEqual(1000);

    await patchFlag(t, flag.id, { active: false });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'scale-flag')) === undefined, 1000)).toBeLessThanOrEqual(1000);
    expect(await timeUntil(async () => (await definitionsFlag(b.baseUrl, 'scale-flag'))?.active === false, 1000)).toBeLessThanOrEqual(1000);
  });

  it('changes flow both ways, and every instance sees the same definitions', async () => {
    const res = await fetch(`${b.baseUrl}/api/projects/1/feature_flags/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'made-on-b', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }),
    });
    expect(res.status).toBe(201);
    for (const app of [t, c]) expect(await timeUntil(async () => (await flagValue(app.baseUrl, 'made-on-b')) === true, 1000)).toBeLessThanOrEqual(1000);
    const etags = await Promise.all(
      [t, b, c].map(async (app) => (await rawRequest(app.baseUrl, 'GET', `/flags/definitions?token=${PROJECT_TOKEN}`, { authorization: `Bearer ${ADMIN_KEY}` })).headers.etag),
    );
    expect(new Set(etags).size).toBe(1);
  });

  it('after B loses its listener connection, a change still reaches B (reconnect re-checks revisions)', async () => {
    await createFlag(t, { key: 'while-b-deaf', filters: { groups: [{ properties: [], rollout_percentage: 0 }] } });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'while-b-deaf')) === false, 1000)).toBeLessThanOrEqual(1000);
    const [killed] = await t.sql<{ ok: boolean }>('select pg_terminate_backend($1) as ok', [listeners.b]);
    expect(killed.ok).toBe(true);
    const flag = (await t.api('get', '/api/projects/1/feature_flags/?search=while-b-deaf')).body.results[0] as Json;
    await patchFlag(t, flag.id, { filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'while-b-deaf')) === true, 5000)).toBeLessThan(5000);
    // B listens again: the next change arrives by notification.
    listeners.b = await newListener([listeners.a, listeners.c]);
    await patchFlag(t, flag.id, { filters: { groups: [{ properties: [], rollout_percentage: 0 }] } });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'while-b-deaf')) === false, 1000)).toBeLessThanOrEqual(1000);
  });

  it('after C loses its listener connection, its periodic check picks a change up before the listener is back', async () => {
    await createFlag(t, { key: 'while-c-deaf', filters: { groups: [{ properties: [], rollout_percentage: 0 }] } });
    expect(await timeUntil(async () => (await flagValue(c.baseUrl, 'while-c-deaf')) === false, 1000)).toBeLessThanOrEqual(1000);
    const flag = (await t.api('get', '/api/projects/1/feature_flags/?search=while-c-deaf')).body.results[0] as Json;
    const [killed] = await t.sql<{ ok: boolean }>('select pg_terminate_backend($1) as ok', [listeners.c]);
    expect(killed.ok).toBe(true);
    await patchFlag(t, flag.id, { filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    // The listener reconnects one second after the failure; the 200 ms check comes first.
    expect(await timeUntil(async () => (await flagValue(c.baseUrl, 'while-c-deaf')) === true, 3000)).toBeLessThan(900);
    expect(await timeUntil(async () => (await definitionsFlag(c.baseUrl, 'while-c-deaf'))?.filters.groups[0].rollout_percentage === 100, 1000)).toBeLessThan(1000);
  });
});

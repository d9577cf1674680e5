// Two (three) flaghost instances on one PostgreSQL database, as a scaled-out deployment runs them:
// a change committed through instance A reaches B's /flags and definitions through LISTEN/NOTIFY
// (tens of milliseconds on an idle machine), and still arrives after B's listener connection is
// killed (reconnect, periodic check).
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
/**
 * How long a notified change may take to show. B's and A's periodic checks are an hour away, so a
 * change that arrives at all came by notification; the bound leaves a loaded machine (three
 * instances and PostgreSQL on two cores) time to rebuild and answer. The times are printed.
 */
const NOTIFIED_MS = 5_000;
const seen: number[] = [];

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
  const res = await rawRequest(
    baseUrl,
    'POST',
    '/flags/?v=2',
    { 'content-type': 'application/json' },
    JSON.stringify({ token: PROJECT_TOKEN, distinct_id: distinctId, flag_keys_to_evaluate: [key] }),
  );
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
    if (await check()) {
      seen.push(Date.now() - started);
      return Date.now() - started;
    }
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
  if (seen.length) console.log('notified changes seen after, ms:', seen.join(', '));
  await c?.close();
  await b?.close();
  await t?.close();
});

describe.skipIf(!POSTGRES)('scale-out on PostgreSQL', () => {
  it('a flag created and edited through A is served by B without waiting for its periodic check (LISTEN/NOTIFY)', async () => {
    // Warm B's snapshot so that it has something to go stale.
    expect(await flagValue(b.baseUrl, 'scale-flag')).toBeUndefined();
    const etag = (await rawRequest(b.baseUrl, 'GET', `/flags/definitions?token=${PROJECT_TOKEN}`, { authorization: `Bearer ${ADMIN_KEY}` })).headers
      .etag as string;

    const flag = await createFlag(t, { key: 'scale-flag', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'scale-flag')) === true, NOTIFIED_MS)).toBeLessThanOrEqual(NOTIFIED_MS);
    expect(await timeUntil(async () => (await definitionsFlag(b.baseUrl, 'scale-flag')) !== undefined, NOTIFIED_MS)).toBeLessThanOrEqual(NOTIFIED_MS);
    const changed = await rawRequest(b.baseUrl, 'GET', `/flags/definitions?token=${PROJECT_TOKEN}`, {
      authorization: `Bearer ${ADMIN_KEY}`,
      'if-none-match': etag,
    });
    expect(changed.status).toBe(200);

    await patchFlag(t, flag.id, { filters: { groups: [{ properties: [], rollout_percentage: 0 }] } });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'scale-flag')) === false, NOTIFIED_MS)).toBeLessThanOrEqual(NOTIFIED_MS);
    expect(
      await timeUntil(async () => (await definitionsFlag(b.baseUrl, 'scale-flag'))?.filters.groups[0].rollout_percentage === 0, NOTIFIED_MS),
    ).toBeLessThanOrEqual(NOTIFIED_MS);

    await patchFlag(t, flag.id, { active: false });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'scale-flag')) === undefined, NOTIFIED_MS)).toBeLessThanOrEqual(NOTIFIED_MS);
    expect(await timeUntil(async () => (await definitionsFlag(b.baseUrl, 'scale-flag'))?.active === false, NOTIFIED_MS)).toBeLessThanOrEqual(NOTIFIED_MS);
  });

  it('changes flow both ways, and every instance sees the same definitions', async () => {
    const res = await fetch(`${b.baseUrl}/api/projects/1/feature_flags/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'made-on-b', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }),
    });
    expect(res.status).toBe(201);
    for (const app of [t, c])
      expect(await timeUntil(async () => (await flagValue(app.baseUrl, 'made-on-b')) === true, NOTIFIED_MS)).toBeLessThanOrEqual(NOTIFIED_MS);
    const etags = await Promise.all(
      [t, b, c].map(
        async (app) =>
          (await rawRequest(app.baseUrl, 'GET', `/flags/definitions?token=${PROJECT_TOKEN}`, { authorization: `Bearer ${ADMIN_KEY}` })).headers.etag,
      ),
    );
    expect(new Set(etags).size).toBe(1);
  });

  it('after B loses its listener connection, a change still reaches B (reconnect re-checks revisions)', async () => {
    await createFlag(t, { key: 'while-b-deaf', filters: { groups: [{ properties: [], rollout_percentage: 0 }] } });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'while-b-deaf')) === false, NOTIFIED_MS)).toBeLessThanOrEqual(NOTIFIED_MS);
    const [killed] = await t.sql<{ ok: boolean }>('select pg_terminate_backend($1) as ok', [listeners.b]);
    expect(killed.ok).toBe(true);
    const flag = (await t.api('get', '/api/projects/1/feature_flags/?search=while-b-deaf')).body.results[0] as Json;
    await patchFlag(t, flag.id, { filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'while-b-deaf')) === true, 5000)).toBeLessThan(5000);
    // B listens again: the next change arrives by notification.
    listeners.b = await newListener([listeners.a, listeners.c]);
    await patchFlag(t, flag.id, { filters: { groups: [{ properties: [], rollout_percentage: 0 }] } });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'while-b-deaf')) === false, NOTIFIED_MS)).toBeLessThanOrEqual(NOTIFIED_MS);
  });

  it('a change whose notification never came reaches C through its periodic check (B, an hour from its check, keeps the old answer)', async () => {
    // A lost notification (a listener down at that moment), made certain: the revision moves without a NOTIFY,
    // so no listener and no reconnect can report it, and only a periodic check finds it. (Which of
    // reconnect and periodic check comes first after a killed listener is a race the clock decides.)
    const flag = await createFlag(t, { key: 'missed-notification', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    for (const app of [b, c])
      expect(await timeUntil(async () => (await flagValue(app.baseUrl, 'missed-notification')) === true, NOTIFIED_MS)).toBeLessThanOrEqual(NOTIFIED_MS);
    await t.sql('update feature_flags set active = false where id = $1', [flag.id]);
    await t.sql('update projects set revision = revision + 1 where id = 1');
    expect(await timeUntil(async () => (await flagValue(c.baseUrl, 'missed-notification')) === undefined, NOTIFIED_MS)).toBeLessThanOrEqual(NOTIFIED_MS);
    expect(await timeUntil(async () => (await definitionsFlag(c.baseUrl, 'missed-notification'))?.active === false, NOTIFIED_MS)).toBeLessThanOrEqual(
      NOTIFIED_MS,
    );
    expect(await flagValue(b.baseUrl, 'missed-notification')).toBe(true);
    // The next notified change brings B up to date too: it rebuilds from the database, not from the notification.
    await patchFlag(t, flag.id, { name: 'noticed' });
    expect(await timeUntil(async () => (await flagValue(b.baseUrl, 'missed-notification')) === undefined, NOTIFIED_MS)).toBeLessThanOrEqual(NOTIFIED_MS);
  });
});

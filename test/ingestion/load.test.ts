// 100,000 events from several parallel senders, with retried batches and repeated events inside
// batches: every event is counted exactly once (by uuid), persons and unique users add up.
import crypto from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';

let t: TestApp;
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  agent.destroy();
  await t?.close();
});

function postGzip(body: Buffer): Promise<number> {
  const url = new URL(t.baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: '/batch/',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const TOTAL = 100_000;
const PER_REQUEST = 500;
const SENDERS = 8;
const USERS = 4000;
const FLAGS = 10;
const VALUES = ['control', 'test', 'true'];

it('ingests 100,000 events from parallel senders with duplicates: none lost, none counted twice', async () => {
  const expected = new Map<string, number>();
  const usersOfFlag1 = new Set<string>();
  const bodies: Buffer[] = [];
  for (let r = 0; r < TOTAL / PER_REQUEST; r++) {
    const batch: object[] = [];
    for (let i = 0; i < PER_REQUEST; i++) {
      const n = r * PER_REQUEST + i;
      const user = `load-user-${(n * 7919) % USERS}`;
      if (n % 50 === 0) {
        batch.push({ event: '$set', distinct_id: user, uuid: crypto.randomUUID(), properties: { $set: { n, plan: n % 2 ? 'pro' : 'free' } } });
        continue;
      }
      const flag = `load-flag-${n % FLAGS}`;
      const value = VALUES[n % VALUES.length];
      const event = {
        event: '$feature_flag_called',
        distinct_id: user,
        uuid: crypto.randomUUID(),
        properties: { $feature_flag: flag, $feature_flag_response: value },
      };
      batch.push(event);
      // Some events repeat inside their batch (SDK queue glitches).
      if (n % 97 === 0) batch.push({ ...event });
      expected.set(`${flag}|${value}`, (expected.get(`${flag}|${value}`) ?? 0) + 1);
      if (flag === 'load-flag-1') usersOfFlag1.add(user);
    }
    bodies.push(zlib.gzipSync(JSON.stringify({ api_key: PROJECT_TOKEN, batch })));
  }
  // One request in ten is sent again (a retry after a lost response).
  const queue = [...bodies, ...bodies.filter((_, i) => i % 10 === 3)];
  const started = performance.now();
  const statuses: number[] = [];
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      for (let body = queue.shift(); body; body = queue.shift()) statuses.push(await postGzip(body));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  expect(statuses.every((s) => s === 200)).toBe(true);

  const rows = await t.sql<{ flag_key: string; value: string; n: number }>(
    `select flag_key, value, sum(count)::int as n from flag_usage_daily where flag_key like 'load-flag-%' group by flag_key, value`,
  );
  expect(new Map(rows.map((r) => [`${r.flag_key}|${r.value}`, r.n]))).toEqual(expected);
  const [totals] = await t.sql<{ calls: number; persons: number; users: number }>(`
    select (select sum(count)::int from flag_usage_daily where flag_key like 'load-flag-%') as calls,
           (select count(*)::int from persons) as persons,
           (select count(distinct person_key)::int from flag_usage_persons where flag_key = 'load-flag-1') as users`);
  expect(totals.calls).toBe(TOTAL - TOTAL / 50);
  expect(totals.persons).toBe(USERS);
  expect(totals.users).toBe(usersOfFlag1.size);
  const stats = t.app.services.ingestion.stats(1);
  expect(stats.ingested).toBe(TOTAL);
  expect(stats.malformed).toBe(0);
  console.log(
    `ingested ${TOTAL} events (+${stats.duplicates} duplicates) in ${seconds.toFixed(1)} s: ${Math.round(TOTAL / seconds)} events/s on ${t.database.kind}`,
  );
}, 180_000);

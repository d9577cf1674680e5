// `npm run bench:durability`: what FLAGHOST_EMBEDDED_FSYNC costs the embedded database's write
// path. For each setting, on a temporary data directory: flag-create latency (sequential POSTs
// through the management API) and capture ingestion throughput (/batch, parallel senders), in
// alternating rounds so that a busy machine hurts both settings alike. See bench/README.md.
//
// Environment: DURABILITY_ROUNDS (default 3), DURABILITY_FLAGS (creates per round, default 200),
// DURABILITY_EVENTS (events per round, default 50,000).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/platform/config.ts';
import { MIGRATIONS_DIR, openDatabase } from '../src/platform/db/index.ts';
import { bootstrap } from '../src/access/organizations/admin.ts';

const ROUNDS = Number(process.env.DURABILITY_ROUNDS ?? 3);
const FLAGS = Number(process.env.DURABILITY_FLAGS ?? 200);
const EVENTS = Number(process.env.DURABILITY_EVENTS ?? 50_000);
const PER_REQUEST = 500;
const SENDERS = 8;
const KEY = 'phx_durabilitybench00000000000000000000';
const TOKEN = 'phc_durabilitybench00000000000000000000';

interface Result {
  createP50: number;
  createP99: number;
  eventsPerS: number;
  /** fsync(2) calls and the time spent in them, per flag create and per 1,000 ingested events. */
  createFsyncs: number;
  createFsyncMs: number;
  eventFsyncs: number;
  eventFsyncMs: number;
}

// Every flush the embedded database makes goes through fs.fsyncSync: count and time them. On a
// busy machine the latencies above move with the CPU load; the time spent waiting for the disk
// is what durability itself costs.
const flushes = { count: 0, ms: 0 };
const realFsync = fs.fsyncSync;
fs.fsyncSync = (fd: number) => {
  const started = performance.now();
  realFsync(fd);
  flushes.ms += performance.now() - started;
  flushes.count++;
};
const flushesSince = (from: { count: number; ms: number }) => ({ count: flushes.count - from.count, ms: flushes.ms - from.ms });

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-durability-bench-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

/** A migrated data directory dump, so each round skips initdb. */
async function template(): Promise<Buffer> {
  const client = new PGlite();
  await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
  const dump = await client.dumpDataDir('none');
  await client.close();
  return Buffer.from(await dump.arrayBuffer());
}

function send(agent: http.Agent, port: number, method: string, url: string, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: url, method, agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function round(fsync: 'on' | 'off', dump: Buffer, n: number): Promise<Result> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    FLAGHOST_DATA_DIR: path.join(root, `${fsync}-${n}`),
    FLAGHOST_EMBEDDED_FSYNC: fsync,
    FLAGHOST_SECRET_KEY: 'durability-bench-secret-0123456789',
    FLAGHOST_RATE_LIMIT_BURST_PER_MINUTE: '0',
    FLAGHOST_RATE_LIMIT_SUSTAINED_PER_HOUR: '0',
  });
  const database = await openDatabase(config.database, { pgliteLoadDataDir: new Blob([dump]) });
  await database.migrate();
  const app = await buildApp({ config, database });
  await bootstrap(app.services.ctx, { personalApiKey: KEY, projectToken: TOKEN });
  await app.services.start();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: SENDERS });
  try {
    const latencies: number[] = [];
    const beforeCreates = { ...flushes };
    for (let i = 0; i < FLAGS; i++) {
      const body = Buffer.from(JSON.stringify({ key: `bench-${i}`, filters: { groups: [{ properties: [], rollout_percentage: 50 }] } }));
      const started = performance.now();
      const status = await send(
        agent,
        port,
        'POST',
        '/api/projects/1/feature_flags/',
        { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body,
      );
      latencies.push(performance.now() - started);
      if (status !== 201) throw new Error(`flag create answered ${status}`);
    }
    latencies.sort((a, b) => a - b);
    const createFlushes = flushesSince(beforeCreates);

    const bodies: Buffer[] = [];
    for (let r = 0; r < EVENTS / PER_REQUEST; r++) {
      const batch = Array.from({ length: PER_REQUEST }, (_, i) => ({
        event: '$feature_flag_called',
        distinct_id: `user-${(r * PER_REQUEST + i) % 5000}`,
        uuid: crypto.randomUUID(),
        properties: { $feature_flag: `bench-${i % 20}`, $feature_flag_response: i % 2 === 0 },
      }));
      bodies.push(zlib.gzipSync(JSON.stringify({ api_key: TOKEN, batch })));
    }
    const started = performance.now();
    const beforeEvents = { ...flushes };
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        for (let body = bodies.shift(); body; body = bodies.shift()) {
          const status = await send(agent, port, 'POST', '/batch/', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body);
          if (status !== 200) throw new Error(`/batch answered ${status}`);
        }
      }),
    );
    const eventsPerS = EVENTS / ((performance.now() - started) / 1000);
    const eventFlushes = flushesSince(beforeEvents);
    return {
      createP50: percentile(latencies, 0.5),
      createP99: percentile(latencies, 0.99),
      eventsPerS,
      createFsyncs: createFlushes.count / FLAGS,
      createFsyncMs: createFlushes.ms / FLAGS,
      eventFsyncs: (eventFlushes.count / EVENTS) * 1000,
      eventFsyncMs: (eventFlushes.ms / EVENTS) * 1000,
    };
  } finally {
    agent.destroy();
    await app.close();
    await database.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const dump = await template();
const results: Record<'on' | 'off', Result[]> = { on: [], off: [] };
for (let n = 0; n < ROUNDS; n++) {
  for (const fsync of n % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
    const r = await round(fsync, dump, n);
    results[fsync].push(r);
    console.log(
      `round ${n + 1} fsync=${fsync}: create p50 ${r.createP50.toFixed(1)} ms, p99 ${r.createP99.toFixed(1)} ms, ` +
        `${r.createFsyncs.toFixed(1)} fsyncs (${r.createFsyncMs.toFixed(2)} ms) each; ingestion ${Math.round(r.eventsPerS)} events/s, ` +
        `${r.eventFsyncs.toFixed(1)} fsyncs (${r.eventFsyncMs.toFixed(2)} ms) per 1,000 events`,
    );
  }
}
console.log(`\n| FLAGHOST_EMBEDDED_FSYNC | flag create p50 / p99 | waiting for fsync per create | ingestion | waiting for fsync per 1,000 events |`);
console.log(`| --- | --- | --- | --- | --- |`);
for (const fsync of ['off', 'on'] as const) {
  const rs = results[fsync];
  const m = (f: (r: Result) => number) => median(rs.map(f));
  console.log(
    `| \`${fsync}\` | ${m((r) => r.createP50).toFixed(1)} / ${m((r) => r.createP99).toFixed(1)} ms | ${m((r) => r.createFsyncMs).toFixed(2)} ms (${m((r) => r.createFsyncs).toFixed(1)} fsyncs) | ` +
      `${Math.round(m((r) => r.eventsPerS)).toLocaleString('en')} events/s | ${m((r) => r.eventFsyncMs).toFixed(2)} ms (${m((r) => r.eventFsyncs).toFixed(1)} fsyncs) |`,
  );
}

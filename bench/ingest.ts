// `npm run bench:ingest`: capture ingestion at volume. INGEST_EVENTS events (default 300,000) of
// $feature_flag_called with a $set every 50th, as test/ingestion/load.test.ts sends its 100,000:
// gzipped /batch/ requests of 500 from parallel senders, some events repeated inside their batch and
// one request in ten sent twice (a retry after a lost answer). Prints the sustained events/s, the
// CPU per event of flaghost (and of PostgreSQL's backends), then counts what the database holds:
// every event exactly once. See bench/README.md.
//
// Environment: INGEST_EVENTS, INGEST_USERS (distinct ids, default 50,000), INGEST_SENDERS (8),
// BENCH_PROFILE=1, BENCH_PROFILE_TOP, BENCH_LOG_LEVEL, BENCH_SERVER, DATABASE_URL.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';
import pg from 'pg';
import { api, createProjectWithCli, prepareEnvironment, serverModeFromEnv, startServer, stopServer, type Environment } from './lib/flaghost.ts';
import { cleanupAll, installExitHandlers, interrupted } from './lib/processes.ts';
import { readProfile, snapshotSources, SourceMapper, summarize, summarizeByArea } from './lib/profile.ts';
import { cpuSince, databaseCpu, median, percentile, sendAll } from './lib/capture.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const num = (name: string, def: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isFinite(n) || n < 1) throw new Error(`${name} must be a positive number, got ${raw}`);
  return Math.round(n);
};
const PER_REQUEST = 500;
const TOTAL = Math.ceil(num('INGEST_EVENTS', 300_000) / PER_REQUEST) * PER_REQUEST;
const USERS = num('INGEST_USERS', 50_000);
const SENDERS = num('INGEST_SENDERS', 8);
const FLAGS = 10;
const VALUES = ['control', 'test', 'true'];
const TARGET = 30_000;
const profiling = process.env.BENCH_PROFILE === '1';
const log = (line = '') => process.stdout.write(line + '\n');
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Expected {
  usage: Map<string, number>;
  usersOfFlag1: Set<string>;
  users: Set<string>;
}

/** The requests (gzipped, as posthog-node sends them) and what the database must hold after them. */
function generate(token: string): { bodies: Array<{ body: Buffer; events: number; headers: Record<string, string> }>; expected: Expected } {
  const expected: Expected = { usage: new Map(), usersOfFlag1: new Set(), users: new Set() };
  const bodies: Array<{ body: Buffer; events: number; headers: Record<string, string> }> = [];
  const timestamp = new Date().toISOString();
  for (let r = 0; r < TOTAL / PER_REQUEST; r++) {
    const batch: object[] = [];
    for (let i = 0; i < PER_REQUEST; i++) {
      const n = r * PER_REQUEST + i;
      const user = `ingest-user-${(n * 7919) % USERS}`;
      expected.users.add(user);
      if (n % 50 === 0) {
        batch.push({ event: '$set', distinct_id: user, uuid: crypto.randomUUID(), timestamp, properties: { $set: { n, plan: n % 2 ? 'pro' : 'free' } } });
        continue;
      }
      const flag = `ingest-flag-${n % FLAGS}`;
      const value = VALUES[n % VALUES.length];
      const event = {
        event: '$feature_flag_called',
        distinct_id: user,
        uuid: crypto.randomUUID(),
        timestamp,
        properties: { $feature_flag: flag, $feature_flag_response: value, $lib: 'posthog-node', $lib_version: '5.70.0' },
      };
      batch.push(event);
      if (n % 97 === 0) batch.push({ ...event });
      expected.usage.set(`${flag}|${value}`, (expected.usage.get(`${flag}|${value}`) ?? 0) + 1);
      if (flag === 'ingest-flag-1') expected.usersOfFlag1.add(user);
    }
    bodies.push({
      body: zlib.gzipSync(JSON.stringify({ api_key: token, batch, sent_at: timestamp })),
      events: batch.length,
      headers: { 'content-encoding': 'gzip', 'user-agent': 'posthog-node/5.70.0' },
    });
  }
  // One request in ten is sent again, later (a retry after a lost answer).
  return { bodies: [...bodies, ...bodies.filter((_, i) => i % 10 === 3)], expected };
}

type Query = (text: string) => Promise<Array<Record<string, unknown>>>;

/** A connection to the benchmark's database once flaghost has stopped (PGlite: its data directory). */
async function openDatabase(env: Environment): Promise<{ query: Query; close(): Promise<void> }> {
  if (env.database === 'postgres') {
    const client = new pg.Client({ connectionString: env.env.DATABASE_URL });
    await client.connect();
    return { query: async (text) => (await client.query(text)).rows, close: () => client.end() };
  }
  const db = new PGlite({ fs: new NodeFS(path.join(env.env.FLAGHOST_DATA_DIR!, 'pglite')) });
  await db.waitReady;
  return { query: async (text) => (await db.query<Record<string, unknown>>(text)).rows, close: () => db.close() };
}

/** The exact-count check of test/ingestion/load.test.ts; returns the problems found. */
async function check(query: Query, projectId: number, expected: Expected): Promise<string[]> {
  const problems: string[] = [];
  const rows = await query(
    `select flag_key, value, sum(count)::int as n from flag_usage_daily where project_id = ${projectId} and flag_key like 'ingest-flag-%' group by flag_key, value`,
  );
  const stored = new Map(rows.map((r) => [`${r.flag_key}|${r.value}`, Number(r.n)]));
  for (const [key, n] of expected.usage) if (stored.get(key) !== n) problems.push(`${key}: ${stored.get(key) ?? 0} calls stored, ${n} sent`);
  for (const key of stored.keys()) if (!expected.usage.has(key)) problems.push(`${key}: stored, never sent`);
  const [totals] = await query(`
    select (select coalesce(sum(count), 0)::int from flag_usage_daily where project_id = ${projectId}) as calls,
           (select count(*)::int from persons where project_id = ${projectId}) as persons,
           (select count(*)::int from person_distinct_ids where project_id = ${projectId}) as ids,
           (select count(*)::int from ingested_events where project_id = ${projectId}) as uuids,
           (select count(distinct person_key)::int from flag_usage_persons where project_id = ${projectId} and flag_key = 'ingest-flag-1') as users`);
  const calls = TOTAL - TOTAL / 50;
  if (Number(totals.calls) !== calls) problems.push(`${totals.calls} flag calls stored, ${calls} sent`);
  if (Number(totals.persons) !== expected.users.size) problems.push(`${totals.persons} persons, ${expected.users.size} distinct ids sent`);
  if (Number(totals.ids) !== expected.users.size) problems.push(`${totals.ids} distinct ids stored, ${expected.users.size} sent`);
  if (Number(totals.uuids) !== TOTAL) problems.push(`${totals.uuids} event uuids recorded, ${TOTAL} distinct events sent`);
  if (Number(totals.users) !== expected.usersOfFlag1.size) problems.push(`${totals.users} unique persons of ingest-flag-1, ${expected.usersOfFlag1.size} sent`);
  return problems;
}

async function main(): Promise<number> {
  const started = Date.now();
  log(
    `flaghost ingestion benchmark — node ${process.version}, ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const env = await prepareEnvironment(root, process.env.BENCH_LOG_LEVEL || 'warn');
  const project = await createProjectWithCli(env, 'bench-ingest');
  const sources = profiling ? snapshotSources(root) : new Map<string, string>();
  const server = await startServer(env, { profile: profiling, mode: serverModeFromEnv() });
  for (let i = 0; i < FLAGS; i++) {
    await api(server, 'POST', `/api/projects/${project.id}/feature_flags/`, {
      key: `ingest-flag-${i}`,
      active: true,
      filters: { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: null },
    });
  }
  let t = Date.now();
  const { bodies, expected } = generate(project.apiToken);
  const bytes = bodies.reduce((n, b) => n + b.body.length, 0);
  log(
    `database: ${env.database === 'postgres' ? 'PostgreSQL' : 'PGlite'}; ${fmtInt(TOTAL)} events (+${fmtInt(bodies.reduce((n, b) => n + b.events, 0) - TOTAL)} repeated) ` +
      `for ${fmtInt(expected.users.size)} distinct ids in ${fmtInt(bodies.length)} gzipped requests (${(bytes / 1e6).toFixed(1)} MB), ${SENDERS} senders; ` +
      `generated in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );

  t = Date.now();
  const dbCpuBefore = env.database === 'postgres' ? await databaseCpu(env.env.DATABASE_URL!) : undefined;
  const figures = await sendAll(server.baseUrl, bodies, SENDERS, server.child.process.pid);
  const dbCpuMs = dbCpuBefore ? cpuSince(dbCpuBefore, await databaseCpu(env.env.DATABASE_URL!)) : undefined;
  await stopServer(server);

  const rate = TOTAL / figures.seconds;
  const whole = figures.perSecond.slice(0, Math.floor(figures.seconds));
  const perEvent = (ms: number | undefined) => (ms === undefined ? '?' : ((ms * 1000) / TOTAL).toFixed(1));
  log(
    `\ningested ${fmtInt(TOTAL)} events in ${figures.seconds.toFixed(1)} s: ${fmtInt(rate)} events/s sustained (target ≥ ${fmtInt(TARGET)}) ${rate >= TARGET ? 'PASS' : 'FAIL'}`,
  );
  log(
    `  per whole second: min ${fmtInt(Math.min(...whole))}, median ${fmtInt(median(whole))}, max ${fmtInt(Math.max(...whole))} events (acknowledged); ` +
      `request latency p50 ${percentile(figures.latencies, 50).toFixed(0)} ms, p99 ${percentile(figures.latencies, 99).toFixed(0)} ms`,
  );
  log(
    `  cpu per event: flaghost ${perEvent(figures.serverCpuMs)} µs (${((figures.serverCpuMs ?? 0) / 10 / figures.seconds) | 0 || '?'} % of a core)` +
      (dbCpuMs !== undefined ? `, PostgreSQL backends ${perEvent(dbCpuMs)} µs (${(dbCpuMs / 10 / figures.seconds) | 0 || '?'} % of a core)` : ''),
  );

  const db = await openDatabase(env);
  let problems: string[];
  try {
    problems = await check(db.query, project.id, expected);
  } finally {
    await db.close();
  }
  log(
    problems.length
      ? `exact count check FAILED:\n  ${problems.join('\n  ')}`
      : `exact count check: every event counted once (${fmtInt(TOTAL - TOTAL / 50)} flag calls by value, ${fmtInt(expected.users.size)} persons, ${fmtInt(TOTAL)} uuids, unique users) PASS`,
  );
  log(
    `load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  if (profiling && server.profileDir) {
    const profile = readProfile(server.profileDir);
    if (profile) {
      const mapper = new SourceMapper(root, sources);
      const summary = summarize(profile, [figures.windowUs], mapper, num('BENCH_PROFILE_TOP', 15));
      log(`\nCPU profile of flaghost while ingesting: ${summary.samples} samples, idle ${summary.idlePercent.toFixed(1)} % (self time, % of all samples)`);
      for (const f of summary.top)
        log(`  ${f.percent.toFixed(1).padStart(5)} %  ${f.function.padEnd(30)} ${f.location}${f.text && f.function === '(anonymous)' ? ` ${f.text}` : ''}`);
      log(
        `  by area: ${summarizeByArea(profile, [figures.windowUs], mapper)
          .map((a) => `${a.area} ${a.percent.toFixed(1)} %`)
          .join(', ')}`,
      );
      fs.writeFileSync(path.join(root, 'bench/results/ingest.cpuprofile'), JSON.stringify(profile));
    }
  }
  const file = path.join(root, 'bench/results/ingest.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const { latencies: _l, ...rest } = figures;
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date(started).toISOString(),
        database: env.database,
        distinctEvents: TOTAL,
        users: USERS,
        senders: SENDERS,
        rate,
        dbCpuMs,
        problems,
        ...rest,
      },
      null,
      2,
    ) + '\n',
  );
  log(`\n${path.relative(root, file)} written; whole run ${Math.round((Date.now() - started) / 1000)} s`);
  return problems.length ? 1 : 0;
}

installExitHandlers();
let code = 1;
try {
  code = await main();
} catch (err) {
  if (!interrupted()) process.stderr.write(`\nbenchmark failed: ${(err as Error).stack ?? err}\n`);
} finally {
  await cleanupAll();
}
process.exit(code);

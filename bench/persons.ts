// `npm run bench:persons`: /flags for stored persons. Seeds BENCH_PERSONS persons (default
// 1,000,000) through capture (/batch/, as posthog-node and posthog-js send $identify and $set),
// creates 2 static cohorts and 50 flags (10 on stored person properties, 2 on the cohorts) through
// the management API, then measures /flags?v=2 for random known distinct ids sending no
// properties against the bare node:http reference sent the same POSTs, and how soon an answer
// changes after a $set. See bench/README.md.
//
// Environment: BENCH_PERSONS, BENCH_DURATION (measured s, default 10), BENCH_ROUNDS (4),
// BENCH_WARMUP (2), BENCH_CONNECTIONS (10), BENCH_FRESHNESS (samples, default 40), BENCH_PROFILE=1,
// BENCH_PROFILE_TOP, BENCH_LOG_LEVEL, BENCH_SERVER, BENCH_SEED_SENDERS (4), DATABASE_URL.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { api, createProjectWithCli, prepareEnvironment, serverModeFromEnv, startServer, stopServer } from './lib/flaghost.ts';
import { combine, run, warmUp, type LoadSettings, type LoadSpec, type Measurement, type Sample } from './lib/load.ts';
import { cleanupAll, firstJsonLine, installExitHandlers, interrupted, startChild, stopChild } from './lib/processes.ts';
import { readProfile, snapshotSources, SourceMapper, summarize, summarizeByArea, type ProfileSummary } from './lib/profile.ts';
import { cpuSince, databaseCpu, median, percentile, post, seedEvent, seededDistinctId, seededProperties, sendAll, setEvent } from './lib/capture.ts';
import { PLAN_FLAG, personsFlagBody, TOTAL_FLAGS } from './lib/persons-flags.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const num = (name: string, def: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return n;
};
const PERSONS = Math.max(1000, Math.round(num('BENCH_PERSONS', 1_000_000)));
const SEED_BATCH = 1000;
const SEED_SENDERS = Math.max(1, Math.round(num('BENCH_SEED_SENDERS', 4)));
const FRESHNESS = Math.round(num('BENCH_FRESHNESS', 40));
const REQUEST_BODIES = 4096;
const settings: LoadSettings = {
  durationS: num('BENCH_DURATION', 10),
  warmupS: num('BENCH_WARMUP', 2),
  connections: Math.max(1, Math.round(num('BENCH_CONNECTIONS', 10))),
  rounds: Math.max(1, Math.round(num('BENCH_ROUNDS', 4))),
};
const profiling = process.env.BENCH_PROFILE === '1';
const profileTop = Math.max(1, Math.round(num('BENCH_PROFILE_TOP', 15)));
const log = (line = '') => process.stdout.write(line + '\n');
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

/** Deterministic pseudo-random person indexes (the same run after run). */
function randomPersons(count: number, seed: number): number[] {
  let x = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % PERSONS;
  });
}

interface FlagsAnswer {
  flags: Record<string, { enabled: boolean; variant?: string | null }>;
  errorsWhileComputingFlags: boolean;
}

async function main(): Promise<number> {
  const started = Date.now();
  log(
    `flaghost persons benchmark — node ${process.version}, ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const env = await prepareEnvironment(root, process.env.BENCH_LOG_LEVEL || 'warn');
  log(`database: ${env.database === 'postgres' ? 'PostgreSQL' : 'PGlite'}; ${fmtInt(PERSONS)} persons, ${TOTAL_FLAGS} flags`);
  const project = await createProjectWithCli(env, 'bench-persons');
  const sources = profiling ? snapshotSources(root) : new Map<string, string>();
  const server = await startServer(env, { profile: profiling, mode: serverModeFromEnv() });
  const serverPid = server.child.process.pid;
  const profileWindows = new Map<string, Array<[number, number]>>();

  // 1. Persons, through capture.
  const timestamp = new Date().toISOString();
  const seedBodies: Array<{ body: Buffer; events: number }> = [];
  for (let i = 0; i < PERSONS; i += SEED_BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(PERSONS, i + SEED_BATCH); j++) batch.push(seedEvent(j, timestamp));
    seedBodies.push({ body: Buffer.from(JSON.stringify({ api_key: project.apiToken, batch, sent_at: timestamp })), events: batch.length });
  }
  let reported = 0;
  const seed = await sendAll(server.baseUrl, seedBodies, SEED_SENDERS, serverPid, (done) => {
    if (done - reported >= PERSONS / 10) {
      reported = done;
      log(`  seeded ${fmtInt(done)} persons`);
    }
  });
  seedBodies.length = 0;
  profileWindows.set('seeding', [seed.windowUs]);
  log(
    `seeded ${fmtInt(PERSONS)} persons through /batch/ in ${seed.seconds.toFixed(1)} s (${fmtInt(PERSONS / seed.seconds)} persons/s, ` +
      `${SEED_BATCH} events a request, ${SEED_SENDERS} senders; server cpu ${seed.serverCpuMs === undefined ? '?' : ((seed.serverCpuMs * 1000) / PERSONS).toFixed(1)} µs/person)`,
  );
  const counted = (await api(server, 'GET', `/api/projects/${project.id}/persons/?limit=1&include_total`)) as { count: number };
  if (counted.count !== PERSONS) throw new Error(`the project has ${counted.count} persons, expected ${PERSONS}`);

  // 2. Two static cohorts (every 20th person, and the next one) and the 50 flags.
  const t = Date.now();
  const cohortIds: number[] = [];
  for (const offset of [0, 1]) {
    const distinctIds: string[] = [];
    for (let i = offset; i < PERSONS; i += 20) distinctIds.push(seededDistinctId(i));
    const cohort = (await api(server, 'POST', `/api/projects/${project.id}/cohorts/`, {
      name: `bench static ${offset}`,
      is_static: true,
      distinct_ids: distinctIds,
    })) as { id: number };
    cohortIds.push(cohort.id);
  }
  for (let i = 0; i < TOTAL_FLAGS; i++)
    await api(server, 'POST', `/api/projects/${project.id}/feature_flags/`, personsFlagBody(i, [cohortIds[0], cohortIds[1]]));
  log(`2 static cohorts of ${fmtInt(PERSONS / 20)} persons and ${TOTAL_FLAGS} flags created through the API in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  // 3. Sanity: answers for known persons follow their stored properties and cohorts.
  const flagsUrl = `${server.baseUrl}/flags?v=2`;
  const flagsHeaders = { 'content-type': 'application/json', 'user-agent': 'posthog-node/5.70.0' };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const ask = async (distinctId: string): Promise<FlagsAnswer> => {
    const res = await post(agent, server.baseUrl, '/flags?v=2', JSON.stringify({ token: project.apiToken, distinct_id: distinctId }), flagsHeaders);
    if (res.status !== 200) throw new Error(`POST /flags → ${res.status}: ${res.body.slice(0, 300)}`);
    return JSON.parse(res.body) as FlagsAnswer;
  };
  for (const i of [0, 1, 2, 20, 21, PERSONS - 1]) {
    const answer = await ask(seededDistinctId(i));
    const expectPlan = seededProperties(i).plan === 'pro';
    if (answer.errorsWhileComputingFlags) throw new Error(`/flags for person ${i} reports errorsWhileComputingFlags`);
    if (Object.keys(answer.flags).length !== TOTAL_FLAGS) throw new Error(`/flags for person ${i} answered ${Object.keys(answer.flags).length} flags`);
    if (answer.flags[PLAN_FLAG].enabled !== expectPlan) throw new Error(`/flags for person ${i}: ${PLAN_FLAG} is ${answer.flags[PLAN_FLAG].enabled}`);
    if (answer.flags['cohort-0'].enabled !== (i % 20 === 0) || answer.flags['cohort-1'].enabled !== (i % 20 === 1))
      throw new Error(`/flags for person ${i}: cohort flags ${answer.flags['cohort-0'].enabled}/${answer.flags['cohort-1'].enabled}`);
  }
  log('sanity: stored properties and static cohorts decide the answers of known persons');

  // 4. Load: random known distinct ids, no properties, against reference A sent the same POSTs.
  const bodies = randomPersons(REQUEST_BODIES, 12345).map((i) => JSON.stringify({ token: project.apiToken, distinct_id: seededDistinctId(i) }));
  const sample = await post(agent, server.baseUrl, '/flags?v=2', bodies[0], flagsHeaders);
  const refFile = path.join(env.tempDir, 'flags-answer.json');
  fs.writeFileSync(refFile, sample.body);
  const ref = startChild('reference A', process.execPath, [path.join(root, 'bench/reference-server.mjs'), refFile], { cwd: root });
  const { port } = await firstJsonLine<{ port: number }>(ref);
  const specs: Array<{ id: string; spec: LoadSpec }> = [
    {
      id: 'reference',
      spec: { url: `http://127.0.0.1:${port}/`, method: 'POST', headers: flagsHeaders, bodies, expectStatus: 200, serverPid: ref.process.pid },
    },
    { id: 'stored-persons', spec: { url: flagsUrl, method: 'POST', headers: flagsHeaders, bodies, expectStatus: 200, serverPid } },
  ];
  for (const s of specs) await warmUp(s.spec, s.id === 'reference' ? { ...settings, warmupS: Math.min(1, settings.warmupS) } : settings);
  const samples = new Map<string, Sample[]>(specs.map((s) => [s.id, []]));
  // PostgreSQL's share: its backends' CPU over the rounds (the reference reads no database).
  const dbUrl = env.database === 'postgres' ? env.env.DATABASE_URL! : undefined;
  const dbBefore = dbUrl ? await databaseCpu(dbUrl) : undefined;
  for (let round = 0; round < settings.rounds; round++) {
    for (const s of specs) samples.get(s.id)!.push(await run(s.spec, settings, settings.durationS / settings.rounds));
  }
  const dbCpuMs = dbBefore && dbUrl ? cpuSince(dbBefore, await databaseCpu(dbUrl)) : undefined;
  const results = new Map<string, Measurement>(specs.map((s) => [s.id, combine(s.spec, samples.get(s.id)!)]));
  const flags = results.get('stored-persons')!;
  const reference = results.get('reference')!;
  profileWindows.set('/flags', flags.windowsUs);
  log(
    `\nload: ${settings.connections} connections, ${settings.rounds} rounds of ${settings.durationS / settings.rounds} s, answer ${fmtInt(sample.body.length)} bytes`,
  );
  for (const [id, m] of results) {
    log(
      `${id.padEnd(16)} ${fmtInt(m.rps).padStart(7)} req/s  p50 ${fmtMs(m.p50).padStart(5)} ms  p99 ${fmtMs(m.p99).padStart(5)} ms` +
        `  cpu ${m.cpuUsPerRequest?.toFixed(1) ?? '?'} µs/req (${m.cpuPercent?.toFixed(0) ?? '?'} %)  [rounds ${m.roundsRps.map(fmtInt).join(' / ')}]` +
        (m.invalid ? `  INVALID: ${m.invalid}` : ''),
    );
  }

  // 5. Freshness: $set through capture, then poll /flags until the answer changes. Idle, then
  // while the load above runs again.
  const freshness = async (label: string, seedValue: number) => {
    const fromSend: number[] = [];
    const fromAck: number[] = [];
    for (const i of randomPersons(FRESHNESS, seedValue)) {
      const distinctId = seededDistinctId(i);
      const before = (await ask(distinctId)).flags[PLAN_FLAG].enabled;
      const t0 = performance.now();
      const res = await post(
        agent,
        server.baseUrl,
        '/capture/',
        JSON.stringify({ api_key: project.apiToken, ...setEvent(distinctId, { plan: before ? 'free' : 'pro' }) }),
      );
      if (res.status !== 200) throw new Error(`POST /capture/ → ${res.status}: ${res.body.slice(0, 200)}`);
      const t1 = performance.now();
      for (;;) {
        const now = (await ask(distinctId)).flags[PLAN_FLAG].enabled;
        const t2 = performance.now();
        if (now !== before) {
          fromSend.push(t2 - t0);
          fromAck.push(t2 - t1);
          break;
        }
        if (t2 - t0 > 5000) {
          fromSend.push(Infinity);
          fromAck.push(Infinity);
          break;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    fromSend.sort((a, b) => a - b);
    fromAck.sort((a, b) => a - b);
    log(
      `freshness ${label}: ${FRESHNESS} $set → changed answer; from the capture request p50 ${fmtMs(percentile(fromSend, 50))} ms, ` +
        `p99 ${fmtMs(percentile(fromSend, 99))} ms, max ${fmtMs(fromSend.at(-1) ?? 0)} ms; from its acknowledgement p50 ${fmtMs(percentile(fromAck, 50))} ms, ` +
        `max ${fmtMs(fromAck.at(-1) ?? 0)} ms (target ≤ 1,000 ms) ${pass((fromSend.at(-1) ?? 0) <= 1000)}`,
    );
    return { fromSend, fromAck };
  };
  log('');
  const idle = FRESHNESS ? await freshness('(idle)', 777) : undefined;
  let underLoad: Awaited<ReturnType<typeof freshness>> | undefined;
  if (FRESHNESS) {
    const background = autocannon({ url: flagsUrl, method: 'POST', headers: flagsHeaders, body: bodies[1], connections: settings.connections, duration: 600 });
    await new Promise((r) => setTimeout(r, 500));
    try {
      underLoad = await freshness(`(under /flags load, ${settings.connections} connections)`, 999);
    } finally {
      background.stop();
      await background;
    }
  }
  agent.destroy();
  await stopChild(ref);
  await stopServer(server);

  // 6. Verdicts, profile, results file.
  const rpsOk = flags.rps >= 5000;
  const p99Ok = flags.p99 <= 20;
  log('');
  log(`/flags for stored persons: ${fmtInt(flags.rps)} req/s (target ≥ 5,000) ${pass(rpsOk)}; p99 ${fmtMs(flags.p99)} ms (target ≤ 20 ms) ${pass(p99Ok)}`);
  log(
    `  ÷ reference A: ${(flags.rps / reference.rps).toFixed(2)}× in req/s; cpu ${flags.cpuUsPerRequest?.toFixed(1)} µs/answer against ` +
      `${reference.cpuUsPerRequest?.toFixed(1)} µs (cpu ratio ${reference.cpuUsPerRequest && flags.cpuUsPerRequest ? (reference.cpuUsPerRequest / flags.cpuUsPerRequest).toFixed(2) : '?'}×)`,
  );
  if (dbCpuMs !== undefined) log(`  PostgreSQL backends: ${((dbCpuMs * 1000) / flags.requests).toFixed(1)} µs of CPU per answer`);
  log(
    `load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const profiles: Record<string, ProfileSummary> = {};
  if (profiling && server.profileDir) {
    const profile = readProfile(server.profileDir);
    const mapper = new SourceMapper(root, sources);
    for (const [label, windows] of profileWindows) {
      if (!profile) break;
      const summary = summarize(profile, windows, mapper, profileTop);
      profiles[label] = summary;
      log(`\nCPU profile of flaghost during ${label}: ${summary.samples} samples, idle ${summary.idlePercent.toFixed(1)} % (self time, % of all samples)`);
      for (const f of summary.top)
        log(`  ${f.percent.toFixed(1).padStart(5)} %  ${f.function.padEnd(30)} ${f.location}${f.text && f.function === '(anonymous)' ? ` ${f.text}` : ''}`);
      log(
        `  by area: ${summarizeByArea(profile, windows, mapper)
          .map((a) => `${a.area} ${a.percent.toFixed(1)} %`)
          .join(', ')}`,
      );
    }
    if (profile) fs.writeFileSync(path.join(root, 'bench/results/persons.cpuprofile'), JSON.stringify(profile));
  }
  const out = {
    date: new Date(started).toISOString(),
    database: env.database,
    persons: PERSONS,
    seed: { seconds: seed.seconds, serverCpuMs: seed.serverCpuMs },
    databaseCpuMsDuringLoad: dbCpuMs,
    load: Object.fromEntries([...results].map(([id, { windowsUs: _w, ...m }]) => [id, m])),
    freshness: { idle, underLoad },
    profiles,
    loadavg: os.loadavg(),
    seconds: Math.round((Date.now() - started) / 1000),
  };
  const file = path.join(root, 'bench/results/persons.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(out, (_k, v) => (v === Infinity ? null : v), 2) + '\n');
  log(`\n${path.relative(root, file)} written; whole run ${out.seconds} s; median seeding second ${fmtInt(median(seed.perSecond))} persons`);
  return flags.invalid || reference.invalid ? 1 : 0;
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

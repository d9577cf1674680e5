// `npm run bench`: flaghost's SDK hot paths under load, each figure a ratio against a bare
// node:http reference measured in the same run (the machine is small and noisy; ratios travel,
// absolute numbers don't). See bench/README.md.
//
// Environment: BENCH_DURATION (measured s per scenario, default 10), BENCH_WARMUP (s, default 2),
// BENCH_ROUNDS (default 4), BENCH_CONNECTIONS (default 10), BENCH_LOG_LEVEL (default warn),
// BENCH_SCENARIOS (comma list of scenario ids), BENCH_PROFILE=1 (run flaghost under --cpu-prof
// and print its top self-time functions per scenario; BENCH_PROFILE_TOP sets how many, default
// 15), BENCH_STRICT=1 (exit 1 when a target fails), BENCH_SERVER (dist, the default: the compiled
// server as `npm start` runs it; tsx: the sources through tsx), DATABASE_URL (run on PostgreSQL).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flagKey, flagsRequestBodies } from './lib/flags.ts';
import {
  createProjectWithCli,
  prepareEnvironment,
  PROJECT_TOKEN,
  SECRET_TOKEN,
  seedFlags,
  serverModeFromEnv,
  startServer,
  stopServer,
  type BenchProject,
} from './lib/flaghost.ts';
import { combine, run, warmUp, type LoadSettings, type LoadSpec, type Measurement, type Sample } from './lib/load.ts';
import { cleanupAll, firstJsonLine, installExitHandlers, interrupted, request, startChild, stopChild, type Child } from './lib/processes.ts';
import { readProfile, snapshotSources, SourceMapper, summarize, type ProfileSummary } from './lib/profile.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFINITIONS_FLAGS = 1_000;
/** Distinct /flags bodies (distinct ids) sent in turn: enough that no per-person cache could help. */
const REQUEST_BODIES = 4_096;

function numberFromEnv(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return n;
}

const settings: LoadSettings = {
  durationS: numberFromEnv('BENCH_DURATION', 10),
  warmupS: numberFromEnv('BENCH_WARMUP', 2),
  connections: Math.max(1, Math.round(numberFromEnv('BENCH_CONNECTIONS', 10))),
  rounds: Math.max(1, Math.round(numberFromEnv('BENCH_ROUNDS', 4))),
};
const logLevel = process.env.BENCH_LOG_LEVEL || 'warn';
const profiling = process.env.BENCH_PROFILE === '1';
const profileTop = Math.max(1, Math.round(numberFromEnv('BENCH_PROFILE_TOP', 15)));
const strict = process.env.BENCH_STRICT === '1';
const serverMode = serverModeFromEnv();
const only = process.env.BENCH_SCENARIOS?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);

interface Scenario {
  id: string;
  title: string;
  flaghost: boolean;
  /** The scenario whose req/s this one is divided by. */
  reference?: string;
  /** Minimum ratio to the reference. */
  goal?: number;
  spec: LoadSpec;
}

interface ScenarioResult extends Measurement {
  id: string;
  title: string;
  reference?: string;
  /** Median over rounds of (this round's req/s ÷ the reference's req/s in the same round). */
  ratio?: number;
  /** Total req/s ÷ the reference's total req/s. */
  ratioOfTotals?: number;
  goal?: number;
  verdict?: 'PASS' | 'FAIL' | 'INVALID' | 'n/a';
  profile?: ProfileSummary;
  /** /flags scenarios: req/s ÷ reference A's req/s answering GETs without a body (its own group, not paired by round). */
  ratioToGetReference?: number;
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  if (!v.length) return 0;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const log = (line = '') => process.stdout.write(line + '\n');

/** The commit measured, and whether src/ differs from it (the work tree may hold edits). */
function sourceVersion(): { commit: string; srcModified: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'package.json'], { cwd: root, encoding: 'utf8' }).trim();
    return { commit, srcModified: dirty !== '' };
  } catch {
    return { commit: 'unknown', srcModified: false };
  }
}

async function startReference(name: string, file: string): Promise<{ child: Child; url: string }> {
  const child = startChild(name, process.execPath, [path.join(root, 'bench/reference-server.mjs'), file], { cwd: root });
  const { port } = await firstJsonLine<{ port: number }>(child);
  return { child, url: `http://127.0.0.1:${port}/` };
}

async function main(): Promise<number> {
  const started = Date.now();
  log(
    `flaghost benchmark — node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ` +
      `${settings.connections} connections, pipelining 1, ${settings.warmupS} s warm-up + ${settings.durationS} s per scenario ` +
      `(${settings.rounds} alternating rounds with its reference)`,
  );
  const version = sourceVersion();
  log(`flaghost at ${version.commit}${version.srcModified ? ' + uncommitted changes in src/' : ''}`);
  if (profiling) log('BENCH_PROFILE=1: flaghost runs under --cpu-prof, its figures are lower than without the profiler');

  // 1. Database and projects (CLI first: on PGlite only one process may open the data directory).
  const env = await prepareEnvironment(root, logLevel);
  log(
    `database: ${env.database === 'postgres' ? `PostgreSQL (fresh database ${new URL(env.env.DATABASE_URL!).pathname.slice(1)})` : `PGlite (${env.env.FLAGHOST_DATA_DIR})`}`,
  );
  let t = Date.now();
  const p50 = await createProjectWithCli(env, 'bench-50-flags');
  const p200 = await createProjectWithCli(env, 'bench-200-flags');
  const defs: BenchProject = { id: 1, name: 'Default project', apiToken: PROJECT_TOKEN, secretToken: SECRET_TOKEN };
  log(`projects created with the CLI in ${((Date.now() - t) / 1000).toFixed(1)} s: ${defs.id} (definitions), ${p50.id} (50 flags), ${p200.id} (200 flags)`);

  // 2. flaghost, seeded through the management API.
  t = Date.now();
  const sources = profiling ? snapshotSources(root) : new Map<string, string>();
  const server = await startServer(env, { profile: profiling, mode: serverMode });
  log(
    `flaghost (${serverMode === 'dist' ? 'node dist/server.js' : 'node --import tsx src/server.ts'}) listening at ${server.baseUrl} ` +
      `after ${((Date.now() - t) / 1000).toFixed(1)} s (LOG_LEVEL=${logLevel})`,
  );
  t = Date.now();
  await seedFlags(server, defs, DEFINITIONS_FLAGS);
  await seedFlags(server, p50, 50);
  await seedFlags(server, p200, 200);
  log(`seeded ${DEFINITIONS_FLAGS + 250} flags through the API in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  // 3. The exact definitions bytes and ETag; sanity checks of every request the load will send.
  const defsUrl = `${server.baseUrl}/flags/definitions?token=${defs.apiToken}&send_cohorts`;
  const defsHeaders = { authorization: `Bearer ${defs.secretToken}` };
  const first = await request(defsUrl, { headers: defsHeaders });
  if (first.status !== 200) throw new Error(`definitions → ${first.status}: ${first.body.toString('utf8').slice(0, 300)}`);
  const etag = first.headers.etag;
  if (typeof etag !== 'string') throw new Error('definitions answer has no ETag');
  const payload = JSON.parse(first.body.toString('utf8')) as { flags: unknown[] };
  if (payload.flags.length !== DEFINITIONS_FLAGS) throw new Error(`definitions hold ${payload.flags.length} flags, expected ${DEFINITIONS_FLAGS}`);
  const notModified = await request(defsUrl, { headers: { ...defsHeaders, 'if-none-match': etag } });
  if (notModified.status !== 304) throw new Error(`If-None-Match with the ETag → ${notModified.status}, expected 304`);
  const defsFile = path.join(env.tempDir, 'definitions.json');
  fs.writeFileSync(defsFile, first.body);
  const okFile = path.join(env.tempDir, 'ok.json');
  fs.writeFileSync(okFile, '{"ok":true}');
  log(`definitions: ${DEFINITIONS_FLAGS} flags, ${fmtInt(first.body.length)} bytes, ETag ${etag}`);

  const flagsUrl = `${server.baseUrl}/flags?v=2`;
  const flagsHeaders = { 'content-type': 'application/json', 'user-agent': 'posthog-node/5.70.0' };
  const bodies50 = flagsRequestBodies(p50.apiToken, REQUEST_BODIES);
  const bodies200 = flagsRequestBodies(p200.apiToken, REQUEST_BODIES);
  // The definitions project's 1,000 flags: all of them, and the first 50 named in
  // flag_keys_to_evaluate (the same mix as the 50-flag project's).
  const bodies1000 = flagsRequestBodies(defs.apiToken, REQUEST_BODIES);
  const requested = Array.from({ length: 50 }, (_, i) => flagKey(i, `p${defs.id}`));
  const bodies50of1000 = flagsRequestBodies(defs.apiToken, REQUEST_BODIES, requested);
  for (const [project, bodies, count] of [
    [p50, bodies50, 50],
    [p200, bodies200, 200],
    [defs, bodies1000, DEFINITIONS_FLAGS],
    [defs, bodies50of1000, 50],
  ] as const) {
    const res = await request(flagsUrl, { method: 'POST', headers: flagsHeaders, body: bodies[0] });
    if (res.status !== 200) throw new Error(`POST /flags (project ${project.id}) → ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
    const out = JSON.parse(res.body.toString('utf8')) as { flags: Record<string, { enabled: boolean }>; errorsWhileComputingFlags: boolean };
    const flags = Object.values(out.flags);
    if (flags.length !== count) throw new Error(`POST /flags (project ${project.id}) evaluated ${flags.length} flags, expected ${count}`);
    if (out.errorsWhileComputingFlags) throw new Error(`POST /flags (project ${project.id}) reports errorsWhileComputingFlags`);
    log(
      `POST /flags?v=2 project ${project.id}: ${count} flags evaluated, ${flags.filter((f) => f.enabled).length} enabled, ` +
        `request ${fmtInt(bodies[0].length)} bytes, answer ${fmtInt(res.body.length)} bytes`,
    );
  }

  // 4. References, each in its own process.
  const refA = await startReference('reference A', okFile);
  const refB = await startReference('reference B', defsFile);

  // Groups: a reference and the flaghost scenarios divided by it, measured alternately in rounds
  // so that a slow patch of the (shared, noisy) machine hits both sides of a ratio alike.
  // Each reference receives exactly the requests of the scenarios divided by it (method, headers,
  // bodies): the ratio then compares two servers under the same load, and the load generator's
  // own cost per request (building 4,096 different POST bodies costs it more than a bare GET)
  // weighs on both sides alike.
  const serverPid = server.child.process.pid;
  const refAPid = refA.child.process.pid;
  const groups: Scenario[][] = [
    [
      {
        id: 'refA',
        title: 'reference A: node:http {"ok":true}',
        flaghost: false,
        spec: { url: refA.url, headers: { ...defsHeaders, 'if-none-match': etag }, expectStatus: 200, serverPid: refAPid },
      },
      {
        id: 'definitions-304',
        title: 'definitions 304 (If-None-Match)',
        flaghost: true,
        reference: 'refA',
        goal: 0.75,
        spec: { url: defsUrl, headers: { ...defsHeaders, 'if-none-match': etag }, expectStatus: 304, serverPid },
      },
    ],
    [
      {
        id: 'refB',
        title: `reference B: node:http ${fmtInt(first.body.length)} B`,
        flaghost: false,
        spec: { url: refB.url, expectStatus: 200, serverPid: refB.child.process.pid },
      },
      {
        id: 'definitions-200',
        title: `definitions 200 (${DEFINITIONS_FLAGS} flags)`,
        flaghost: true,
        reference: 'refB',
        goal: 0.9,
        spec: { url: defsUrl, headers: defsHeaders, expectStatus: 200, serverPid },
      },
    ],
    [
      {
        id: 'refA2',
        title: 'reference A, the /flags POSTs',
        flaghost: false,
        spec: { url: refA.url, method: 'POST', headers: flagsHeaders, bodies: bodies50, expectStatus: 200, serverPid: refAPid },
      },
      {
        id: 'flags-50',
        title: 'POST /flags?v=2, 50 flags',
        flaghost: true,
        reference: 'refA2',
        goal: 0.4,
        spec: { url: flagsUrl, method: 'POST', headers: flagsHeaders, bodies: bodies50, expectStatus: 200, serverPid },
      },
      {
        id: 'flags-200',
        title: 'POST /flags?v=2, 200 flags',
        flaghost: true,
        reference: 'refA2',
        spec: { url: flagsUrl, method: 'POST', headers: flagsHeaders, bodies: bodies200, expectStatus: 200, serverPid },
      },
      {
        id: 'flags-50-of-1000',
        title: 'POST /flags?v=2, 50 named of 1,000',
        flaghost: true,
        reference: 'refA2',
        spec: { url: flagsUrl, method: 'POST', headers: flagsHeaders, bodies: bodies50of1000, expectStatus: 200, serverPid },
      },
      {
        id: 'flags-1000',
        title: 'POST /flags?v=2, 1,000 flags',
        flaghost: true,
        reference: 'refA2',
        spec: { url: flagsUrl, method: 'POST', headers: flagsHeaders, bodies: bodies1000, expectStatus: 200, serverPid },
      },
    ],
  ];
  let selected = groups;
  if (only?.length) {
    const all = groups.flat();
    for (const id of only)
      if (!all.some((s) => s.id === id)) throw new Error(`BENCH_SCENARIOS: unknown scenario ${id} (known: ${all.map((s) => s.id).join(', ')})`);
    const wanted = new Set(only);
    for (const s of all) if (wanted.has(s.id) && s.reference) wanted.add(s.reference);
    selected = groups.map((g) => g.filter((s) => wanted.has(s.id))).filter((g) => g.length > 0);
  }

  // 5. The measurements.
  log('');
  const perRound = settings.durationS / settings.rounds;
  const results = new Map<string, ScenarioResult>();
  for (const group of selected) {
    // The references need little warming (no JIT-heavy code); flaghost gets the full warm-up.
    for (const scenario of group) await warmUp(scenario.spec, scenario.flaghost ? settings : { ...settings, warmupS: Math.min(1, settings.warmupS) });
    const samples = new Map<string, Sample[]>(group.map((s) => [s.id, []]));
    for (let round = 0; round < settings.rounds; round++) {
      for (const scenario of group) samples.get(scenario.id)!.push(await run(scenario.spec, settings, perRound));
    }
    for (const scenario of group) {
      const m = combine(scenario.spec, samples.get(scenario.id)!);
      const r: ScenarioResult = { id: scenario.id, title: scenario.title, ...m };
      if (scenario.reference) {
        const ref = results.get(scenario.reference)!;
        r.reference = scenario.reference;
        // The median of per-round ratios (each flaghost round against the reference round just
        // before it): a slow patch of the shared machine spoils one round, not the figure.
        const paired = m.roundsRps.map((rps, i) => (ref.roundsRps[i] > 0 ? rps / ref.roundsRps[i] : 0));
        r.ratio = median(paired);
        r.ratioOfTotals = ref.rps > 0 ? m.rps / ref.rps : 0;
        r.goal = scenario.goal;
        r.verdict = m.invalid || ref.invalid ? 'INVALID' : scenario.goal === undefined ? 'n/a' : r.ratio >= scenario.goal ? 'PASS' : 'FAIL';
      } else if (m.invalid) r.verdict = 'INVALID';
      results.set(scenario.id, r);
      const ratio = r.ratio === undefined ? '' : `  ${r.ratio.toFixed(2)}× ${r.reference}${r.goal !== undefined ? ` (target ≥ ${r.goal}×) ${r.verdict}` : ''}`;
      const rounds = m.roundsRps.length > 1 ? `  [rounds ${m.roundsRps.map(fmtInt).join(' / ')}]` : '';
      const cpu = m.cpuUsPerRequest === undefined ? '' : `  cpu ${lpad(m.cpuUsPerRequest.toFixed(1), 5)} µs/req (${lpad(m.cpuPercent!.toFixed(0), 3)} %)`;
      log(
        `${pad(scenario.title, 36)} ${lpad(fmtInt(m.rps), 7)} req/s  p50 ${lpad(fmtMs(m.p50), 5)} ms  p99 ${lpad(fmtMs(m.p99), 5)} ms${cpu}${ratio}${rounds}` +
          (m.invalid ? `  INVALID: ${m.invalid}` : ''),
      );
    }
  }

  await Promise.all([refA.child, refB.child].map((c) => stopChild(c)));
  await stopServer(server);

  if (profiling && server.profileDir) {
    const profile = readProfile(server.profileDir);
    if (!profile) log('\n(no CPU profile was written)');
    else {
      const keep = path.join(root, 'bench/results/flaghost.cpuprofile');
      fs.mkdirSync(path.dirname(keep), { recursive: true });
      fs.writeFileSync(keep, JSON.stringify(profile));
      const mapper = new SourceMapper(root, sources);
      for (const r of results.values()) {
        if (!selected.flat().some((s) => s.id === r.id && s.flaghost)) continue;
        r.profile = summarize(profile, r.windowsUs, mapper, profileTop);
        log(
          `\nCPU profile of flaghost during "${r.title}": ${r.profile.samples} samples, idle ${r.profile.idlePercent.toFixed(1)} % (self time, % of all samples)`,
        );
        for (const f of r.profile.top) {
          log(
            `  ${lpad(f.percent.toFixed(1), 5)} %  ${pad(f.function, 30)} ${pad(f.location, 44)}${f.text && f.function === '(anonymous)' ? ` ${f.text}` : ''}`,
          );
        }
      }
      log(`\n(full profile: ${path.relative(root, keep)}, opens in Chrome DevTools)`);
    }
  }

  // 6. The summary table and the JSON file.
  log('');
  const header =
    `${pad('scenario', 16)} ${lpad('req/s', 7)} ${lpad('p50 ms', 7)} ${lpad('p99 ms', 7)} ${lpad('cpu µs/req', 10)} ${lpad('core', 5)}  ${pad('vs', 5)} ` +
    `${lpad('ratio', 6)} ${lpad('target', 7)}  ${pad('result', 6)} ${lpad('cpu ratio', 9)}`;
  log(header);
  log('-'.repeat(header.length));
  for (const r of results.values()) {
    const ref = r.reference ? results.get(r.reference) : undefined;
    const cpuRatio = ref?.cpuUsPerRequest && r.cpuUsPerRequest ? `${(ref.cpuUsPerRequest / r.cpuUsPerRequest).toFixed(2)}×` : '';
    log(
      `${pad(r.id, 16)} ${lpad(fmtInt(r.rps), 7)} ${lpad(fmtMs(r.p50), 7)} ${lpad(fmtMs(r.p99), 7)} ` +
        `${lpad(r.cpuUsPerRequest === undefined ? '' : r.cpuUsPerRequest.toFixed(1), 10)} ${lpad(r.cpuPercent === undefined ? '' : r.cpuPercent.toFixed(0) + '%', 5)}  ` +
        `${pad(r.reference ?? '', 5)} ${lpad(r.ratio === undefined ? '' : r.ratio.toFixed(2) + '×', 6)} ${lpad(r.goal === undefined ? '' : '≥' + r.goal + '×', 7)}  ` +
        `${pad(r.verdict ?? '', 6)} ${lpad(cpuRatio, 9)}`,
    );
  }
  log("ratio: median over rounds of req/s ÷ the reference's req/s in the same round (what the targets apply to);");
  log("cpu ratio: the reference server's CPU time per request ÷ flaghost's (steadier when the machine is shared).");
  const getReference = results.get('refA');
  for (const r of results.values()) {
    if (!getReference || r.reference !== 'refA2' || !getReference.rps) continue;
    r.ratioToGetReference = r.rps / getReference.rps;
    const cpu =
      getReference.cpuUsPerRequest && r.cpuUsPerRequest ? `, ${(getReference.cpuUsPerRequest / r.cpuUsPerRequest).toFixed(2)}× in CPU per request` : '';
    log(`for comparison, ${r.id} ÷ refA (GETs without a body, its own rounds): ${r.ratioToGetReference.toFixed(2)}× in req/s${cpu}`);
  }
  // The cost targets of bench/README.md (/flags scenarios), in CPU per answer measured in this run.
  const cpu = (id: string) => results.get(id)?.cpuUsPerRequest;
  const named = cpu('flags-50-of-1000');
  const fifty = cpu('flags-50');
  const refPost = cpu('refA2');
  if (fifty !== undefined && refPost !== undefined) {
    const times = fifty / refPost;
    log(`/flags with 50 flags: ${times.toFixed(2)}× the bare server's CPU per answer to the same POSTs (target ≤ 2.5×) ${times <= 2.5 ? 'PASS' : 'FAIL'}`);
  }
  if (named !== undefined && fifty !== undefined) {
    const ratio = named / fifty;
    log(`cost follows what is asked: 50 named of 1,000 cost ${ratio.toFixed(2)}× 50 of 50 in CPU per answer (target ≤ 1.1×) ${ratio <= 1.1 ? 'PASS' : 'FAIL'}`);
  }
  const all = cpu('flags-1000');
  if (all !== undefined) {
    const perFlag = all / DEFINITIONS_FLAGS;
    const net = refPost === undefined ? '' : `; ${((all - refPost) / DEFINITIONS_FLAGS).toFixed(3)} µs net of the reference's request cost`;
    log(`all flags of 1,000: ${perFlag.toFixed(3)} µs of CPU per flag per answer (target ≤ 0.3) ${perFlag <= 0.3 ? 'PASS' : 'FAIL'}${net}`);
  }
  const out = {
    date: new Date(started).toISOString(),
    commit: version.commit,
    srcModified: version.srcModified,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    database: env.database,
    logLevel,
    server: serverMode,
    profiling,
    settings: { ...settings, pipelining: 1 },
    definitions: { flags: DEFINITIONS_FLAGS, bytes: first.body.length, etag },
    scenarios: [...results.values()].map(({ windowsUs: _w, ...r }) => r),
    seconds: Math.round((Date.now() - started) / 1000),
  };
  const file = path.join(root, 'bench/results/latest.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  log(`\n${path.relative(root, file)} written; whole run ${out.seconds} s`);

  const verdicts = [...results.values()].map((r) => r.verdict);
  if (verdicts.includes('INVALID')) return 1;
  if (strict && verdicts.includes('FAIL')) return 1;
  return 0;
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

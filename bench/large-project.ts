// `npm run bench:large`: a project with 10,000 flags (bench/README.md#npm-run-benchlarge-a-project-with-10000-flags). Figures: the management
// list page's latency (p50/p99 over sequential requests), how long after a PATCH the new
// definitions are served, the longest event-loop block while the snapshot is rebuilt (measured
// inside the server at 1 ms resolution), and the server's memory before and after. See
// bench/README.md.
//
// Environment: LARGE_FLAGS (default 10,000), LARGE_LIST_REQUESTS (default 200), LARGE_CHANGES
// (PATCHes measured, default 10), BENCH_PROFILE=1 (a CPU profile of the server, top self-time
// functions printed), BENCH_SERVER (dist or tsx), DATABASE_URL (run on PostgreSQL).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flagBody, GROUP_TYPE } from './lib/flags.ts';
import { api, createProjectWithCli, prepareEnvironment, serverModeFromEnv, startServer, stopServer, ADMIN_KEY, type Server } from './lib/flaghost.ts';
import { cleanupAll, installExitHandlers, interrupted, request } from './lib/processes.ts';
import { busyWindows, readProfile, snapshotSources, SourceMapper, summarize, summarizeBySrcFrame } from './lib/profile.ts';
import { loadConfig } from '../src/platform/config.ts';
import { openDatabase } from '../src/platform/db/index.ts';
import { featureFlags } from '../src/platform/db/schema.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FLAGS = Number(process.env.LARGE_FLAGS ?? 10_000);
const LIST_REQUESTS = Number(process.env.LARGE_LIST_REQUESTS ?? 200);
const CHANGES = Number(process.env.LARGE_CHANGES ?? 10);
const log = (line = '') => process.stdout.write(line + '\n');

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (n: number) => n.toFixed(1);

interface LoopDelay {
  maxMs: number;
  p99Ms: number;
  meanMs: number;
  gcMaxMs: number;
}

/** What the server's event-loop monitor saw since the last call. */
async function loopDelay(server: Server, file: string): Promise<LoopDelay> {
  fs.rmSync(file, { force: true });
  server.child.process.kill('SIGUSR2');
  for (let i = 0; i < 200; i++) {
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as LoopDelay;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the event-loop monitor did not answer');
}

async function metric(server: Server, name: string): Promise<number> {
  const res = await request(`${server.baseUrl}/metrics`);
  const line = res.body
    .toString('utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`flaghost large-project benchmark — node ${process.version}, ${os.cpus().length} CPUs, ${FLAGS.toLocaleString('en-US')} flags`);
  const env = await prepareEnvironment(root, process.env.BENCH_LOG_LEVEL || 'warn');
  const project = await createProjectWithCli(env, 'bench-large');

  // Seeded straight into the database before the server starts: 10,000 creates through the API
  // would measure the creates, not the project.
  let t = Date.now();
  const database = await openDatabase(loadConfig({ ...env.env }).database);
  try {
    const now = new Date();
    for (let from = 0; from < FLAGS; from += 1000) {
      const rows = [];
      for (let i = from; i < Math.min(FLAGS, from + 1000); i++) {
        const body = flagBody(i, `large`) as { key: string; name: string; filters: Record<string, unknown> };
        rows.push({ projectId: project.id, key: body.key, name: body.name, filters: body.filters, createdAt: now, updatedAt: now });
      }
      await database.db.insert(featureFlags).values(rows);
    }
  } finally {
    await database.close();
  }
  log(`${FLAGS.toLocaleString('en-US')} flags written to the database in ${((Date.now() - t) / 1000).toFixed(1)} s (${env.database})`);

  const loopFile = path.join(env.tempDir, 'loop.json');
  t = Date.now();
  const profiling = process.env.BENCH_PROFILE === '1';
  const sources = profiling ? snapshotSources(root) : new Map<string, string>();
  const server = await startServer(env, {
    profile: profiling,
    mode: serverModeFromEnv(),
    nodeArgs: ['--import', path.join(root, 'bench/lib/loop-monitor.mjs')],
    env: { BENCH_LOOP_FILE: loopFile },
  });
  await api(server, 'POST', `/api/projects/${project.id}/groups_types/`, { group_type: GROUP_TYPE, group_type_index: 0 });
  const defsUrl = `${server.baseUrl}/api/projects/${project.id}/feature_flags/local_evaluation?send_cohorts`;
  const auth = { authorization: `Bearer ${ADMIN_KEY}` };
  let first = await request(defsUrl, { headers: auth });
  log(`server up and first definitions (${(first.body.length / 1e6).toFixed(1)} MB) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const rssBefore = await metric(server, 'process_resident_memory_bytes');
  // The profile's clock (µs, monotonic) at this point: blocks before it belong to the start-up.
  const changesStartUs = Number(process.hrtime.bigint() / 1000n);

  // The list page, sequentially.
  const times: number[] = [];
  for (let i = 0; i < LIST_REQUESTS; i++) {
    const offset = (i * 100) % FLAGS;
    const s = performance.now();
    const res = await request(`${server.baseUrl}/api/projects/${project.id}/feature_flags/?limit=100&offset=${offset}`, { headers: auth });
    times.push(performance.now() - s);
    if (res.status !== 200) throw new Error(`list → ${res.status}`);
  }
  times.sort((a, b) => a - b);
  const listP99 = percentile(times, 99);
  log(
    `list page (limit 100): p50 ${ms(percentile(times, 50))} ms, p99 ${ms(listP99)} ms over ${LIST_REQUESTS} requests (target p99 ≤ 30 ms) ${listP99 <= 30 ? 'PASS' : 'FAIL'}`,
  );

  // Changes: PATCH a flag, then poll the definitions with the old ETag until they change.
  const served: number[] = [];
  const blocks: number[] = [];
  const gcPauses: number[] = [];
  for (let c = 0; c < CHANGES; c++) {
    first = await request(defsUrl, { headers: auth });
    const etag = String(first.headers.etag);
    const flags = (JSON.parse(first.body.toString('utf8')) as { flags: Array<{ id: number; key: string }> }).flags;
    const target = flags[(c * 997) % flags.length];
    await new Promise((r) => setTimeout(r, 200));
    await loopDelay(server, loopFile);
    const s = performance.now();
    const res = await request(`${server.baseUrl}/api/projects/${project.id}/feature_flags/${target.id}/`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `changed ${c}` }),
    });
    if (res.status !== 200) throw new Error(`PATCH → ${res.status}`);
    for (;;) {
      const poll = await request(defsUrl, { headers: { ...auth, 'if-none-match': etag } });
      if (poll.status === 200) break;
      if (performance.now() - s > 30_000) throw new Error('the definitions did not change within 30 s');
      await new Promise((r) => setTimeout(r, 2));
    }
    served.push(performance.now() - s);
    await new Promise((r) => setTimeout(r, 300));
    const delay = await loopDelay(server, loopFile);
    blocks.push(delay.maxMs);
    gcPauses.push(delay.gcMaxMs);
  }
  served.sort((a, b) => a - b);
  const worstServed = served[served.length - 1];
  const worstBlock = Math.max(...blocks);
  log(
    `after a PATCH, new definitions served in: median ${ms(percentile(served, 50))} ms, worst ${ms(worstServed)} ms (target ≤ 100 ms) ${worstServed <= 100 ? 'PASS' : 'FAIL'}`,
  );
  log(
    `longest event-loop block around a change (PATCH, rebuild, definitions): median ${ms(blocks.sort((a, b) => a - b)[Math.floor(blocks.length / 2)])} ms, worst ${ms(worstBlock)} ms (target ≤ 10 ms) ${worstBlock <= 10 ? 'PASS' : 'FAIL'}`,
  );
  gcPauses.sort((a, b) => a - b);
  log(`longest garbage-collection pause in the same windows: median ${ms(percentile(gcPauses, 50))} ms, worst ${ms(gcPauses[gcPauses.length - 1])} ms`);
  const rssAfter = await metric(server, 'process_resident_memory_bytes');
  log(`memory (RSS): ${(rssBefore / 1e6).toFixed(0)} MB after the first definitions, ${(rssAfter / 1e6).toFixed(0)} MB after ${CHANGES} changes`);
  await stopServer(server);
  const profile = server.profileDir ? readProfile(server.profileDir) : undefined;
  if (profile) {
    const summary = summarize(profile, [[0, Number.MAX_SAFE_INTEGER]], new SourceMapper(root, sources), 25);
    log(`\nCPU profile of the whole run: ${summary.samples} samples, idle ${summary.idlePercent.toFixed(1)} % (self time)`);
    for (const f of summary.top) log(`  ${f.percent.toFixed(1).padStart(5)} %  ${f.function.padEnd(30)} ${f.location}`);
    // The blocks themselves: busy stretches of 10 ms or more after the first definitions.
    const mapper = new SourceMapper(root, sources);
    const blocksUs = busyWindows(profile, 10_000).filter(([a]) => a >= changesStartUs);
    if (blocksUs.length > 0) {
      const lengths = blocksUs.map(([a, b]) => (b - a) / 1000).sort((a, b) => a - b);
      log(
        `\nbusy stretches of 10 ms or more during the list and changes: ${blocksUs.length}, longest ${ms(lengths[lengths.length - 1])} ms; inside them, by self time:`,
      );
      for (const f of summarize(profile, blocksUs, mapper, 15).top) log(`  ${f.percent.toFixed(1).padStart(5)} %  ${f.function.padEnd(30)} ${f.location}`);
      log('and by the innermost flaghost (src/) frame on the stack:');
      for (const f of summarizeBySrcFrame(profile, blocksUs, mapper, 15)) log(`  ${f.percent.toFixed(1).padStart(5)} %  ${f.frame}`);
    }
  }
  log(`whole run ${Math.round((Date.now() - started) / 1000)} s`);
}

installExitHandlers();
let code = 0;
try {
  await main();
} catch (err) {
  code = 1;
  if (!interrupted()) process.stderr.write(`\nbenchmark failed: ${(err as Error).stack ?? err}\n`);
} finally {
  await cleanupAll();
}
process.exit(code);

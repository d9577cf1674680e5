// `npx tsx bench/server-ab.ts`: the compiled server (`node dist/server.js`, what `npm start` and the
// Docker image run) against the sources through tsx (`node --import tsx src/server.ts`, what they ran
// before the compiled build), both running at once on the same data and loaded in alternating short rounds,
// so that a busy patch of the shared machine weighs on both alike. Reports the server's CPU time per
// `/flags` answer (from /proc, as `npm run bench` does) per round and its median, and the same for
// the bare reference server A sent the same POSTs.
//
// AB_ROUNDS (default 8) rounds of AB_SECONDS (default 2.5) per server and scenario, after
// BENCH_WARMUP (default 2) s of warm-up each; BENCH_CONNECTIONS (default 10); DATABASE_URL to run on
// PostgreSQL (both servers on one database) instead of PGlite (the seeded directory copied).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flagsRequestBodies } from './lib/flags.ts';
import { createProjectWithCli, prepareEnvironment, seedFlags, startServer, stopServer, type Server } from './lib/flaghost.ts';
import { run, warmUp, type LoadSettings, type LoadSpec } from './lib/load.ts';
import { cleanupAll, firstJsonLine, installExitHandlers, startChild } from './lib/processes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (line = '') => process.stdout.write(line + '\n');
const num = (name: string, def: number) => (process.env[name] ? Number(process.env[name]) : def);
const rounds = Math.max(1, Math.round(num('AB_ROUNDS', 8)));
const roundS = num('AB_SECONDS', 2.5);
const settings: LoadSettings = {
  connections: Math.max(1, Math.round(num('BENCH_CONNECTIONS', 10))),
  durationS: roundS * rounds,
  warmupS: num('BENCH_WARMUP', 2),
  rounds,
};

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  installExitHandlers();
  const env = await prepareEnvironment(root, 'warn');
  const p50 = await createProjectWithCli(env, 'ab-50-flags');
  const p200 = await createProjectWithCli(env, 'ab-200-flags');
  const seeding = await startServer(env, { profile: false, mode: 'dist' });
  await seedFlags(seeding, p50, 50);
  await seedFlags(seeding, p200, 200);
  await stopServer(seeding);
  const tsxEnv = { ...env, env: { ...env.env } };
  if (env.database === 'pglite') {
    const copy = path.join(env.tempDir, 'data-tsx');
    fs.cpSync(env.env.FLAGHOST_DATA_DIR!, copy, { recursive: true });
    tsxEnv.env.FLAGHOST_DATA_DIR = copy;
  }
  const servers: Record<string, Server> = {
    dist: await startServer(env, { profile: false, mode: 'dist' }),
    tsx: await startServer(tsxEnv, { profile: false, mode: 'tsx' }),
  };
  const okFile = path.join(env.tempDir, 'ok.json');
  fs.writeFileSync(okFile, '{"ok":true}');
  const ref = startChild('reference A', process.execPath, [path.join(root, 'bench/reference-server.mjs'), okFile], { cwd: root });
  const { port: refPort } = await firstJsonLine<{ port: number }>(ref);

  const headers = { 'content-type': 'application/json', 'user-agent': 'posthog-node/5.70.0' };
  log(`node ${process.version}, ${settings.connections} connections, ${rounds} rounds of ${roundS} s per server and scenario, ${env.database}`);
  log('');
  log('| scenario | server | CPU µs per answer: median (per round) | req/s (median) |');
  log('| --- | --- | --- | --- |');
  for (const [name, project, count] of [
    ['flags-50', p50, 50],
    ['flags-200', p200, 200],
  ] as const) {
    const bodies = flagsRequestBodies(project.apiToken, 4_096);
    const specs: Record<string, LoadSpec> = {};
    for (const [id, s] of Object.entries(servers)) {
      specs[id] = { url: `${s.baseUrl}/flags?v=2`, method: 'POST', headers, bodies, expectStatus: 200, serverPid: s.child.process.pid };
    }
    specs.refA = { url: `http://127.0.0.1:${refPort}/`, method: 'POST', headers, bodies, expectStatus: 200, serverPid: ref.process.pid };
    for (const spec of Object.values(specs)) await warmUp(spec, settings);
    const cpu: Record<string, number[]> = { dist: [], tsx: [], refA: [] };
    const rps: Record<string, number[]> = { dist: [], tsx: [], refA: [] };
    for (let r = 0; r < rounds; r++) {
      // A B ref, then B A ref: neither server always runs right after the other.
      const order = r % 2 ? ['tsx', 'dist', 'refA'] : ['dist', 'tsx', 'refA'];
      for (const id of order) {
        const sample = await run(specs[id], settings, roundS);
        const answers = sample.latencies.length;
        const wrong = Object.keys(sample.statuses).filter((code) => code !== '200');
        if (!answers || wrong.length || sample.errors)
          throw new Error(`${name} ${id}: ${answers} answers, statuses ${JSON.stringify(sample.statuses)}, ${sample.errors} errors`);
        cpu[id].push(((sample.serverCpuMs ?? NaN) * 1000) / answers);
        rps[id].push(answers / sample.seconds);
      }
    }
    for (const id of ['dist', 'tsx', 'refA']) {
      const label = id === 'dist' ? 'node dist/server.js' : id === 'tsx' ? 'node --import tsx src/server.ts' : 'reference A (node:http)';
      log(
        `| ${name} (${count} flags) | ${label} | ${median(cpu[id]).toFixed(1)} (${cpu[id].map((c) => c.toFixed(0)).join(' ')}) | ${Math.round(median(rps[id]))} |`,
      );
    }
    const perRound = cpu.tsx.map((t, i) => t / cpu.dist[i]);
    log(`| ${name} | tsx ÷ dist, per round | ${median(perRound).toFixed(3)} (${perRound.map((x) => x.toFixed(2)).join(' ')}) | |`);
  }
  await cleanupAll();
}

main().then(
  () => process.exit(0),
  async (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    await cleanupAll();
    process.exit(1);
  },
);

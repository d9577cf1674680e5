// `npm run bench:startup`: how long flaghost takes from being spawned to its first HTTP answer, on an
// empty PGlite data directory (initdb, migrations, first-start bootstrap) and on an existing one.
// Each way of starting it is run STARTUP_RUNS times (default 5), the ways alternating so that a busy
// patch of the machine weighs on all of them alike; the table shows the median and the range of the
// wall-clock time, and the median CPU time the started processes used until that answer (user +
// system, all their threads and child processes, from /proc): on a shared machine the CPU time
// moves much less than the wall-clock time.
//
// STARTUP_MODES (comma list, default dist,tsx): dist = `node --enable-source-maps dist/server.js`
// (the Docker image; `npm start` after its check), tsx = `node --import tsx src/server.ts` (the
// Docker image before the compiled build), tsx-cli = `tsx src/server.ts` (`npm start` before), npm-start
// = `npm start` as package.json says now (npm's own start-up included).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './lib/processes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (line = '') => process.stdout.write(line + '\n');

const MODES: Record<string, { label: string; command: string[] }> = {
  dist: { label: 'node --enable-source-maps dist/server.js', command: [process.execPath, '--enable-source-maps', 'dist/server.js'] },
  tsx: { label: 'node --import tsx src/server.ts', command: [process.execPath, '--import', 'tsx', 'src/server.ts'] },
  'tsx-cli': { label: 'tsx src/server.ts', command: [path.join(root, 'node_modules/.bin/tsx'), 'src/server.ts'] },
  'npm-start': { label: 'npm start', command: ['npm', 'start', '--silent'] },
};

const runs = Math.max(1, Number(process.env.STARTUP_RUNS ?? 5) || 5);
const modes = (process.env.STARTUP_MODES ?? 'dist,tsx')
  .split(',')
  .map((m) => m.trim())
  .filter(Boolean);
for (const m of modes) if (!MODES[m]) throw new Error(`unknown STARTUP_MODES entry ${m}; known: ${Object.keys(MODES).join(', ')}`);

const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-startup-'));
let current: ChildProcess | undefined;
const cleanup = () => {
  // The child leads its own process group (npm start has children of its own).
  if (current?.pid && current.exitCode === null) process.kill(-current.pid, 'SIGKILL');
  fs.rmSync(tempDir, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/flags?v=2', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
    });
    req.on('error', () => resolve(false));
  });
}

const CLOCK_TICKS_PER_S = 100;

/**
 * CPU time (ms) of a process group: every live member's own time and that of its finished children
 * (npm start's `prestart`, for one). Linux only.
 */
function groupCpuMs(pgid: number): number {
  let ticks = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // After "pid (comm) ": state, ppid, pgrp, …, utime (14), stime, cutime, cstime (17).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) !== pgid) continue;
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_S;
}

/** From spawn to the first HTTP answer (any status): wall-clock and CPU ms; the server is stopped after. */
async function timeToFirstAnswer(mode: string, dataDir: string): Promise<{ wall: number; cpu: number }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, FLAGHOST_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.NODE_OPTIONS;
  const [command, ...args] = MODES[mode].command;
  let output = '';
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  current = child;
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (await answers(port)) return { wall: Number(process.hrtime.bigint() - started) / 1e6, cpu: groupCpuMs(child.pid!) };
      if (child.exitCode !== null) throw new Error(`${MODES[mode].label} exited with ${child.exitCode}:\n${output}`);
      if (Number(process.hrtime.bigint() - started) > 120e9) throw new Error(`${MODES[mode].label} did not answer in 120 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    current = undefined;
  }
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

log(`flaghost start-up to first answer — node ${process.version}, ${os.cpus().length} CPUs, ${runs} runs per mode, PGlite`);
// The existing data directory: made once, then every measured start opens it again.
const existing = path.join(tempDir, 'existing');
await timeToFirstAnswer(modes[0], existing);
const results = new Map(
  modes.flatMap((m) => [
    [`${m}:empty`, [] as Array<{ wall: number; cpu: number }>],
    [`${m}:existing`, [] as Array<{ wall: number; cpu: number }>],
  ]),
);
for (let i = 0; i < runs; i++) {
  for (const mode of modes) {
    results.get(`${mode}:empty`)!.push(await timeToFirstAnswer(mode, path.join(tempDir, `empty-${mode}-${i}`)));
    results.get(`${mode}:existing`)!.push(await timeToFirstAnswer(mode, existing));
  }
}
log('');
log('| command | empty data dir: wall median (min–max), CPU median | existing data dir: wall median (min–max), CPU median |');
log('| --- | --- | --- |');
const cell = (runs: Array<{ wall: number; cpu: number }>) => {
  const wall = runs.map((r) => r.wall);
  return `${Math.round(median(wall))} ms (${Math.round(Math.min(...wall))}–${Math.round(Math.max(...wall))}), CPU ${Math.round(median(runs.map((r) => r.cpu)))} ms`;
};
for (const mode of modes) {
  log(`| \`${MODES[mode].label}\` | ${cell(results.get(`${mode}:empty`)!)} | ${cell(results.get(`${mode}:existing`)!)} |`);
}

// Load measurements: autocannon in this process (the load generator, on the other core). Every
// answer's status is checked and its latency recorded (autocannon's own histogram keeps whole
// milliseconds and only 2xx answers, which would hide the 304 scenario).
import fs from 'node:fs';
import autocannon, { type Options, type RawRequest } from 'autocannon';

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Request bodies, sent in turn (one per request). */
  bodies?: string[];
  /** The status every answer must have. */
  expectStatus: number;
  /** The server's process id, to read the CPU time it spends (Linux /proc). */
  serverPid?: number;
}

const CLOCK_TICKS_PER_S = 100;

/** User + system CPU time of a process (all its threads) in ms, from /proc; undefined elsewhere. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

export interface LoadSettings {
  connections: number;
  /** Measured seconds per scenario, split over the rounds. */
  durationS: number;
  warmupS: number;
  /** Rounds a group of scenarios (a reference and what is divided by it) alternates in. */
  rounds: number;
}

/** One autocannon run. */
export interface Sample {
  seconds: number;
  latencies: Float64Array;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** CPU time the server process spent during the run (ms), when known. */
  serverCpuMs?: number;
  /** process.hrtime of the run's start and end, in µs (to cut a CPU profile). */
  windowUs: [number, number];
}

export interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Per-round req/s, to see the noise. */
  roundsRps: number[];
  /** Server CPU time per answer (µs): steadier than req/s on a shared machine. */
  cpuUsPerRequest?: number;
  /** Server CPU use during the runs, in % of one core (100 = saturated). */
  cpuPercent?: number;
  /** Status code → count, over the measured runs. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Why the measurement cannot be trusted (wrong status codes, errors), if it can't. */
  invalid?: string;
  windowsUs: Array<[number, number]>;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

function options(spec: LoadSpec, settings: LoadSettings, duration: number): Options {
  const base: Options = {
    url: spec.url,
    connections: settings.connections,
    pipelining: 1,
    duration,
    timeout: 10,
    method: spec.method ?? 'GET',
    headers: spec.headers,
  };
  const bodies = spec.bodies;
  if (!bodies || bodies.length === 0) return base;
  if (bodies.length === 1) return { ...base, body: bodies[0] };
  let i = 0;
  return {
    ...base,
    requests: [
      {
        method: spec.method ?? 'POST',
        headers: spec.headers,
        setupRequest: (req: RawRequest) => ({ ...req, body: bodies[i++ % bodies.length] }),
      },
    ],
  };
}

/** One run of `seconds`, answers recorded. */
export async function run(spec: LoadSpec, settings: LoadSettings, seconds: number): Promise<Sample> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const cpuBefore = processCpuMs(spec.serverPid);
  const start = nowUs();
  const instance = autocannon(options(spec, settings, seconds));
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
    statuses[status] = (statuses[status] ?? 0) + 1;
  });
  const result = await instance;
  const end = nowUs();
  const cpuAfter = processCpuMs(spec.serverPid);
  return {
    serverCpuMs: cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined,
    seconds: result.duration || (end - start) / 1e6,
    latencies: Float64Array.from(latencies),
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    windowUs: [start, end],
  };
}

export async function warmUp(spec: LoadSpec, settings: LoadSettings): Promise<void> {
  if (settings.warmupS > 0) await autocannon(options(spec, settings, settings.warmupS));
}

/** The runs of one scenario as one measurement: req/s over their total time, merged latencies. */
export function combine(spec: LoadSpec, samples: Sample[]): Measurement {
  const all = new Float64Array(samples.reduce((n, s) => n + s.latencies.length, 0));
  let offset = 0;
  for (const s of samples) {
    all.set(s.latencies, offset);
    offset += s.latencies.length;
  }
  all.sort();
  const percentile = (p: number) => (all.length ? all[Math.min(all.length - 1, Math.max(0, Math.ceil((p / 100) * all.length) - 1))] : 0);
  const statuses: Record<string, number> = {};
  for (const s of samples) for (const [code, n] of Object.entries(s.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const errors = samples.reduce((n, s) => n + s.errors, 0);
  const timeouts = samples.reduce((n, s) => n + s.timeouts, 0);
  const seconds = samples.reduce((n, s) => n + s.seconds, 0);
  const problems: string[] = [];
  const wrong = Object.entries(statuses).filter(([code]) => Number(code) !== spec.expectStatus);
  if (wrong.length) problems.push(`unexpected status ${wrong.map(([c, n]) => `${c}×${n}`).join(', ')} (expected ${spec.expectStatus})`);
  if (errors) problems.push(`${errors} errors`);
  if (timeouts) problems.push(`${timeouts} timeouts`);
  if (!all.length) problems.push('no answers');
  const cpuKnown = samples.every((s) => s.serverCpuMs !== undefined);
  const cpuMs = samples.reduce((n, s) => n + (s.serverCpuMs ?? 0), 0);
  const wallMs = samples.reduce((n, s) => n + (s.windowUs[1] - s.windowUs[0]) / 1000, 0);
  return {
    cpuUsPerRequest: cpuKnown && all.length ? (cpuMs * 1000) / all.length : undefined,
    cpuPercent: cpuKnown && wallMs > 0 ? (100 * cpuMs) / wallMs : undefined,
    rps: seconds > 0 ? all.length / seconds : 0,
    p50: percentile(50),
    p99: percentile(99),
    requests: all.length,
    roundsRps: samples.map((s) => (s.seconds > 0 ? s.latencies.length / s.seconds : 0)),
    statuses,
    errors,
    timeouts,
    invalid: problems.length ? problems.join('; ') : undefined,
    windowsUs: samples.map((s) => s.windowUs),
  };
}

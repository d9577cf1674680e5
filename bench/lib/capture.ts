// Capture traffic for the person and ingestion benchmarks: events shaped as posthog-node and
// posthog-js send them, posted to /batch/ over keep-alive connections by parallel senders, and
// the figures a flaghost process spends on them (CPU from /proc, per-second acknowledged events).
import crypto from 'node:crypto';
import http from 'node:http';
import { processCpuMs } from './load.ts';

type Json = Record<string, unknown>;

/** The stored properties of seeded person `i` (what the person flags of bench/persons.ts read). */
export function seededProperties(i: number): Json {
  return {
    email: i % 4 === 0 ? `user${i}@corp.example` : `user${i}@example.com`,
    plan: ['free', 'pro', 'enterprise'][i % 3],
    country: ['US', 'CA', 'DE', 'GB', 'FR'][i % 5],
    app_version: ['2.3.1', '1.9.0', '2.1.4'][i % 3],
    age: 18 + (i % 50),
    sessions: i % 200,
  };
}

export const seededDistinctId = (i: number): string => `person-${i}`;

/**
 * The events that create seeded person `i`: posthog-node's `identify()` (a `$identify` with
 * `$set`) for even persons, posthog-js's `setPersonProperties()` (a `$set` event with `$set` and
 * `$set_once`) for odd ones.
 */
export function seedEvent(i: number, timestamp: string): Json {
  const props = seededProperties(i);
  if (i % 2 === 0) {
    return {
      event: '$identify',
      distinct_id: seededDistinctId(i),
      uuid: crypto.randomUUID(),
      timestamp,
      properties: { $set: props, $lib: 'posthog-node', $lib_version: '5.70.0', $geoip_disable: true },
    };
  }
  return {
    event: '$set',
    distinct_id: seededDistinctId(i),
    uuid: crypto.randomUUID(),
    timestamp,
    properties: { $set: props, $set_once: { first_seen_plan: props.plan }, $lib: 'web', $lib_version: '1.260.0' },
  };
}

/** A `$set` as posthog-node's `capture({event: '$set', properties: {$set}})` sends it. */
export function setEvent(distinctId: string, set: Json): Json {
  return {
    event: '$set',
    distinct_id: distinctId,
    uuid: crypto.randomUUID(),
    timestamp: new Date().toISOString(),
    properties: { $set: set, $lib: 'posthog-node' },
  };
}

export interface PostResult {
  status: number;
  body: string;
}

/** POSTs over a keep-alive agent (the senders' connections are reused, as SDKs do). */
export function post(agent: http.Agent, baseUrl: string, path: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<PostResult> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error(`timeout: POST ${path}`)));
    req.end(body);
  });
}

export interface SendFigures {
  seconds: number;
  requests: number;
  events: number;
  /** Events acknowledged in each whole second of the run. */
  perSecond: number[];
  /** CPU time of the server process during the run (ms), when known. */
  serverCpuMs?: number;
  /** Capture request latencies (ms), sorted. */
  latencies: number[];
  windowUs: [number, number];
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Sends every body once from `senders` parallel connections (a request waits for the previous
 * answer of its sender, as an SDK's flush does); every answer must be 200.
 */
export async function sendAll(
  baseUrl: string,
  bodies: Array<{ body: Buffer; events: number; headers?: Record<string, string> }>,
  senders: number,
  serverPid: number | undefined,
  onProgress?: (done: number) => void,
): Promise<SendFigures> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: senders });
  const perSecond: number[] = [];
  const latencies: number[] = [];
  let next = 0;
  let events = 0;
  const cpuBefore = processCpuMs(serverPid);
  const start = nowUs();
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: senders }, async () => {
        while (next < bodies.length) {
          const item = bodies[next++];
          const t0 = performance.now();
          const res = await post(agent, baseUrl, '/batch/', item.body, item.headers);
          if (res.status !== 200) throw new Error(`POST /batch/ → ${res.status}: ${res.body.slice(0, 300)}`);
          const t1 = performance.now();
          latencies.push(t1 - t0);
          const second = Math.floor((t1 - started) / 1000);
          while (perSecond.length <= second) perSecond.push(0);
          perSecond[second] += item.events;
          events += item.events;
          onProgress?.(events);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  const end = nowUs();
  const cpuAfter = processCpuMs(serverPid);
  latencies.sort((a, b) => a - b);
  return {
    seconds: (end - start) / 1e6,
    requests: bodies.length,
    events,
    perSecond,
    serverCpuMs: cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined,
    latencies,
    windowUs: [start, end],
  };
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  if (!v.length) return 0;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * CPU time (ms) of each PostgreSQL backend connected to `database`, by process id, read from
 * /proc (the server runs on this machine). The difference of two readings is what the database
 * spent on flaghost's statements in between (backends that ended meanwhile are missed).
 */
export async function databaseCpu(connectionString: string): Promise<Map<number, number>> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    const out = new Map<number, number>();
    for (const { pid } of rows) {
      const ms = processCpuMs(pid);
      if (ms !== undefined) out.set(pid, ms);
    }
    return out;
  } finally {
    await client.end();
  }
}

export function cpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

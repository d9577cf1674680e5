// What GET /metrics reports, in Prometheus's text format (README "Metrics"): requests by route,
// method and status with their latency, the SDK answers, snapshots, the database, ingestion, rate
// limits and Node's process metrics. One registry per app (tests build several in one process).
// Requests are counted as they are answered; everything else is read from the services' own
// counters when Prometheus scrapes, so it costs nothing in between.
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../platform/db/index.ts';
import { PACKAGE_ROOT } from '../platform/paths.ts';
import type { SnapshotStore } from '../sdk/snapshots.ts';
import type { EventIngestor } from '../ingestion/ingestor.ts';
import type { RateLimits } from '../access/rate-limit.ts';
import { RequestHistogram } from './request-histogram.ts';

export interface MetricSources {
  database: Database;
  snapshots: SnapshotStore;
  ingestion: EventIngestor;
  rateLimits: RateLimits;
}

type Labels = Record<string, string | number>;
type HotPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The route label of a request no route matched (a 404): one series, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Request latency buckets, in seconds: the hot path answers in well under a millisecond. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REBUILD_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const DEFINITIONS_ROUTES = new Set(['/flags/definitions', '/api/feature_flag/local_evaluation', '/api/projects/:project_id/feature_flags/local_evaluation']);

/** The paths src/sdk/hot-path.ts answers, as the route label the Fastify route for the same endpoint has. */
const HOT_PATH_ROUTES = new Map<string, string>();
for (const route of ['/flags', '/decide', '/flags/definitions', '/api/feature_flag/local_evaluation']) {
  HOT_PATH_ROUTES.set(route, route);
  HOT_PATH_ROUTES.set(`${route}/`, route);
}

function hotPathRoute(url: string | undefined): string {
  const q = url ? url.indexOf('?') : -1;
  return HOT_PATH_ROUTES.get(q < 0 ? (url ?? '') : url!.slice(0, q)) ?? UNMATCHED_ROUTE;
}

function packageVersion(): string {
  try {
    return String(JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version);
  } catch {
    return 'unknown';
  }
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new RequestHistogram(
    'flaghost_http_request_duration_seconds',
    'Requests answered, by route pattern, method and status, and how long each took from its arrival to its answer (the SDK hot path included).',
    REQUEST_BUCKETS,
  );
  private readonly definitionsAnswers = new Map<number, number>();

  constructor(private readonly sources: MetricSources) {
    const { registry } = this;
    collectDefaultMetrics({ register: registry });
    registry.registerMetric(this.requests.asMetric());
    const version = packageVersion();
    this.gauge('flaghost_build_info', 'The running flaghost version (always 1).', ['version'], () => [[{ version }, 1]]);
    this.sdkMetrics();
    this.snapshotMetrics();
    this.databaseMetrics();
    this.ingestionMetrics();
    this.counter('flaghost_rate_limit_refusals_total', 'Requests refused with 429, by bucket (README "Rate limits").', ['bucket'], () => {
      const { personalKeys, definitions, remoteConfig } = sources.rateLimits;
      return [
        [{ bucket: 'personal_api_key' }, personalKeys.refused],
        [{ bucket: 'definitions' }, definitions.refused],
        [{ bucket: 'remote_config' }, remoteConfig.refused],
      ];
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** One answered request. `route` is the route's pattern, never the raw URL, so series stay few. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.requests.observe(route, method, status, seconds);
    if (DEFINITIONS_ROUTES.has(route)) this.definitionsAnswers.set(status, (this.definitionsAnswers.get(status) ?? 0) + 1);
  }

  /** Requests of one series so far. */
  requestCount(route: string, method: string, status: number): number {
    return this.requests.count(route, method, status);
  }

  /**
   * The hot path, measured: the time it is offered a request, and once its answer is written
   * (`finish`), route, status and latency. Requests it leaves to Fastify are measured there.
   */
  observeHotPath(hotPath: HotPath): HotPath {
    return (req, res) => {
      const started = performance.now();
      if (!hotPath(req, res)) return false;
      res.on('finish', () => this.observeRequest(hotPathRoute(req.url), req.method ?? 'GET', res.statusCode, (performance.now() - started) / 1000));
      return true;
    };
  }

  private sdkMetrics(): void {
    const { snapshots } = this.sources;
    this.counter('flaghost_flag_evaluations_total', 'Flags evaluated for /flags and /decide answers, by project.', ['project_id'], () =>
      snapshots.states().map((s) => [{ project_id: s.projectId }, s.usage.flagsEvaluated]),
    );
    this.counter(
      'flaghost_definitions_answers_total',
      'Local-evaluation definitions answers, by status (200 with the body, 304 not modified).',
      ['status'],
      () => [...this.definitionsAnswers].map(([status, n]) => [{ status }, n]),
    );
  }

  private snapshotMetrics(): void {
    const { snapshots } = this.sources;
    const rebuilds = new Histogram({
      name: 'flaghost_snapshot_rebuild_duration_seconds',
      help: 'How long building a project snapshot took (after a change, a missed notification, a start).',
      labelNames: ['project_id'],
      buckets: REBUILD_BUCKETS,
      registers: [this.registry],
    });
    const failures = new Counter({
      name: 'flaghost_snapshot_rebuild_failures_total',
      help: 'Snapshot builds that failed (the last snapshot stays in service).',
      labelNames: ['project_id'],
      registers: [this.registry],
    });
    snapshots.onRebuilt((projectId, seconds, ok) => {
      if (ok) rebuilds.observe({ project_id: projectId }, seconds);
      else failures.inc({ project_id: projectId });
    });
    this.gauge(
      'flaghost_snapshot_age_seconds',
      'Seconds since the project snapshot in service was last known current (built, or checked against the database).',
      ['project_id'],
      () => {
        const now = Date.now();
        return snapshots
          .states()
          .flatMap((s) => (s.verifiedAt === undefined ? [] : [[{ project_id: s.projectId }, (now - s.verifiedAt) / 1000] as [Labels, number]]));
      },
    );
  }

  private databaseMetrics(): void {
    const { database } = this.sources;
    this.gauge(
      'flaghost_db_available',
      'Whether the database answers (0 during an outage, from the first failed probe until one succeeds).',
      ['driver'],
      () => [[{ driver: database.kind }, database.health.available ? 1 : 0]],
    );
    this.counter(
      'flaghost_db_query_errors_total',
      'Connects and statements that failed: unavailable (refused, dropped, not answering), timeout, refused (an error from the server).',
      ['kind'],
      () => Object.entries(database.stats().queryErrors).map(([kind, n]) => [{ kind }, n]),
    );
    if (database.kind !== 'postgres') return;
    const pool = () => database.stats().pool!;
    this.gauge('flaghost_db_pool_connections', 'PostgreSQL connections open in the pool, idle ones included.', [], () => [[{}, pool().total]]);
    this.gauge('flaghost_db_pool_idle_connections', 'Open pool connections no request is using.', [], () => [[{}, pool().idle]]);
    this.gauge('flaghost_db_pool_waiting_clients', 'Queries waiting for a pool connection.', [], () => [[{}, pool().waiting]]);
    this.gauge('flaghost_db_pool_max_connections', 'The pool size (FLAGHOST_DB_POOL_SIZE).', [], () => [[{}, pool().max]]);
  }

  private ingestionMetrics(): void {
    const { ingestion } = this.sources;
    this.gauge('flaghost_ingestion_queue_events', 'Captured events accepted and not yet committed (queued or being written).', [], () => [
      [{}, ingestion.totals().pending],
    ]);
    this.gauge('flaghost_ingestion_lag_seconds', 'Seconds since the oldest event not yet committed was accepted (0: none waiting).', [], () => [
      [{}, ingestion.totals().lagSeconds],
    ]);
    this.counter('flaghost_ingestion_events_received_total', 'Entries in capture requests, malformed ones included.', [], () => [
      [{}, ingestion.totals().received],
    ]);
    this.counter('flaghost_ingestion_events_stored_total', 'Captured events committed.', [], () => [[{}, ingestion.totals().ingested]]);
    this.counter(
      'flaghost_ingestion_events_dropped_total',
      'Captured events not stored: duplicate (uuid seen within the dedup window), malformed, failed (the request was answered 503; SDKs retry).',
      ['reason'],
      () => {
        const t = ingestion.totals();
        return [
          [{ reason: 'duplicate' }, t.duplicates],
          [{ reason: 'malformed' }, t.malformed],
          [{ reason: 'failed' }, t.failed],
        ];
      },
    );
    this.counter('flaghost_ingestion_batches_total', 'Ingestion transactions, by outcome.', ['outcome'], () => {
      const t = ingestion.totals();
      return [
        [{ outcome: 'committed' }, t.batches],
        [{ outcome: 'failed' }, t.failedBatches],
      ];
    });
    this.counter('flaghost_ingestion_batch_retries_total', 'Ingestion transactions retried after meeting a concurrent writer.', [], () => [
      [{}, ingestion.totals().retries],
    ]);
  }

  /** A counter whose values are read from live totals at each scrape. */
  private counter(name: string, help: string, labelNames: string[], read: () => Array<[Labels, number]>): void {
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc(labels, value);
      },
    });
  }

  /** A gauge read from live state at each scrape. */
  private gauge(name: string, help: string, labelNames: string[], read: () => Array<[Labels, number]>): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  }
}

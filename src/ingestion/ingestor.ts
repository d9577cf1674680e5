// Capture ingestion with group commit: a capture request hands its events to the ingestor and
// waits; the ingestor writes everything that arrived meanwhile in one transaction per project
// (dedup by uuid, persons, flag usage, last_called_at, groups) and only then answers the waiting
// requests. So an acknowledged event is committed (a crash loses nothing acknowledged), the
// database sees a few large transactions instead of one per event, and close() drains what was
// accepted before the process exits.
import type { Logger } from 'pino';
import type { AppContext } from '../platform/context.ts';
import type { CaptureRequest } from './capture.ts';
import { normalizeEvent, type IngestEvent, type MalformedReason } from './events.ts';
import type { SnapshotStore } from '../sdk/snapshots.ts';
import { isSerializationFailure, isUniqueViolation, pgErrorCode } from '../platform/db/errors.ts';
import { purgeEventUuids } from './usage-repository.ts';
import { ServiceUnavailableError } from '../platform/errors.ts';
import { RetryBatch, writeBatch } from './batch-writer.ts';

/** How long the first waiting request waits for others to join its batch. */
const FLUSH_DELAY_MS = 10;
/** A batch closes at this many events (a larger single request is split into parts). */
const MAX_BATCH_EVENTS = 2000;
/** Events normalized between two yields to the event loop. */
const NORMALIZE_SLICE = 500;
/** Attempts of one batch when a concurrent writer (another instance, /flags) got in the way. */
const MAX_ATTEMPTS = 6;
const PURGE_INTERVAL_MS = 10 * 60 * 1000;
/** First argument of the two-key advisory lock that serializes ingestion per project. */

export interface IngestionCounters {
  /** Events in requests, malformed ones included. */
  received: number;
  /** Events recorded (new uuids, or no uuid). */
  ingested: number;
  /** Events skipped because their uuid was ingested within the dedup window. */
  duplicates: number;
  /** Entries skipped because they were not usable events. */
  malformed: number;
  malformedReasons: Partial<Record<MalformedReason, number>>;
  /** PostHog's ingestion warnings (refused merges…). */
  warnings: Record<string, number>;
}

export interface IngestionStats extends IngestionCounters {
  since: string;
  batches: number;
  retries: number;
  failedBatches: number;
  lastBatchMs: number | null;
}

interface Deferred {
  resolve(): void;
  reject(error: unknown): void;
}

interface Part {
  projectId: number;
  events: IngestEvent[];
  done: Deferred;
  /** performance.now() when the part was queued (the ingestion lag). */
  queuedAt: number;
}

/**
 * What /metrics reports, over every project: events pending (queued or being written) and seconds
 * since the oldest of them was queued, and what became of the others (`failed`: in requests
 * answered 503 because their batch could not be written).
 */
export interface IngestionTotals extends Pick<IngestionStats, 'received' | 'ingested' | 'duplicates' | 'malformed' | 'batches' | 'retries' | 'failedBatches'> {
  pending: number;
  lagSeconds: number;
  failed: number;
}

const newCounters = (): IngestionCounters => ({ received: 0, ingested: 0, duplicates: 0, malformed: 0, malformedReasons: {}, warnings: {} });

const unavailable = () => new ServiceUnavailableError('Events could not be stored right now. Please retry.');

const isRetryable = (error: unknown): boolean =>
  error instanceof RetryBatch || isSerializationFailure(error) || isUniqueViolation(error) || pgErrorCode(error) === '23503';

export class EventIngestor {
  private queue: Part[] = [];
  private queuedEvents = 0;
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private closed = false;
  private lastPurge = 0;
  private readonly startedAt: Date;
  private readonly perProject = new Map<number, IngestionCounters>();
  private batches = 0;
  private retries = 0;
  private failedBatches = 0;
  private lastBatchMs: number | null = null;
  private failedEvents = 0;
  /** The batch being written: its size and when its oldest part was queued. */
  private writing = { events: 0, since: 0 };

  constructor(
    private readonly ctx: AppContext,
    private readonly snapshots: SnapshotStore,
    private readonly log?: Pick<Logger, 'info' | 'warn' | 'error'>,
  ) {
    this.startedAt = ctx.now();
  }

  private counters(projectId: number): IngestionCounters {
    let c = this.perProject.get(projectId);
    if (!c) this.perProject.set(projectId, (c = newCounters()));
    return c;
  }

  /**
   * Records a capture request's events; resolves once they are committed. Malformed entries are
   * counted and skipped. Rejects with a 503 when the events could not be stored (the SDK retries).
   */
  async submit(projectId: number, capture: CaptureRequest): Promise<void> {
    if (this.closed) throw unavailable();
    const counters = this.counters(projectId);
    const now = this.ctx.now();
    const events: IngestEvent[] = [];
    const malformed: Partial<Record<MalformedReason, number>> = capture.malformed ? { not_an_event: capture.malformed } : {};
    for (let i = 0; i < capture.events.length; i++) {
      // A large batch is normalized in slices: other requests are served in between.
      if (i > 0 && i % NORMALIZE_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      const normalized = normalizeEvent(capture.events[i], capture.sentAt, now);
      if (normalized.ok) events.push(normalized.event);
      else malformed[normalized.reason] = (malformed[normalized.reason] ?? 0) + 1;
    }
    counters.received += capture.events.length + capture.malformed;
    const skipped = Object.values(malformed).reduce((a, b) => a + b, 0);
    if (skipped) {
      counters.malformed += skipped;
      for (const [reason, n] of Object.entries(malformed) as Array<[MalformedReason, number]>)
        counters.malformedReasons[reason] = (counters.malformedReasons[reason] ?? 0) + n;
      this.log?.warn({ projectId, skipped, reasons: malformed }, 'capture: skipped malformed events');
    }
    if (!events.length) return;
    // The server may have begun closing while a large batch was being normalized.
    if (this.closed) throw unavailable();
    const parts: Promise<void>[] = [];
    for (let i = 0; i < events.length; i += MAX_BATCH_EVENTS) {
      parts.push(
        new Promise<void>((resolve, reject) => {
          const chunk = events.slice(i, i + MAX_BATCH_EVENTS);
          this.queue.push({ projectId, events: chunk, done: { resolve, reject }, queuedAt: performance.now() });
          this.queuedEvents += chunk.length;
        }),
      );
    }
    this.schedule();
    await Promise.all(parts);
  }

  private schedule(): void {
    if (this.draining) return; // the running drain picks new parts up when its batch is done
    if (this.queuedEvents >= MAX_BATCH_EVENTS || this.closed) {
      this.startDrain();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.startDrain(), FLUSH_DELAY_MS);
    }
  }

  private startDrain(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.draining || !this.queue.length) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length) this.schedule();
    });
  }

  /** Writes queued parts batch after batch until the queue is empty. */
  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch: Part[] = [];
      let size = 0;
      while (this.queue.length && (size === 0 || size + this.queue[0].events.length <= MAX_BATCH_EVENTS)) {
        const part = this.queue.shift()!;
        batch.push(part);
        size += part.events.length;
      }
      this.queuedEvents -= size;
      this.writing = { events: size, since: batch[0].queuedAt };
      const byProject = new Map<number, Part[]>();
      for (const part of batch) byProject.set(part.projectId, [...(byProject.get(part.projectId) ?? []), part]);
      for (const [projectId, parts] of byProject) await this.writeParts(projectId, parts);
      this.writing = { events: 0, since: 0 };
      await this.maybePurge();
    }
  }

  private async writeParts(projectId: number, parts: Part[]): Promise<void> {
    try {
      await this.writeWithRetry(
        projectId,
        parts.flatMap((p) => p.events),
      );
      for (const part of parts) part.done.resolve();
    } catch (error) {
      if (parts.length > 1) {
        // Isolate the request that cannot be written: the others must not fail with it.
        for (const part of parts) await this.writeParts(projectId, [part]);
        return;
      }
      this.failedBatches++;
      this.failedEvents += parts[0].events.length;
      this.log?.error({ err: error, projectId, events: parts[0].events.length }, 'capture: events could not be stored');
      parts[0].done.reject(unavailable());
    }
  }

  private async writeWithRetry(projectId: number, events: IngestEvent[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        const outcome = await writeBatch(this.ctx, this.snapshots, projectId, events);
        this.batches++;
        this.lastBatchMs = Math.round(performance.now() - started);
        const counters = this.counters(projectId);
        counters.ingested += outcome.ingested;
        counters.duplicates += outcome.duplicates;
        for (const w of outcome.warnings) counters.warnings[w] = (counters.warnings[w] ?? 0) + 1;
        if (outcome.duplicates || outcome.warnings.length) {
          this.log?.info({ projectId, ingested: outcome.ingested, duplicates: outcome.duplicates, warnings: outcome.warnings }, 'capture: batch ingested');
        }
        return;
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
        this.retries++;
        await new Promise((r) => setTimeout(r, Math.min(200, 5 * 2 ** attempt) * Math.random()));
      }
    }
  }

  private async maybePurge(): Promise<void> {
    const window = this.ctx.config.eventDedupWindowMs;
    const now = this.ctx.now();
    if (window <= 0 || now.getTime() - this.lastPurge < PURGE_INTERVAL_MS) return;
    this.lastPurge = now.getTime();
    try {
      await purgeEventUuids(this.ctx.db, new Date(now.getTime() - window));
    } catch (error) {
      this.log?.warn({ err: error }, 'capture: could not purge old event uuids');
    }
  }

  /** Per-project counters since this process started (this instance only). */
  stats(projectId: number): IngestionStats {
    const c = this.perProject.get(projectId) ?? newCounters();
    return {
      ...structuredClone(c),
      since: this.startedAt.toISOString(),
      batches: this.batches,
      retries: this.retries,
      failedBatches: this.failedBatches,
      lastBatchMs: this.lastBatchMs,
    };
  }

  /** Totals over every project since this process started, and the queue now. */
  totals(): IngestionTotals {
    const oldest = this.writing.events ? this.writing.since : this.queue[0]?.queuedAt;
    const totals: IngestionTotals = {
      pending: this.queuedEvents + this.writing.events,
      lagSeconds: oldest === undefined ? 0 : (performance.now() - oldest) / 1000,
      received: 0,
      ingested: 0,
      duplicates: 0,
      malformed: 0,
      failed: this.failedEvents,
      batches: this.batches,
      retries: this.retries,
      failedBatches: this.failedBatches,
    };
    for (const c of this.perProject.values()) {
      totals.received += c.received;
      totals.ingested += c.ingested;
      totals.duplicates += c.duplicates;
      totals.malformed += c.malformed;
    }
    return totals;
  }

  /** Stops accepting events and writes everything accepted so far. */
  async close(): Promise<void> {
    this.closed = true;
    this.startDrain();
    while (this.draining) await this.draining;
  }
}

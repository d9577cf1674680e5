// Stored-context lookups of concurrent /flags requests, read together: the lookups asked for in
// one event-loop turn, and those asked for while earlier reads are still running, go to the
// database as one statement (readPersonContexts), so a busy server pays the per-statement cost
// (a round trip, PostgreSQL's executor start, PGlite's protocol) once per batch instead of once
// per request. Nothing is cached: every answer comes from a statement that started after its
// request asked (docs/architecture.md#flags-the-hot-path).
import type { Db } from '../platform/db/index.ts';
import { pgErrorCode } from '../platform/db/errors.ts';
import { readPersonContexts, type PersonContextKey, type StoredPersonContext } from './context-repository.ts';

/** Lookups per statement at most (its parameter stays small, its answer bounded). */
export const MAX_LOOKUPS_PER_STATEMENT = 256;
/**
 * Statements running at once for one database handle; further lookups wait and join the next
 * (docs/architecture.md#stored-persons-on-flags says why four).
 */
export const MAX_STATEMENTS_IN_FLIGHT = 4;

interface Pending {
  key: PersonContextKey;
  resolve(context: StoredPersonContext): void;
  reject(error: unknown): void;
}

export class PersonContextBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  /** Statements sent and lookups answered (tests read them). */
  readonly counts = { statements: 0, lookups: 0 };

  constructor(
    private readonly db: Db,
    private readonly maxInFlight = MAX_STATEMENTS_IN_FLIGHT,
  ) {}

  read(key: PersonContextKey): Promise<StoredPersonContext> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key, resolve, reject });
      if (!this.scheduled && this.inFlight < this.maxInFlight) {
        this.scheduled = true;
        // After the I/O of this turn: the other requests that arrived with this one join it.
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    while (this.queue.length && this.inFlight < this.maxInFlight) {
      const batch = this.queue.length <= MAX_LOOKUPS_PER_STATEMENT ? this.queue : this.queue.slice(0, MAX_LOOKUPS_PER_STATEMENT);
      this.queue = batch === this.queue ? [] : this.queue.slice(MAX_LOOKUPS_PER_STATEMENT);
      this.inFlight++;
      this.counts.statements++;
      this.counts.lookups += batch.length;
      readPersonContexts(
        this.db,
        batch.map((p) => p.key),
      ).then(
        (contexts) => {
          for (let i = 0; i < batch.length; i++) batch[i].resolve(contexts[i]);
          this.done();
        },
        (error: unknown) => {
          this.done();
          // A value one lookup carries that the database refuses (a NUL in a distinct id): each
          // lookup is read again alone, so that only that request's stored flags fail.
          if (batch.length > 1 && isDataException(error)) for (const p of batch) this.readAlone(p);
          else for (const p of batch) p.reject(error);
        },
      );
    }
  };

  private readAlone(p: Pending): void {
    this.counts.statements++;
    readPersonContexts(this.db, [p.key]).then(([context]) => p.resolve(context), p.reject);
  }

  private done(): void {
    this.inFlight--;
    // Lookups that queued while this statement ran go now, together.
    if (this.queue.length && !this.scheduled) this.flush();
  }
}

/** SQLSTATE class 22: a value in the statement's parameter was refused, not the database failing. */
const isDataException = (error: unknown) => pgErrorCode(error)?.startsWith('22') === true;

const batchers = new WeakMap<Db, PersonContextBatcher>();

/** The batcher of a database handle (one per handle: a transaction's lookups stay in it). */
export function contextBatcherOf(db: Db): PersonContextBatcher {
  let batcher = batchers.get(db);
  if (!batcher) batchers.set(db, (batcher = new PersonContextBatcher(db)));
  return batcher;
}

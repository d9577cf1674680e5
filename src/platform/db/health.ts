// Whether PostgreSQL answers, as this process sees it, and the client-side deadlines that make a
// hung server (stopped with SIGSTOP, cut off by the network) fail requests within seconds: a
// query only the server can end (its statement_timeout) never ends when the server is frozen.
import pg from 'pg';
import { DatabaseTimeoutError, DatabaseUnavailableError, databaseFailure } from './errors.ts';
import { countQueryError, newQueryErrorCounts } from './stats.ts';

export interface DatabaseHealth {
  /** False from a failed liveness probe until a probe succeeds again. */
  readonly available: boolean;
  /** Called with false when the server stops answering and with true when it answers again. */
  onChange(listener: (available: boolean) => void): void;
}

/** PGlite runs in this process: it is there as long as we are. */
export const alwaysAvailable: DatabaseHealth = {
  available: true,
  onChange() {
    // Never changes: there is nothing to report.
  },
};

/** An operation (connect or query) outstanding this long makes the monitor check the server. */
const STALL_MS = 1000;
const TICK_MS = 250;
/** While the server is unavailable it is probed again after this long, doubling up to the maximum. */
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 2000;

/** Closes a client's socket now (no goodbye to a server that may never read it); its queries fail with `error`. */
export function destroySocket(client: object, error?: Error): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(error?: Error): void } } }).connection?.stream;
  stream?.destroy(error);
}

/**
 * Connects and runs `select 1` within `timeoutMs`. True when the server answered, even with an
 * error (too many connections): it is alive. A server starting up or shutting down is not.
 */
async function ping(options: pg.ClientConfig, timeoutMs: number): Promise<boolean> {
  const client = new pg.Client({ ...options, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, application_name: 'flaghost-probe' });
  client.on('error', () => {
    // A probe's connection errors are its answer, read from connect() and query() below; without a
    // listener, one arriving after the probe finished would crash the process.
  });
  try {
    await client.connect();
    await client.query('select 1');
    client.end().catch(() => {
      // The server answered, which is all the probe asks; a failed goodbye changes nothing.
    });
    return true;
  } catch (error) {
    destroySocket(client);
    const e = error as { severity?: unknown; code?: unknown };
    return e.severity !== undefined && typeof e.code === 'string' && !e.code.startsWith('57P');
  }
}

interface Operation {
  client: object;
  started: number;
}

export interface MonitorOptions {
  /** How probes connect (the pool's connection settings). */
  clientOptions: pg.ClientConfig;
  /** Connect-and-`select 1` deadline of a probe. */
  probeTimeoutMs: number;
  /** The longest a connection may stay checked out of the pool (a transaction). */
  transactionDeadlineMs: number;
}

/**
 * Tracks every connect and query of the pool. When one has been outstanding for a second, a probe
 * on a fresh connection tells a slow query (the server answers the probe: let the query run to its
 * statement timeout) from a server that does not answer (the probe times out or is refused): then
 * the database is marked unavailable, outstanding operations are aborted, and new ones fail at
 * once until a probe succeeds again. A connection checked out longer than the transaction
 * deadline is closed, which rolls its transaction back on the server.
 */
export class DatabaseMonitor implements DatabaseHealth {
  available = true;
  /** Connects and statements that failed, for /metrics. */
  readonly errors = newQueryErrorCounts();
  private readonly listeners: Array<(available: boolean) => void> = [];
  private readonly operations = new Set<Operation>();
  private readonly checkedOut = new Map<object, number>();
  private probing?: Promise<void>;
  private lastProbe = 0;
  private retryTimer?: NodeJS.Timeout;
  private retryDelay = RETRY_MIN_MS;
  private readonly ticker: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: MonitorOptions) {
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
  }

  onChange(listener: (available: boolean) => void): void {
    this.listeners.push(listener);
  }

  begin(client: object): Operation {
    const operation = { client, started: Date.now() };
    this.operations.add(operation);
    return operation;
  }

  end(operation: Operation, error?: unknown): void {
    this.operations.delete(operation);
    if (!error) return;
    countQueryError(this.errors, error);
    if (databaseFailure(error)) this.suspect();
  }

  checkout(client: object): void {
    this.checkedOut.set(client, Date.now());
  }

  checkin(client: object): void {
    this.checkedOut.delete(client);
  }

  /** A connection failed or timed out: check the server now rather than at the next stall. */
  suspect(): void {
    if (this.available && !this.closed) void this.probe();
  }

  private tick(): void {
    const now = Date.now();
    if (this.available && !this.probing && now - this.lastProbe >= STALL_MS) {
      for (const operation of this.operations) {
        if (now - operation.started >= STALL_MS) {
          void this.probe();
          break;
        }
      }
    }
    for (const [client, since] of this.checkedOut) {
      if (now - since >= this.options.transactionDeadlineMs) {
        this.checkedOut.delete(client);
        destroySocket(client, new DatabaseTimeoutError('client_timeout', 'transaction deadline exceeded'));
      }
    }
  }

  private probe(): Promise<void> {
    this.probing ??= (async () => {
      const alive = await ping(this.options.clientOptions, this.options.probeTimeoutMs);
      this.lastProbe = Date.now();
      if (alive) this.markAvailable();
      else this.markUnavailable();
    })().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private markUnavailable(): void {
    if (!this.closed) this.scheduleRetry();
    if (!this.available) return;
    this.available = false;
    // Whatever waits on the server now waits in vain: fail it so that requests can answer.
    for (const operation of this.operations)
      destroySocket(operation.client, new DatabaseUnavailableError('database unavailable (the server stopped answering)'));
    this.operations.clear();
    for (const listener of this.listeners) listener(false);
  }

  private markAvailable(): void {
    this.retryDelay = RETRY_MIN_MS;
    if (this.available) return;
    this.available = true;
    for (const listener of this.listeners) listener(true);
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) void this.probe();
    }, delay);
    this.retryTimer.unref();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.ticker);
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}

type Callback = (error: Error | null | undefined, result?: unknown) => void;

function failFast(callback: Callback | undefined): Promise<never> | undefined {
  const error = new DatabaseUnavailableError();
  if (callback) {
    process.nextTick(callback, error);
    return undefined;
  }
  return Promise.reject(error);
}

/**
 * A node-postgres pool whose connections report to `monitor`: connects and queries are tracked,
 * a connection the client-side query timeout gave up on is closed (node-postgres would leave it
 * waiting for the server's answer, and the pool would hand it out again), and while the database
 * is unavailable, checkouts fail at once.
 */
export function monitoredPool(monitor: DatabaseMonitor, config: pg.PoolConfig): pg.Pool {
  class MonitoredClient extends pg.Client {
    constructor(options: pg.ClientConfig) {
      super(options);
      // A checked-out connection has no other 'error' listener: without this one, a server that
      // goes away mid-transaction would crash the process. The failing query reports the error.
      this.on('error', () => monitor.suspect());
    }

    // biome-ignore lint/suspicious/noExplicitAny: pg declares connect() and query() as overloads (callback or promise); one override signature can only take and return any
    override connect(callback?: any): any {
      if (!monitor.available) return failFast(callback);
      const operation = monitor.begin(this);
      if (callback) {
        return super.connect((error: Error) => {
          monitor.end(operation, error);
          callback(error);
        });
      }
      const connected = super.connect();
      connected.then(
        () => monitor.end(operation),
        (error: unknown) => monitor.end(operation, error),
      );
      return connected;
    }

    // biome-ignore lint/suspicious/noExplicitAny: pg declares connect() and query() as overloads (callback or promise); one override signature can only take and return any
    override query(...args: any[]): any {
      const operation = monitor.begin(this);
      const finish = (error?: unknown) => {
        monitor.end(operation, error);
        if ((error as Error | undefined)?.message === 'Query read timeout') destroySocket(this);
      };
      const last = args.length - 1;
      if (typeof args[last] === 'function') {
        const callback = args[last] as Callback;
        args[last] = (error: Error | null, result: unknown) => {
          finish(error ?? undefined);
          callback(error, result);
        };
        return (super.query as (...a: unknown[]) => unknown)(...args);
      }
      const result = (super.query as (...a: unknown[]) => unknown)(...args);
      if (result instanceof Promise) result.then(() => finish(), finish);
      else finish();
      return result;
    }
  }

  class MonitoredPool extends pg.Pool {
    // biome-ignore lint/suspicious/noExplicitAny: pg declares connect() and query() as overloads (callback or promise); one override signature can only take and return any
    override connect(callback?: any): any {
      if (!monitor.available) return failFast(callback);
      return (super.connect as (cb?: Callback) => unknown)(callback);
    }
  }

  const pool = new MonitoredPool({ ...config, Client: MonitoredClient as unknown as pg.PoolConfig['Client'] });
  pool.on('acquire', (client) => monitor.checkout(client));
  pool.on('release', (_error, client) => monitor.checkin(client));
  // An idle connection dying (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => monitor.suspect());
  return pool;
}

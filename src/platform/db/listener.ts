// The LISTEN connection that carries other instances' change notifications, kept up for as long as
// the process runs: when it drops, it is re-established with backoff, and each time it is, the
// caller reloads what it may have missed (notifications are not queued for absent listeners).
import pg from 'pg';
import { destroySocket, type DatabaseMonitor } from './health.ts';

export const CHANGES_CHANNEL = 'flaghost_changes';

/** The first reconnection waits this long; each failed attempt doubles the wait, up to the maximum. */
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 10_000;

export class ChangeListener {
  private client?: pg.Client;
  /** Resolves when the current connection is gone. */
  private lost: Promise<void> = Promise.resolve();
  private closed = false;
  private wake?: () => void;

  constructor(
    private readonly options: pg.ClientConfig,
    private readonly monitor: DatabaseMonitor,
    private readonly onNotify: (payload: string) => void,
    private readonly onReconnect?: () => void,
  ) {
    monitor.onChange((available) => {
      // A server that stopped answering may have cut this connection without a word: start over.
      // When it answers again, reconnect now rather than at the end of the current wait.
      if (!available && this.client) destroySocket(this.client);
      if (available) this.wake?.();
    });
  }

  /** Connects once (failing if it cannot: the caller is starting up), then keeps the connection up. */
  async start(): Promise<void> {
    await this.connect();
    void this.keepUp();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.options, application_name: 'flaghost-listen' });
    client.on('notification', (msg) => {
      if (msg.channel === CHANGES_CHANNEL) this.onNotify(msg.payload ?? '');
    });
    const lost = new Promise<void>((resolve) => {
      client.once('end', () => resolve());
      client.on('error', () => {
        destroySocket(client);
        resolve();
      });
    });
    try {
      await client.connect();
      await client.query(`listen ${CHANGES_CHANNEL}`);
    } catch (error) {
      destroySocket(client);
      throw error;
    }
    if (this.closed) {
      await endClient(client);
      return;
    }
    this.client = client;
    this.lost = lost;
  }

  private async keepUp(): Promise<void> {
    while (!this.closed) {
      await this.lost;
      this.client = undefined;
      if (this.closed) return;
      this.monitor.suspect();
      let delay = RECONNECT_MIN_MS;
      for (;;) {
        await this.sleep(delay);
        if (this.closed) return;
        try {
          await this.connect();
          break;
        } catch {
          delay = Math.min(delay * 2, RECONNECT_MAX_MS);
        }
      }
      this.onReconnect?.();
    }
  }

  /** Waits `ms`, or less when the database becomes available again. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    const client = this.client;
    this.client = undefined;
    if (client) await endClient(client);
  }
}

/** Says goodbye to the server, or just closes the socket if the server does not answer within a second. */
async function endClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)));
  const goodbye = client.end().catch(() => {
    // Closing anyway: the socket is destroyed below whether or not the server acknowledged.
  });
  await Promise.race([goodbye, timeout]);
  clearTimeout(timer);
  destroySocket(client);
}

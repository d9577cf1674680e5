// The HTTP server's connection limit and timeouts, so that idle or slow clients cannot exhaust the
// process.
//
// Every connection is a file descriptor, and so is every file the embedded database keeps open.
// Past the process's open-files limit (`ulimit -n`, often 1,024), accept() fails with EMFILE: new
// clients are dropped or left waiting in the backlog, and the database cannot open the files a
// query needs. 1,100 idle connections were enough to take the service down. So the server accepts
// at most `maxConnections` connections, lowered to what the open-files limit leaves after the
// database's share. At the limit a new connection closes the oldest connection that has not sent
// a complete request yet (an idle or slowloris socket), else the oldest keep-alive connection
// between two requests; only when every connection is busy with a request is the new one closed.
// The timeouts reclaim the rest: headers, whole request, keep-alive idle, and socket inactivity.
import fs from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionSettings {
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
}

/** Descriptors kept free for everything but client connections (stdio, event loop, DNS, static files, logs). */
const SPARE_FILES = 64;
/** Fewer connections than this would make the server useless; below it the limit is not lowered further. */
const MIN_CONNECTIONS = 16;

/** The soft open-files limit of this process (Node raises it to the hard limit at start), when known. */
export function openFilesLimit(): number | undefined {
  try {
    const line = fs
      .readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined; // not Linux: the configured limit applies as is
  }
}

function openFileCount(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

export interface ConnectionBudget {
  maxConnections: number;
  /** Set when the open-files limit lowered the configured maximum. */
  openFilesLimit?: number;
}

/** The configured maximum, lowered to fit the open-files limit beside `reservedFiles` (the database's). */
export function connectionBudget(configured: number, reservedFiles: number, limit = openFilesLimit()): ConnectionBudget {
  if (limit === undefined) return { maxConnections: configured };
  const available = limit - openFileCount() - reservedFiles - SPARE_FILES;
  if (available >= configured) return { maxConnections: configured };
  return { maxConnections: Math.max(MIN_CONNECTIONS, available), openFilesLimit: limit };
}

const kResponse = Symbol('flaghost.lastResponse');
/** null: connected, no complete request yet. A response: the latest request's (finished or not). */
type Tracked = Socket & { [kResponse]: http.ServerResponse | null };

/** `onRefused`: a new connection was closed at once because every connection was busy. */
export function createLimitedServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  settings: ConnectionSettings,
  onRefused?: () => void,
): http.Server {
  const open = new Set<Tracked>(); // every connection, oldest first
  const unused = new Set<Tracked>(); // connections without a complete request yet, oldest first
  const server = http.createServer(
    {
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      // Node enforces the two timeouts above on this period: a fifth of the shorter keeps the
      // lateness small without a busy timer.
      connectionsCheckingInterval: Math.max(50, Math.min(settings.headersTimeoutMs, settings.requestTimeoutMs) / 5),
    },
    (req, res) => {
      const socket = req.socket as Tracked;
      if (socket[kResponse] === null) unused.delete(socket);
      socket[kResponse] = res;
      handler(req, res);
    },
  );
  // No bytes either way for this long (a client that stopped sending a body or reading a
  // response): Node destroys the socket, as no 'timeout' listener is installed on the server.
  server.setTimeout(settings.idleTimeoutMs);

  const forget = (socket: Tracked) => {
    open.delete(socket);
    unused.delete(socket);
  };
  const evictOne = (): boolean => {
    for (const socket of unused) {
      forget(socket);
      socket.destroy();
      return true;
    }
    for (const socket of open) {
      if (socket[kResponse]?.writableFinished) {
        forget(socket);
        socket.destroy();
        return true;
      }
    }
    return false;
  };

  server.on('connection', (socket: Tracked) => {
    socket[kResponse] = null;
    if (open.size >= settings.maxConnections && !evictOne()) {
      onRefused?.();
      socket.destroy();
      return;
    }
    open.add(socket);
    unused.add(socket);
    socket.once('close', () => forget(socket));
  });
  return server;
}

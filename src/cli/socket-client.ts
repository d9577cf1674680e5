// The CLI's side of the socket a server on the embedded database listens on (src/cli/socket-server.ts):
// JSON over HTTP on `<data dir>/flaghost.sock`. No database module is loaded on this path, so a command
// through a running server answers in a fraction of a second.
import http from 'node:http';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { InitConfig } from '../platform/config.ts';
import { CliError } from './commands.ts';

export const SOCKET_NAME = 'flaghost.sock';

export const socketPath = (dataDir: string) => path.join(dataDir, SOCKET_NAME);

/** Unix socket paths hold at most 107 bytes (108 with the terminating NUL, on Linux). */
export const socketPathFits = (dataDir: string) => Buffer.byteLength(socketPath(dataDir)) <= 107;

/** What the CLI sends: its own command line (the server parses and checks it again), and what it read. */
export interface CommandRequest {
  argv: string[];
  password?: string;
  init: InitConfig;
}

export interface ServerAnswer {
  /** The server's process id. */
  pid: number;
  status: number;
  body: { result?: unknown; error?: string; usage?: string };
}

/** Connection failures that mean "no server listens there". */
const NOT_LISTENING = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK']);

function request(dataDir: string, method: string, route: string, body?: unknown, timeoutMs = 60_000): Promise<http.IncomingMessage | undefined> {
  if (!socketPathFits(dataDir)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        socketPath: socketPath(dataDir),
        method,
        path: route,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      resolve,
    );
    req.setTimeout(timeoutMs, () => req.destroy(new CliError(`The server on ${socketPath(dataDir)} did not answer within ${timeoutMs / 1000} s.`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code && NOT_LISTENING.has(err.code)) resolve(undefined);
      else if (err.code === 'EACCES') reject(new CliError(`Permission denied on ${socketPath(dataDir)}: run the CLI as the user the server runs as.`));
      else reject(err instanceof CliError ? err : new CliError(`Could not reach the server on ${socketPath(dataDir)}: ${err.message}`));
    });
    req.end(payload);
  });
}

async function readJson(res: http.IncomingMessage): Promise<ServerAnswer['body']> {
  let text = '';
  for await (const chunk of res) text += chunk;
  try {
    return JSON.parse(text) as ServerAnswer['body'];
  } catch {
    throw new CliError(`The server answered on its socket with something other than JSON (status ${res.statusCode}).`);
  }
}

const pidOf = (res: http.IncomingMessage) => Number(res.headers['x-flaghost-pid']);

/** Runs a command through the server on the data directory; undefined when no server listens there. */
export async function sendCommand(dataDir: string, command: CommandRequest): Promise<ServerAnswer | undefined> {
  const res = await request(dataDir, 'POST', '/command', command);
  if (!res) return undefined;
  return { pid: pidOf(res), status: res.statusCode ?? 0, body: await readJson(res) };
}

/** The pid of the server on the data directory, or undefined when none listens there. */
export async function serverPid(dataDir: string): Promise<number | undefined> {
  const res = await request(dataDir, 'GET', '/status', undefined, 5000);
  if (!res) return undefined;
  res.resume();
  return pidOf(res);
}

/** Streams a backup made by the server into `out`; undefined when no server listens there. */
export async function fetchBackup(dataDir: string, out: Writable): Promise<{ pid: number } | undefined> {
  // A backup of a large database takes a while: no deadline, the server ends the answer.
  const res = await request(dataDir, 'POST', '/backup', {}, 0);
  if (!res) return undefined;
  if (res.statusCode !== 200) {
    const body = await readJson(res);
    throw new CliError(body.error ?? `The server refused the backup (status ${res.statusCode}).`);
  }
  try {
    await pipeline(res, out);
  } catch (err) {
    throw new CliError(`The backup stopped before its end: ${(err as Error).message}`);
  }
  // The server ends the answer abruptly when it fails mid-way.
  if (!res.complete) throw new CliError('The backup stopped before its end: the server failed while writing it (see its log).');
  return { pid: pidOf(res) };
}

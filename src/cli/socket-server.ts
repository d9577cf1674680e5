// A server on the embedded database serves the CLI's commands on `<data dir>/flaghost.sock`: PGlite
// admits one process, so the CLI cannot open the database beside the server, and sends its command
// line to the server instead (src/cli/socket-client.ts). The socket is a file only its owner may
// open (mode 0600), never the TCP port: these commands are the machine's administrator's.
import fs from 'node:fs';
import http from 'node:http';
import type { AppContext } from '../platform/context.ts';
import type { InitConfig } from '../platform/config.ts';
import { writeBackup } from '../platform/db/embedded-backup.ts';
import { CliError, UsageError } from './commands.ts';
import { parseCommandLine } from './parse.ts';
import { failure, HANDLERS } from './handlers.ts';
import { socketPath, socketPathFits } from './socket-client.ts';

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CliSocket {
  path: string;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new CliError('The command is too large.');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new CliError('The command is not JSON.');
  }
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

function initConfig(raw: unknown): InitConfig {
  const init = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const text = (name: string) => (typeof init[name] === 'string' ? (init[name] as string) : undefined);
  return {
    adminEmail: text('adminEmail'),
    adminPassword: text('adminPassword'),
    personalApiKey: text('personalApiKey'),
    projectToken: text('projectToken'),
    secretToken: text('secretToken'),
  };
}

async function runCommand(ctx: AppContext, body: unknown, log: Log): Promise<{ status: number; body: unknown }> {
  const { argv, password, init } = (body ?? {}) as { argv?: unknown; password?: unknown; init?: unknown };
  if (!isStrings(argv)) throw new CliError('The command line is missing.');
  const parsed = parseCommandLine(argv);
  if (parsed.kind === 'help') throw new CliError('Help is printed by the CLI itself.');
  const handler = HANDLERS[parsed.cmd.name];
  if (!handler) throw new CliError(`flaghost ${parsed.cmd.name} does not run through the server.`);
  parsed.cmd.check?.(parsed.values);
  if (parsed.cmd.password?.(parsed.values) && typeof password !== 'string') throw new CliError('The command needs a password.');
  log.info({ command: parsed.cmd.name }, 'CLI command through the socket');
  const result = await handler(ctx, {
    values: parsed.values,
    positionals: parsed.positionals,
    password: typeof password === 'string' ? password : undefined,
    init: initConfig(init),
  });
  return { status: 200, body: { result } };
}

/** Listens on `file`, a socket only this process's user may open (mode 0600 from its creation on). */
async function listenOwnerOnly(server: http.Server, file: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket is created with the process's umask: make it the owner's alone from the start.
    let previous: number | undefined;
    try {
      previous = process.umask(0o177);
    } catch {
      // Worker threads cannot change the umask; chmod below still applies.
    }
    try {
      server.listen(file, () => resolve());
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
  });
  fs.chmodSync(file, 0o600);
}

/**
 * Listens on the data directory's socket; undefined on a database without one (PostgreSQL, where
 * the CLI opens the database itself, or `:memory:`). The caller holds the data directory's lock, so
 * a socket file already there was left by a process that died: it is replaced.
 */
export async function serveCliSocket(ctx: AppContext, log: Log): Promise<CliSocket | undefined> {
  const { dataDir } = ctx.config.database;
  if (ctx.database.kind !== 'pglite' || !ctx.database.embedded) return undefined;
  const file = socketPath(dataDir);
  if (!socketPathFits(dataDir)) {
    log.warn({ socket: file }, "the data directory's path is too long for a Unix socket: the CLI cannot run beside this server");
    return undefined;
  }

  // Requests being answered: close() waits for them (a backup removes its staging copy when it ends).
  const inflight = new Set<Promise<void>>();
  const server = http.createServer((req, res) => {
    res.setHeader('x-flaghost-pid', String(process.pid));
    const handling = (async () => {
      try {
        if (req.method === 'GET' && req.url === '/status') return reply(res, 200, { pid: process.pid, data_dir: dataDir });
        if (req.method === 'POST' && req.url === '/command') {
          const answer = await runCommand(ctx, await readBody(req), log);
          return reply(res, answer.status, answer.body);
        }
        if (req.method === 'POST' && req.url === '/backup') {
          req.resume();
          log.info({}, 'backup through the socket');
          res.writeHead(200, { 'content-type': 'application/gzip' });
          const { manifest, copyMs } = await writeBackup(ctx.database, dataDir, Boolean(ctx.config.secretKey), res);
          log.info({ counts: manifest.counts, databaseBlockedMs: Math.round(copyMs) }, 'backup written');
          return;
        }
        return reply(res, 404, { error: `Unknown request ${req.method} ${req.url}` });
      } catch (err) {
        if (res.headersSent) {
          log.error({ err }, 'backup failed');
          res.destroy(err as Error);
          return;
        }
        if (err instanceof UsageError) return reply(res, 400, { error: err.message, usage: err.usage });
        const { message, expected } = failure(err);
        if (!expected) log.error({ err }, 'CLI command failed');
        return reply(res, expected ? 400 : 500, { error: message });
      }
    })();
    inflight.add(handling);
    void handling.finally(() => inflight.delete(handling));
  });

  fs.rmSync(file, { force: true });
  try {
    await listenOwnerOnly(server, file);
  } catch (err) {
    log.warn({ err, socket: file }, "could not listen on the CLI's socket: the CLI cannot run beside this server");
    return undefined;
  }
  log.info({ socket: file }, 'the CLI reaches this server through its socket');

  return {
    path: file,
    async close() {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), 5000);
      await done;
      clearTimeout(timer);
      await Promise.allSettled([...inflight]);
      // Node removes the socket file on close; make sure of it.
      fs.rmSync(file, { force: true });
    },
  };
}

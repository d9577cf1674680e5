// The admin CLI (`flaghost`): users, personal API keys, projects and organizations, initialisation,
// backups, as JSON on stdout. Which database a command uses is said on stderr. On the embedded
// database a command goes through the server running on the data directory (its socket) when
// there is one; otherwise the CLI opens the database, and never creates one unless asked to.
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, type Config } from './platform/config.ts';
import { DataDirLockedError } from './platform/db/lock.ts';
import { safeText } from './platform/log-redaction.ts';
import { CliError, UsageError } from './cli/commands.ts';
import { parseCommandLine, type Parsed } from './cli/parse.ts';
import { processPasswordReader, type PasswordReader } from './cli/password-input.ts';
import { passwordProblems } from './access/sign-in/passwords.ts';
import { fetchBackup, sendCommand, socketPath } from './cli/socket-client.ts';
import { postgresBackupHint, restoreFromFile, writeBackupFile } from './cli/backup.ts';

type Run = Extract<Parsed, { kind: 'run' }>;
type Io = { out: (s: string) => void; err: (s: string) => void };

/** How long a command waits for a data directory another process holds (a server starting, another command). */
const LOCK_WAIT_MS = 10_000;

const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

/** The database's name for people: the URL without its password, or the data directory. */
function describePostgres(url: string): string {
  const u = new URL(url);
  return `flaghost: PostgreSQL database ${decodeURIComponent(u.pathname.slice(1))} on ${u.hostname}${u.port ? `:${u.port}` : ''} as ${decodeURIComponent(u.username) || 'the default user'} (DATABASE_URL)`;
}

const describeEmbedded = (dataDir: string) => `flaghost: embedded database in ${dataDir} (FLAGHOST_DATA_DIR)`;

function noDatabase(dataDir: string, env: Record<string, string | undefined>): CliError {
  const where = env.FLAGHOST_DATA_DIR ? 'FLAGHOST_DATA_DIR' : 'FLAGHOST_DATA_DIR is unset: ./data of the current directory';
  return new CliError(
    `No flaghost database in ${dataDir} (${where}). Point FLAGHOST_DATA_DIR at the server's data directory (or set DATABASE_URL), or run \`flaghost init\` to create a new database there.`,
  );
}

/**
 * The embedded database: through the server on the data directory's socket, else opened here. A
 * data directory locked by a process that does not answer (a server still starting, another
 * command) is waited for, up to LOCK_WAIT_MS.
 */
async function runEmbedded(
  config: Config,
  parsed: Run,
  password: string | undefined,
  io: Io,
  argv: string[],
  env: Record<string, string | undefined>,
  backupTo?: Writable,
): Promise<unknown> {
  const dataDir = config.database.dataDir;
  const deadline = Date.now() + LOCK_WAIT_MS;
  let waiting = false;
  for (;;) {
    if (backupTo) {
      const viaServer = await fetchBackup(dataDir, backupTo);
      if (viaServer) {
        io.err(`${describeEmbedded(dataDir)}, backed up by the server running on it (pid ${viaServer.pid})\n`);
        return undefined;
      }
    } else {
      const answer = await sendCommand(dataDir, { argv, password, init: config.init });
      if (answer) {
        io.err(`${describeEmbedded(dataDir)}, through the server running on it (pid ${answer.pid})\n`);
        if (answer.status === 200) return answer.body.result;
        if (answer.body.usage !== undefined) throw new UsageError(answer.body.error ?? 'Invalid command.', answer.body.usage);
        throw new CliError(answer.body.error ?? `The server answered ${answer.status}.`);
      }
    }
    if (!fs.existsSync(path.join(dataDir, 'pglite', 'PG_VERSION')) && !parsed.init) throw noDatabase(dataDir, env);
    try {
      const local = await import('./cli/local.ts');
      return await local.runOnDatabase(config, parsed, password, io, describeEmbedded(dataDir), backupTo);
    } catch (err) {
      if (!(err instanceof DataDirLockedError)) throw err;
      if (Date.now() > deadline) {
        throw new CliError(
          `${err.message} It does not answer on ${socketPath(dataDir)}: a server still starting or shutting down, an older flaghost, or another command. Try again once it has started, or stop it.`,
        );
      }
      if (!waiting)
        io.err(`flaghost: ${dataDir} is in use by another process that does not answer on its socket yet; waiting up to ${LOCK_WAIT_MS / 1000} s\n`);
      waiting = true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function run(
  config: Config,
  parsed: Run,
  password: string | undefined,
  io: Io,
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<unknown> {
  const { cmd, values, positionals } = parsed;
  const url = config.database.url;
  if ((cmd.kind === 'backup' || cmd.kind === 'restore') && url) throw new CliError(postgresBackupHint(url));
  if (cmd.kind === 'restore') return restoreFromFile(config, positionals[0], Boolean(values.force), io);
  if (cmd.kind === 'backup') {
    return writeBackupFile(values.out as string, async (stream) => {
      await runEmbedded(config, parsed, password, io, argv, env, stream);
    });
  }
  if (!url) return runEmbedded(config, parsed, password, io, argv, env);
  const local = await import('./cli/local.ts');
  return local.runOnDatabase(config, parsed, password, io, describePostgres(url));
}

/** After the result: what a person should not miss (kept off stdout, which scripts read). */
function notices(parsed: Run, result: unknown, io: Io): void {
  if (parsed.cmd.kind !== 'init') return;
  const r = result as { initialised?: boolean; ignored_variables?: Array<{ variable: string; reason: string }> };
  if (r.initialised) io.err('flaghost: the database is initialised. Store the personal API key now: it is shown only this once.\n');
  for (const i of r.ignored_variables ?? []) io.err(`flaghost: ${i.variable} is ignored: ${i.reason}\n`);
}

/** Runs one command; returns the exit code. Output goes to `out`, errors to `err`. */
export async function main(
  argv: string[],
  io: Io = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  },
  env: Record<string, string | undefined> = process.env,
  readPassword: PasswordReader = processPasswordReader,
): Promise<number> {
  let parsed: Parsed;
  let password: string | undefined;
  try {
    parsed = parseCommandLine(argv);
    if (parsed.kind === 'help') {
      io.out(parsed.text);
      return 0;
    }
    parsed.cmd.check?.(parsed.values);
    const wanted = parsed.cmd.password?.(parsed.values);
    if (wanted) {
      password = await readPassword(wanted.fromStdin);
      const [problem] = passwordProblems(password);
      if (problem) throw new CliError(problem);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(JSON.stringify({ error: err.message, usage: err.usage }) + '\n');
      return 2;
    }
    io.err(JSON.stringify({ error: (err as Error).message }) + '\n');
    return 1;
  }

  try {
    const config = loadConfig(env);
    const result = await run(config, parsed, password, io, argv, env);
    io.out(json(result));
    notices(parsed, result, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(JSON.stringify({ error: err.message, usage: err.usage }) + '\n');
      return 2;
    }
    let message: string;
    if (err instanceof CliError || err instanceof ConfigError) message = safeText(err.message, 4096);
    else message = (await import('./cli/handlers.ts')).failure(err).message;
    // Error output often ends up in CI logs: no token or secret in it, and no megabyte line.
    io.err(JSON.stringify({ error: message }) + '\n');
    return 1;
  }
}

/** Entry for bin/flaghost.mjs (and `tsx src/cli.ts`): exits with the command's code. */
export async function runCli(argv: string[] = process.argv.slice(2)): Promise<void> {
  const code = await main(argv);
  process.exitCode = code;
  // A lingering handle must not keep a finished command alive.
  setTimeout(() => process.exit(code), 2000).unref();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli();

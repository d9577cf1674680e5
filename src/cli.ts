// The admin CLI (`flaghost`): users, personal API keys, projects and organizations, as JSON on stdout.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig } from './platform/config.ts';
import { openDatabase, type Database } from './platform/db/index.ts';
import { DataDirLockedError } from './platform/db/lock.ts';
import { createAppContext, type AppContext, type Log } from './platform/context.ts';
import { AdminError, bootstrap, type BootstrapResult } from './access/organizations/admin.ts';
import { safeText } from './platform/log-redaction.ts';
import { CliError, COMMANDS, UsageError, type Command, type Values } from './cli/commands.ts';
import { processPasswordReader, type PasswordReader } from './cli/password-input.ts';
import { passwordProblems } from './access/sign-in/passwords.ts';
import { setupLinkUrl } from './access/sign-in/accounts.ts';
import type { Config } from './platform/config.ts';

const FOOTER = [
  'Output is JSON on stdout. Errors are {"error": "..."} on stderr, with exit code 1 when a command',
  'fails and 2 when the command line is wrong.',
  '',
  'The database comes from the server\'s environment: DATABASE_URL (PostgreSQL), otherwise the embedded',
  'database in FLAGHOST_DATA_DIR (default ./data). An empty database is initialised as the server does.',
  'The embedded database admits one process: stop the server first, or use PostgreSQL, where the CLI',
  'and running servers share the database.',
];

/** The CLI's log: warnings as JSON lines on stderr (stdout is the command's answer); no debug output. */
function stderrLog(err: (s: string) => void): Log {
  return {
    warn: (obj, msg) => {
      const cause = (obj as { err?: unknown }).err;
      err(JSON.stringify({ warning: msg, ...(cause === undefined ? {} : { detail: safeText(String(cause), 4096) }) }) + '\n');
    },
    debug: () => {
      // The CLI prints warnings and errors only.
    },
  };
}

function topHelp(): string {
  const lines = ['flaghost: administer a flaghost database.', '', 'Usage: flaghost <command> <subcommand> [options]', '', 'Commands:'];
  for (const group of Object.values(COMMANDS)) for (const cmd of Object.values(group)) lines.push(`  flaghost ${cmd.usage}`);
  lines.push('', 'Run `flaghost <command> <subcommand> --help` for details.', '', ...FOOTER);
  return lines.join('\n') + '\n';
}

function groupHelp(name: string): string {
  const lines = [`Usage: flaghost ${name} <subcommand> [options]`, ''];
  for (const cmd of Object.values(COMMANDS[name])) lines.push(`  flaghost ${cmd.usage}`, `      ${cmd.summary}`);
  return lines.join('\n') + '\n';
}

function commandHelp(cmd: Command): string {
  const lines = [`Usage: flaghost ${cmd.usage}`, '', cmd.summary];
  if (cmd.details.length) lines.push('', ...cmd.details.map((d) => `  ${d}`));
  lines.push('', ...FOOTER);
  return lines.join('\n') + '\n';
}

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h' || arg === 'help';
const groupUsage = (name: string) => Object.values(COMMANDS[name]).map((c) => `flaghost ${c.usage}`).join('\n');
const allUsage = () => 'flaghost <command> <subcommand> [options]; flaghost --help lists the commands';

type Parsed = { kind: 'help'; text: string } | { kind: 'run'; cmd: Command; values: Values; positionals: string[] };

function parseCommandLine(argv: string[]): Parsed {
  const [groupName, subName, ...rest] = argv;
  if (groupName === undefined) throw new UsageError('Missing command.', allUsage());
  if (isHelp(groupName)) return { kind: 'help', text: topHelp() };
  const group = Object.hasOwn(COMMANDS, groupName) ? COMMANDS[groupName] : undefined;
  if (!group) throw new UsageError(`Unknown command: ${groupName}`, allUsage());
  if (isHelp(subName)) return { kind: 'help', text: groupHelp(groupName) };
  if (subName === undefined) throw new UsageError(`Missing subcommand for ${groupName}.`, groupUsage(groupName));
  const cmd = Object.hasOwn(group, subName) ? group[subName] : undefined;
  if (!cmd) throw new UsageError(`Unknown command: ${groupName} ${subName}`, groupUsage(groupName));
  const usage = `flaghost ${cmd.usage}`;

  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  const values = parsed.values as Values;
  if (values.help) return { kind: 'help', text: commandHelp(cmd) };
  for (const name of cmd.required ?? []) {
    if (values[name] === undefined) throw new UsageError(`Missing required option --${name}.`, usage);
  }
  const expected = cmd.positionals ?? [];
  if (parsed.positionals.length < expected.length) throw new UsageError(`Missing argument ${expected[parsed.positionals.length]}.`, usage);
  if (parsed.positionals.length > expected.length) throw new UsageError(`Unexpected argument: ${parsed.positionals[expected.length]}`, usage);
  return { kind: 'run', cmd, values, positionals: parsed.positionals };
}

const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

function bootstrapNotice(result: BootstrapResult, config: Config): string {
  return JSON.stringify({
    notice: 'flaghost initialised an empty database. Store the personal API key now: it is shown only this once.',
    organization_id: result.organization.id,
    project_id: result.project.id,
    project_token: result.project.apiToken,
    secret_token: result.project.secretApiToken,
    admin_email: result.user.email,
    personal_api_key: result.personalApiKey,
    ...(result.passwordSetupToken ? { password_setup_link: setupLinkUrl(config, result.user.uuid, result.passwordSetupToken) } : {}),
  }) + '\n';
}

/** Runs one command; returns the exit code. Output goes to `out`, errors to `err`. */
export async function main(
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void } = {
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

  let database: Database | undefined;
  try {
    const config = loadConfig(env);
    try {
      database = await openDatabase(config.database);
    } catch (err) {
      if (err instanceof DataDirLockedError) {
        throw new CliError(
          `${err.message} The CLI needs the embedded database to itself: stop the server first, or run flaghost on PostgreSQL (DATABASE_URL), where the CLI and the server can run together.`,
        );
      }
      throw new CliError(`Could not open the database: ${(err as Error).message}`);
    }
    await database.migrate();
    const ctx: AppContext = createAppContext(config, database, stderrLog(io.err));
    const boot = await bootstrap(ctx, config.init);
    if (boot) io.err(bootstrapNotice(boot, config));
    const result = await parsed.cmd.run(ctx, parsed.values, parsed.positionals, password);
    io.out(json(result));
    return 0;
  } catch (err) {
    const known = err instanceof CliError || err instanceof AdminError || err instanceof ConfigError;
    const cause = (err as { cause?: unknown }).cause;
    // Drizzle's own message repeats the SQL and its parameters; the driver's cause says what went wrong.
    const message = known || !(cause instanceof Error) ? (err as Error).message : cause.message;
    // Error output often ends up in CI logs: no token or secret in it, and no megabyte line.
    io.err(JSON.stringify({ error: safeText(message, 4096) }) + '\n');
    return 1;
  } finally {
    await database?.close().catch((err: unknown) => io.err(JSON.stringify({ warning: 'could not close the database', detail: safeText(String(err), 4096) }) + '\n'));
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

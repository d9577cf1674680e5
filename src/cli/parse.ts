// The CLI's command line: `flaghost <command> [<subcommand>] [options]` → a command and its values,
// or help text. The server parses the same argv again when the CLI sends a command to its socket.
import { parseArgs } from 'node:util';
import { allCommands, GROUPS, SINGLE, UsageError, type Command, type Values } from './commands.ts';

const FOOTER = [
  'Output is JSON on stdout. Errors are {"error": "..."} on stderr, with exit code 1 when a command',
  'fails and 2 when the command line is wrong. Which database a command uses is said on stderr.',
  '',
  "The database comes from the server's environment: DATABASE_URL (PostgreSQL), otherwise the embedded",
  'database in FLAGHOST_DATA_DIR (default ./data). While a server runs on that data directory, commands',
  'go through it (its socket, flaghost.sock in the data directory). The CLI never creates a database on',
  "its own: `flaghost init`, or --init on a command, initialises an empty one as the server's first",
  'start does.',
];

function topHelp(): string {
  const lines = ['flaghost: administer a flaghost database.', '', 'Usage: flaghost <command> [<subcommand>] [options]', '', 'Commands:'];
  for (const cmd of allCommands()) lines.push(`  flaghost ${cmd.usage}`);
  lines.push('', 'Run `flaghost <command> --help` for details.', '', ...FOOTER);
  return lines.join('\n') + '\n';
}

function groupHelp(name: string): string {
  const lines = [`Usage: flaghost ${name} <subcommand> [options]`, ''];
  for (const cmd of Object.values(GROUPS[name])) lines.push(`  flaghost ${cmd.usage}`, `      ${cmd.summary}`);
  return lines.join('\n') + '\n';
}

function commandHelp(cmd: Command): string {
  const lines = [`Usage: flaghost ${cmd.usage}`, '', cmd.summary];
  const details = [...cmd.details];
  if (takesInit(cmd)) details.push('--init   initialise the database first if it is empty (as `flaghost init`)');
  if (details.length) lines.push('', ...details.map((d) => `  ${d}`));
  lines.push('', ...FOOTER);
  return lines.join('\n') + '\n';
}

/** Commands that work on a database accept --init. */
const takesInit = (cmd: Command) => (cmd.kind ?? 'database') === 'database';

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h' || arg === 'help';
const groupUsage = (name: string) =>
  Object.values(GROUPS[name])
    .map((c) => `flaghost ${c.usage}`)
    .join('\n');
const allUsage = () => 'flaghost <command> [<subcommand>] [options]; flaghost --help lists the commands';

export type Parsed = { kind: 'help'; text: string } | { kind: 'run'; cmd: Command; values: Values; positionals: string[]; init: boolean };

export function parseCommandLine(argv: string[]): Parsed {
  const [first, second, ...afterSecond] = argv;
  if (first === undefined) throw new UsageError('Missing command.', allUsage());
  if (isHelp(first)) return { kind: 'help', text: topHelp() };
  let cmd: Command | undefined;
  let rest: string[];
  if (Object.hasOwn(SINGLE, first)) {
    cmd = SINGLE[first];
    rest = argv.slice(1);
  } else {
    const group = Object.hasOwn(GROUPS, first) ? GROUPS[first] : undefined;
    if (!group) throw new UsageError(`Unknown command: ${first}`, allUsage());
    if (isHelp(second)) return { kind: 'help', text: groupHelp(first) };
    if (second === undefined) throw new UsageError(`Missing subcommand for ${first}.`, groupUsage(first));
    cmd = Object.hasOwn(group, second) ? group[second] : undefined;
    if (!cmd) throw new UsageError(`Unknown command: ${first} ${second}`, groupUsage(first));
    rest = afterSecond;
  }
  const usage = `flaghost ${cmd.usage}`;

  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' }, ...(takesInit(cmd) ? { init: { type: 'boolean' } } : {}) },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  const { help, init, ...values } = parsed.values as Values;
  if (help) return { kind: 'help', text: commandHelp(cmd) };
  for (const name of cmd.required ?? []) {
    if (values[name] === undefined) throw new UsageError(`Missing required option --${name}.`, usage);
  }
  const expected = cmd.positionals ?? [];
  if (parsed.positionals.length < expected.length) throw new UsageError(`Missing argument ${expected[parsed.positionals.length]}.`, usage);
  if (parsed.positionals.length > expected.length) throw new UsageError(`Unexpected argument: ${parsed.positionals[expected.length]}`, usage);
  return { kind: 'run', cmd, values, positionals: parsed.positionals, init: Boolean(init) || cmd.kind === 'init' };
}

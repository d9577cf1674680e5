// The admin CLI (`flaghost`): users, personal API keys, projects and organizations, as JSON on stdout.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ConfigError, loadConfig } from './config.ts';
import { openDatabase, type Database } from './db/index.ts';
import { DataDirLockedError } from './db/lock.ts';
import { createAppContext, type AppContext } from './services/context.ts';
import {
  AdminError,
  bootstrap,
  createKey,
  createOrganization,
  createProject,
  createUser,
  listAllOrganizations,
  listKeys,
  listProjects,
  revokeKey,
  validateScopes,
  type BootstrapResult,
} from './services/admin.ts';
import { MembershipLevel, type MembershipLevelName } from './repositories/users.ts';
import type { PersonalApiKey } from './repositories/personal-api-keys.ts';
import type { Organization, Project } from './repositories/projects.ts';
import { isoTime } from './lib/time.ts';

/** The command line is malformed: exit 2 with the command's usage line. */
class UsageError extends Error {
  constructor(message: string, readonly usage: string) {
    super(message);
  }
}

/** The command is well formed but cannot be done: exit 1. */
class CliError extends Error {}

type Values = Record<string, string | boolean | undefined>;

interface Command {
  /** Everything after `flaghost`, e.g. `keys create --email E [--label L]`. */
  usage: string;
  summary: string;
  /** Option lines for `--help`. */
  details: string[];
  options: Record<string, { type: 'string' | 'boolean' }>;
  required?: string[];
  /** Names of the positional arguments, all required. */
  positionals?: string[];
  /** Checks values that need no database, before the database is opened. */
  check?: (values: Values) => void;
  run: (ctx: AppContext, values: Values, positionals: string[]) => Promise<unknown>;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LEVELS = Object.keys(MembershipLevel) as MembershipLevelName[];

const str = (values: Values, name: string): string | undefined => values[name] as string | undefined;

function list(values: Values, name: string): string[] | undefined {
  const raw = str(values, name);
  if (raw === undefined) return undefined;
  const items = [...new Set(raw.split(',').map((s) => s.trim()).filter(Boolean))];
  if (!items.length) throw new CliError(`--${name} needs at least one value (leave it out instead).`);
  return items;
}

function checkEmail(email: string): void {
  if (!z.email().safeParse(email).success) throw new CliError(`Invalid email: ${email}`);
}

function checkOrganizationId(id: string): void {
  if (!UUID_RE.test(id)) throw new CliError(`Invalid organization id: ${id} (expected a UUID).`);
}

function projectIds(values: Values): number[] | undefined {
  return list(values, 'projects')?.map((s) => {
    if (!/^[1-9][0-9]{0,9}$/.test(s)) throw new CliError(`Invalid project id: ${s}`);
    return Number(s);
  });
}

function organizationIds(values: Values): string[] | undefined {
  const ids = list(values, 'organizations');
  ids?.forEach(checkOrganizationId);
  return ids;
}

function scopes(values: Values): string[] | undefined {
  const items = list(values, 'scopes');
  if (items) validateScopes(items);
  return items;
}

const renderUser = (user: { id: number; uuid: string; email: string; firstName: string; lastName: string; distinctId: string; currentOrganizationId: string | null; createdAt: Date }, level: MembershipLevelName) => ({
  id: user.id,
  uuid: user.uuid,
  email: user.email,
  first_name: user.firstName,
  last_name: user.lastName,
  distinct_id: user.distinctId,
  organization_id: user.currentOrganizationId,
  level,
  membership_level: MembershipLevel[level],
  created_at: isoTime(user.createdAt),
});

/** A key without its value: only its mask is ever shown again after creation. */
const renderKey = (key: PersonalApiKey) => ({
  id: key.id,
  label: key.label,
  mask_value: key.maskValue,
  // null is a legacy full-access key; PostHog shows it as ["*"].
  scopes: key.scopes?.length ? key.scopes : ['*'],
  scoped_teams: key.scopedTeams?.length ? key.scopedTeams : null,
  scoped_organizations: key.scopedOrganizations?.length ? key.scopedOrganizations : null,
  created_at: isoTime(key.createdAt),
  last_used_at: isoTime(key.lastUsedAt),
});

const renderProject = (p: Project) => ({
  id: p.id,
  uuid: p.uuid,
  name: p.name,
  organization_id: p.organizationId,
  api_token: p.apiToken,
  secret_api_token: p.secretApiToken,
  created_at: isoTime(p.createdAt),
});

const renderOrganization = (o: Organization) => ({ id: o.id, name: o.name, created_at: isoTime(o.createdAt) });

const COMMANDS: Record<string, Record<string, Command>> = {
  users: {
    create: {
      usage: 'users create --email E [--level member|admin|owner] [--first-name N] [--last-name N] [--organization UUID]',
      summary: 'Create a user and make them a member of an organization.',
      details: [
        '--email E            the user\'s email (unique, case-insensitive)',
        '--level L            membership level: member (default), admin or owner',
        '--first-name N       first name',
        '--last-name N        last name',
        '--organization UUID  organization to join (default: the first organization)',
      ],
      options: { email: { type: 'string' }, level: { type: 'string' }, 'first-name': { type: 'string' }, 'last-name': { type: 'string' }, organization: { type: 'string' } },
      required: ['email'],
      check: (v) => {
        checkEmail(str(v, 'email')!);
        const level = str(v, 'level');
        if (level !== undefined && !LEVELS.includes(level as MembershipLevelName)) {
          throw new CliError(`Invalid level: ${level} (expected ${LEVELS.join(', ')}).`);
        }
        const org = str(v, 'organization');
        if (org !== undefined) checkOrganizationId(org);
      },
      run: async (ctx, v) => {
        const level = (str(v, 'level') ?? 'member') as MembershipLevelName;
        const user = await createUser(ctx, {
          email: str(v, 'email')!,
          level,
          firstName: str(v, 'first-name'),
          lastName: str(v, 'last-name'),
          organizationId: str(v, 'organization'),
        });
        return renderUser(user, level);
      },
    },
  },
  keys: {
    create: {
      usage: 'keys create --email E [--scopes a,b] [--projects 1,2] [--organizations uuid,uuid] [--label L]',
      summary: 'Create a personal API key for a user and print its value (shown only this once).',
      details: [
        '--email E                   owner of the key',
        '--scopes a,b                PostHog scopes: * or <object>:read|write, e.g. feature_flag:write,activity_log:read',
        '                            (default: a full-access key, shown as ["*"])',
        '--projects 1,2              restrict the key to these project ids',
        '--organizations uuid,uuid   restrict the key to these organizations',
        '--label L                   a name to recognise the key by',
      ],
      options: { email: { type: 'string' }, scopes: { type: 'string' }, projects: { type: 'string' }, organizations: { type: 'string' }, label: { type: 'string' } },
      required: ['email'],
      check: (v) => {
        checkEmail(str(v, 'email')!);
        scopes(v);
        projectIds(v);
        organizationIds(v);
      },
      run: async (ctx, v) => {
        const teams = projectIds(v);
        const orgs = organizationIds(v);
        if (teams) {
          const known = new Set((await listProjects(ctx)).map((p) => p.id));
          const missing = teams.find((id) => !known.has(id));
          if (missing !== undefined) throw new CliError(`Project ${missing} does not exist.`);
        }
        if (orgs) {
          const known = new Set((await listAllOrganizations(ctx)).map((o) => o.id.toLowerCase()));
          const missing = orgs.find((id) => !known.has(id.toLowerCase()));
          if (missing !== undefined) throw new CliError(`Organization ${missing} does not exist.`);
        }
        const { key, value } = await createKey(ctx, {
          email: str(v, 'email')!,
          scopes: scopes(v),
          scopedTeams: teams,
          scopedOrganizations: orgs?.map((id) => id.toLowerCase()),
          label: str(v, 'label'),
        });
        return { ...renderKey(key), value, user_email: str(v, 'email') };
      },
    },
    list: {
      usage: 'keys list --email E',
      summary: 'List a user\'s personal API keys (masks only, never values).',
      details: ['--email E   owner of the keys'],
      options: { email: { type: 'string' } },
      required: ['email'],
      check: (v) => checkEmail(str(v, 'email')!),
      run: async (ctx, v) => (await listKeys(ctx, str(v, 'email')!)).map(renderKey),
    },
    revoke: {
      usage: 'keys revoke ID',
      summary: 'Delete a personal API key: requests with it fail from now on.',
      details: ['ID   the key\'s id, as `keys list` shows it'],
      options: {},
      positionals: ['ID'],
      run: async (ctx, _v, [id]) => {
        await revokeKey(ctx, id);
        return { id, revoked: true };
      },
    },
  },
  projects: {
    create: {
      usage: 'projects create --name N [--organization UUID]',
      summary: 'Create a project with a new project token and secret token.',
      details: ['--name N             the project\'s name', '--organization UUID  owning organization (default: the first organization)'],
      options: { name: { type: 'string' }, organization: { type: 'string' } },
      required: ['name'],
      check: (v) => {
        const org = str(v, 'organization');
        if (org !== undefined) checkOrganizationId(org);
      },
      run: async (ctx, v) => renderProject(await createProject(ctx, { name: str(v, 'name')!, organizationId: str(v, 'organization') })),
    },
    list: {
      usage: 'projects list',
      summary: 'List every project with its tokens.',
      details: [],
      options: {},
      run: async (ctx) => (await listProjects(ctx)).map(renderProject),
    },
  },
  organizations: {
    create: {
      usage: 'organizations create --name N',
      summary: 'Create an organization (add projects and users to it with --organization).',
      details: ['--name N   the organization\'s name'],
      options: { name: { type: 'string' } },
      required: ['name'],
      run: async (ctx, v) => renderOrganization(await createOrganization(ctx, str(v, 'name')!)),
    },
    list: {
      usage: 'organizations list',
      summary: 'List every organization.',
      details: [],
      options: {},
      run: async (ctx) => (await listAllOrganizations(ctx)).map(renderOrganization),
    },
  },
};

const FOOTER = [
  'Output is JSON on stdout. Errors are {"error": "..."} on stderr, with exit code 1 when a command',
  'fails and 2 when the command line is wrong.',
  '',
  'The database comes from the server\'s environment: DATABASE_URL (PostgreSQL), otherwise the embedded',
  'database in FLAGHOST_DATA_DIR (default ./data). An empty database is initialised as the server does.',
  'The embedded database admits one process: stop the server first, or use PostgreSQL, where the CLI',
  'and running servers share the database.',
];

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

function bootstrapNotice(result: BootstrapResult): string {
  return JSON.stringify({
    notice: 'flaghost initialised an empty database. Store the personal API key now: it is shown only this once.',
    organization_id: result.organization.id,
    project_id: result.project.id,
    project_token: result.project.apiToken,
    secret_token: result.project.secretApiToken,
    admin_email: result.user.email,
    personal_api_key: result.personalApiKey,
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
): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseCommandLine(argv);
    if (parsed.kind === 'help') {
      io.out(parsed.text);
      return 0;
    }
    parsed.cmd.check?.(parsed.values);
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
    const ctx: AppContext = createAppContext(config, database);
    const boot = await bootstrap(ctx, config.init);
    if (boot) io.err(bootstrapNotice(boot));
    const result = await parsed.cmd.run(ctx, parsed.values, parsed.positionals);
    io.out(json(result));
    return 0;
  } catch (err) {
    const known = err instanceof CliError || err instanceof AdminError || err instanceof ConfigError;
    const cause = (err as { cause?: unknown }).cause;
    // Drizzle's own message repeats the SQL and its parameters; the driver's cause says what went wrong.
    const message = known || !(cause instanceof Error) ? (err as Error).message : cause.message;
    io.err(JSON.stringify({ error: message }) + '\n');
    return 1;
  } finally {
    await database?.close().catch(() => {});
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

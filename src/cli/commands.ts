// The CLI's commands as the command line sees them: names, options, usage texts and the checks that
// need no database. What each command does is in src/cli/handlers.ts; this module stays free of
// database imports, so that a command sent to a running server starts quickly.
import { z } from 'zod';
import { findInvalidScope, invalidScopeMessage } from '../access/scopes.ts';
import type { MembershipLevelName } from '../access/organizations/users-repository.ts';

/** The command line is malformed: exit 2 with the command's usage line. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/** The command is well formed but cannot be done: exit 1. */
export class CliError extends Error {}

export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  /** The command's words, e.g. `keys create` or `backup`: the key of its handler. */
  name: string;
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
  /** Whether the command takes a password (read before the database opens), and from stdin. */
  password?: (values: Values) => { fromStdin: boolean } | undefined;
  /**
   * `database` (default): runs through the server on the data directory's socket when one runs,
   * otherwise on the database the CLI opens; `--init` lets it initialise an empty one.
   * `init`: the same, and initialising is its purpose. `backup` and `restore`: see src/cli/backup.ts.
   */
  kind?: 'database' | 'init' | 'backup' | 'restore';
}

export const LEVELS = ['member', 'admin', 'owner'] as const satisfies readonly MembershipLevelName[];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const str = (values: Values, name: string): string | undefined => values[name] as string | undefined;

function list(values: Values, name: string): string[] | undefined {
  const raw = str(values, name);
  if (raw === undefined) return undefined;
  const items = [
    ...new Set(
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (!items.length) throw new CliError(`--${name} needs at least one value (leave it out instead).`);
  return items;
}

function checkEmail(email: string): void {
  if (!z.email().safeParse(email).success) throw new CliError(`Invalid email: ${email}`);
}

function checkOrganizationId(id: string): void {
  if (!UUID_RE.test(id)) throw new CliError(`Invalid organization id: ${id} (expected a UUID).`);
}

export function projectIds(values: Values): number[] | undefined {
  return list(values, 'projects')?.map((s) => {
    if (!/^[1-9][0-9]{0,9}$/.test(s)) throw new CliError(`Invalid project id: ${s}`);
    return Number(s);
  });
}

export function organizationIds(values: Values): string[] | undefined {
  const ids = list(values, 'organizations');
  ids?.forEach(checkOrganizationId);
  return ids;
}

/** Throws `Invalid scope: <s>` (PostHog's message) for the first scope outside that format. */
export function scopes(values: Values): string[] | undefined {
  const items = list(values, 'scopes');
  const invalid = items && findInvalidScope(items);
  if (invalid !== undefined) throw new CliError(invalidScopeMessage(invalid));
  return items;
}

/** Commands of a group: `flaghost <group> <subcommand>`. */
export const GROUPS: Record<string, Record<string, Command>> = {
  users: {
    create: {
      name: 'users create',
      usage: 'users create --email E [--level member|admin|owner] [--first-name N] [--last-name N] [--organization UUID] [--password-stdin]',
      summary: 'Create a user and make them a member of an organization.',
      details: [
        "--email E            the user's email (unique, case-insensitive)",
        '--level L            membership level: member (default), admin or owner',
        '--first-name N       first name',
        '--last-name N        last name',
        '--organization UUID  organization to join (default: the first organization)',
        "--password-stdin     read the user's console password from standard input (at least 8 characters)",
      ],
      options: {
        email: { type: 'string' },
        level: { type: 'string' },
        'first-name': { type: 'string' },
        'last-name': { type: 'string' },
        organization: { type: 'string' },
        'password-stdin': { type: 'boolean' },
      },
      required: ['email'],
      check: (v) => {
        checkEmail(str(v, 'email')!);
        const level = str(v, 'level');
        if (level !== undefined && !(LEVELS as readonly string[]).includes(level)) {
          throw new CliError(`Invalid level: ${level} (expected ${LEVELS.join(', ')}).`);
        }
        const org = str(v, 'organization');
        if (org !== undefined) checkOrganizationId(org);
      },
      password: (v) => (v['password-stdin'] ? { fromStdin: true } : undefined),
    },
    'set-password': {
      name: 'users set-password',
      usage: 'users set-password --email E [--password-stdin]',
      summary: "Set a user's console password; the user's sessions end everywhere.",
      details: [
        '--email E          the user',
        '--password-stdin   read the password from standard input (also the default when stdin is not',
        '                   a terminal); otherwise it is asked for twice, without echo',
      ],
      options: { email: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
      required: ['email'],
      check: (v) => checkEmail(str(v, 'email')!),
      password: (v) => ({ fromStdin: Boolean(v['password-stdin']) }),
    },
  },
  keys: {
    create: {
      name: 'keys create',
      usage: 'keys create --email E [--scopes a,b] [--projects 1,2] [--organizations uuid,uuid] [--label L]',
      summary: 'Create a personal API key for a user and print its value (shown only this once).',
      details: [
        '--email E                   owner of the key',
        '--scopes a,b                PostHog scopes: * or <object>:read|write, e.g. feature_flag:write,activity_log:read',
        '                            (default: a full-access key, shown as ["*"])',
        '--projects 1,2              restrict the key to these project ids (the user must be a member of each)',
        '--organizations uuid,uuid   restrict the key to these organizations (the user must be a member of each)',
        '--label L                   a name to recognise the key by',
      ],
      options: {
        email: { type: 'string' },
        scopes: { type: 'string' },
        projects: { type: 'string' },
        organizations: { type: 'string' },
        label: { type: 'string' },
      },
      required: ['email'],
      check: (v) => {
        checkEmail(str(v, 'email')!);
        scopes(v);
        projectIds(v);
        organizationIds(v);
      },
    },
    list: {
      name: 'keys list',
      usage: 'keys list --email E',
      summary: "List a user's personal API keys (masks only, never values).",
      details: ['--email E   owner of the keys'],
      options: { email: { type: 'string' } },
      required: ['email'],
      check: (v) => checkEmail(str(v, 'email')!),
    },
    revoke: {
      name: 'keys revoke',
      usage: 'keys revoke ID',
      summary: 'Delete a personal API key: requests with it fail from now on.',
      details: ["ID   the key's id, as `keys list` shows it"],
      options: {},
      positionals: ['ID'],
    },
  },
  projects: {
    create: {
      name: 'projects create',
      usage: 'projects create --name N [--organization UUID]',
      summary: 'Create a project with a new project token and secret token.',
      details: ["--name N             the project's name", '--organization UUID  owning organization (default: the first organization)'],
      options: { name: { type: 'string' }, organization: { type: 'string' } },
      required: ['name'],
      check: (v) => {
        const org = str(v, 'organization');
        if (org !== undefined) checkOrganizationId(org);
      },
    },
    list: {
      name: 'projects list',
      usage: 'projects list',
      summary: 'List every project with its tokens.',
      details: [],
      options: {},
    },
  },
  organizations: {
    create: {
      name: 'organizations create',
      usage: 'organizations create --name N',
      summary: 'Create an organization (add projects and users to it with --organization).',
      details: ["--name N   the organization's name"],
      options: { name: { type: 'string' } },
      required: ['name'],
    },
    list: {
      name: 'organizations list',
      usage: 'organizations list',
      summary: 'List every organization.',
      details: [],
      options: {},
    },
  },
};

/** Commands of their own: `flaghost <command>`. */
export const SINGLE: Record<string, Command> = {
  init: {
    name: 'init',
    kind: 'init',
    usage: 'init',
    summary: "Initialise an empty database as the server's first start does, and print its values (the personal API key only this once).",
    details: [
      'FLAGHOST_INIT_* choose the values (README "First start"). On a database that is already',
      'initialised nothing changes, and each FLAGHOST_INIT_* variable the database does not hold is named.',
    ],
    options: {},
  },
  'reset-admin-key': {
    name: 'reset-admin-key',
    usage: 'reset-admin-key',
    summary: 'Create a new full-access personal API key for the first admin and print it; revoke the key printed at first start.',
    details: [
      'The first admin is the earliest owner of the first organization. The key printed at first start',
      '(label "Initial key") and keys made by earlier resets are revoked; the admin\'s other keys stay.',
    ],
    options: {},
  },
  backup: {
    name: 'backup',
    kind: 'backup',
    usage: 'backup --out FILE',
    summary: 'Write a backup of the embedded database to FILE (a .tar.gz), consistent while the server runs.',
    details: [
      '--out FILE   where to write the backup (replaced if it exists; readable by its owner only: it holds',
      '             the payload key unless FLAGHOST_SECRET_KEY is set)',
      'On PostgreSQL, use pg_dump (README "Backups").',
    ],
    options: { out: { type: 'string' } },
    required: ['out'],
  },
  restore: {
    name: 'restore',
    kind: 'restore',
    usage: 'restore FILE [--force]',
    summary: 'Restore a backup into FLAGHOST_DATA_DIR. The server on that directory must be stopped.',
    details: [
      'FILE      a file written by `flaghost backup`',
      '--force   replace the database the directory already holds (deleted once the restored one is in place)',
    ],
    options: { force: { type: 'boolean' } },
    positionals: ['FILE'],
  },
};

/** Every command, in the order `--help` lists them. */
export function allCommands(): Command[] {
  return [...Object.values(GROUPS).flatMap((group) => Object.values(group)), ...Object.values(SINGLE)];
}

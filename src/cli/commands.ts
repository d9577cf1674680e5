// The CLI's commands: their options, checks, what each does (through access/organizations/admin.ts) and how
// its result is rendered as JSON.
import { z } from 'zod';
import type { AppContext } from '../platform/context.ts';
import {
  createKey,
  createOrganization,
  createProject,
  createUser,
  listAllOrganizations,
  listKeys,
  listProjects,
  revokeKey,
  validateScopes,
} from '../access/organizations/admin.ts';
import { MembershipLevel, type MembershipLevelName } from '../access/organizations/users-repository.ts';
import type { PersonalApiKey } from '../access/keys/repository.ts';
import type { Organization, Project } from '../access/organizations/projects-repository.ts';
import { isoTime } from '../platform/time.ts';
import { setPasswordByEmail, setPasswordIn, UnknownUserError } from '../access/sign-in/accounts.ts';
import { transact } from '../platform/context.ts';

/** The command line is malformed: exit 2 with the command's usage line. */
export class UsageError extends Error {
  constructor(message: string, readonly usage: string) {
    super(message);
  }
}

/** The command is well formed but cannot be done: exit 1. */
export class CliError extends Error {}

export type Values = Record<string, string | boolean | undefined>;

export interface Command {
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
  run: (ctx: AppContext, values: Values, positionals: string[], password?: string) => Promise<unknown>;
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

export const COMMANDS: Record<string, Record<string, Command>> = {
  users: {
    create: {
      usage: 'users create --email E [--level member|admin|owner] [--first-name N] [--last-name N] [--organization UUID] [--password-stdin]',
      summary: 'Create a user and make them a member of an organization.',
      details: [
        '--email E            the user\'s email (unique, case-insensitive)',
        '--level L            membership level: member (default), admin or owner',
        '--first-name N       first name',
        '--last-name N        last name',
        '--organization UUID  organization to join (default: the first organization)',
        '--password-stdin     read the user\'s console password from standard input (at least 8 characters)',
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
        if (level !== undefined && !LEVELS.includes(level as MembershipLevelName)) {
          throw new CliError(`Invalid level: ${level} (expected ${LEVELS.join(', ')}).`);
        }
        const org = str(v, 'organization');
        if (org !== undefined) checkOrganizationId(org);
      },
      password: (v) => (v['password-stdin'] ? { fromStdin: true } : undefined),
      run: async (ctx, v, _p, password) => {
        const level = (str(v, 'level') ?? 'member') as MembershipLevelName;
        const user = await createUser(ctx, {
          email: str(v, 'email')!,
          level,
          firstName: str(v, 'first-name'),
          lastName: str(v, 'last-name'),
          organizationId: str(v, 'organization'),
        });
        if (password !== undefined) await transact(ctx, (tx) => setPasswordIn(tx, user, password));
        return { ...renderUser(user, level), has_password: password !== undefined };
      },
    },
    'set-password': {
      usage: 'users set-password --email E [--password-stdin]',
      summary: 'Set a user\'s console password; the user\'s sessions end everywhere.',
      details: [
        '--email E          the user',
        '--password-stdin   read the password from standard input (also the default when stdin is not',
        '                   a terminal); otherwise it is asked for twice, without echo',
      ],
      options: { email: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
      required: ['email'],
      check: (v) => checkEmail(str(v, 'email')!),
      password: (v) => ({ fromStdin: Boolean(v['password-stdin']) }),
      run: async (ctx, v, _p, password) => {
        try {
          const user = await setPasswordByEmail(ctx, str(v, 'email')!, password!);
          return { id: user.id, uuid: user.uuid, email: user.email, has_password: true };
        } catch (err) {
          if (err instanceof UnknownUserError) throw new CliError(err.message);
          throw err;
        }
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
        '--projects 1,2              restrict the key to these project ids (the user must be a member of each)',
        '--organizations uuid,uuid   restrict the key to these organizations (the user must be a member of each)',
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

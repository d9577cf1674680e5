// What each CLI command does (through access/organizations/admin.ts) and how its result is rendered as
// JSON. The same handlers run in the CLI's own process and in a server answering on its socket.
import type { AppContext } from '../platform/context.ts';
import type { InitConfig } from '../platform/config.ts';
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
  type BootstrapResult,
} from '../access/organizations/admin.ts';
import { ignoredInitVariables, resetFirstAdminKey } from '../access/organizations/first-admin.ts';
import { MembershipLevel, type MembershipLevelName } from '../access/organizations/users-repository.ts';
import type { PersonalApiKey } from '../access/keys/repository.ts';
import type { Organization, Project } from '../access/organizations/projects-repository.ts';
import { isoTime } from '../platform/time.ts';
import { setPasswordByEmail, setPasswordIn, setupLinkUrl, UnknownUserError } from '../access/sign-in/accounts.ts';
import { transact } from '../platform/context.ts';
import { ConfigError } from '../platform/config.ts';
import { safeText } from '../platform/log-redaction.ts';
import { CliError, organizationIds, projectIds, scopes, str, type Values } from './commands.ts';

export interface RunInput {
  values: Values;
  positionals: string[];
  password?: string;
  /** The FLAGHOST_INIT_* values of the CLI's environment (init and --init use them). */
  init: InitConfig;
}

export type Handler = (ctx: AppContext, input: RunInput) => Promise<unknown>;

/** A failed command's message (redacted and capped: it often ends up in CI logs), and whether it was expected. */
export function failure(err: unknown): { message: string; expected: boolean } {
  const expected = err instanceof CliError || err instanceof AdminError || err instanceof ConfigError;
  const cause = (err as { cause?: unknown }).cause;
  // Drizzle's own message repeats the SQL and its parameters; the driver's cause says what went wrong.
  const message = expected || !(cause instanceof Error) ? (err as Error).message : cause.message;
  return { message: safeText(message, 4096), expected };
}

const renderUser = (
  user: {
    id: number;
    uuid: string;
    email: string;
    firstName: string;
    lastName: string;
    distinctId: string;
    currentOrganizationId: string | null;
    createdAt: Date;
  },
  level: MembershipLevelName,
) => ({
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
  // As the API shows them: a list, empty when the key is not limited (docs/compatibility.md#api-5.2).
  scoped_teams: key.scopedTeams ?? [],
  scoped_organizations: key.scopedOrganizations ?? [],
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

/** What the first start prints, as the CLI shows it (`init`'s result, and the notice of --init). */
export function renderBootstrap(ctx: AppContext, result: BootstrapResult) {
  return {
    initialised: true,
    organization_id: result.organization.id,
    project_id: result.project.id,
    project_token: result.project.apiToken,
    secret_token: result.project.secretApiToken,
    admin_email: result.user.email,
    personal_api_key: result.personalApiKey,
    ...(result.passwordSetupToken ? { password_setup_link: setupLinkUrl(ctx.config, result.user.uuid, result.passwordSetupToken) } : {}),
  };
}

export const HANDLERS: Record<string, Handler> = {
  'users create': async (ctx, { values: v, password }) => {
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

  'users set-password': async (ctx, { values: v, password }) => {
    try {
      const user = await setPasswordByEmail(ctx, str(v, 'email')!, password!);
      return { id: user.id, uuid: user.uuid, email: user.email, has_password: true };
    } catch (err) {
      if (err instanceof UnknownUserError) throw new CliError(err.message);
      throw err;
    }
  },

  'keys create': async (ctx, { values: v }) => {
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

  'keys list': async (ctx, { values: v }) => (await listKeys(ctx, str(v, 'email')!)).map(renderKey),

  'keys revoke': async (ctx, { positionals: [id] }) => {
    await revokeKey(ctx, id);
    return { id, revoked: true };
  },

  'projects create': async (ctx, { values: v }) => renderProject(await createProject(ctx, { name: str(v, 'name')!, organizationId: str(v, 'organization') })),

  'projects list': async (ctx) => (await listProjects(ctx)).map(renderProject),

  'organizations create': async (ctx, { values: v }) => renderOrganization(await createOrganization(ctx, str(v, 'name')!)),

  'organizations list': async (ctx) => (await listAllOrganizations(ctx)).map(renderOrganization),

  init: async (ctx, { init }) => {
    const result = await bootstrap(ctx, init);
    if (result) return renderBootstrap(ctx, result);
    const ignored = await ignoredInitVariables(ctx, init);
    return {
      initialised: false,
      detail: 'The database was already initialised: nothing changed.',
      // Each FLAGHOST_INIT_* variable the database does not hold, with why.
      ignored_variables: ignored,
    };
  },

  'reset-admin-key': async (ctx) => {
    const { user, key, value, revoked } = await resetFirstAdminKey(ctx);
    return { ...renderKey(key), value, user_email: user.email, revoked_key_ids: revoked };
  },
};

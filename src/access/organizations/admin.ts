// Administration shared by first-start bootstrap and the CLI: organizations, projects, users, keys.
import crypto from 'node:crypto';
import type { Db } from '../../platform/db/index.ts';
import { transact, type AppContext } from '../../platform/context.ts';
import {
  countOrganizations,
  findFirstOrganization,
  findOrganization,
  lockForBootstrap,
  insertOrganization,
  insertProject,
  listAllProjects,
  listOrganizations,
  type Organization,
  type Project,
} from './projects-repository.ts';
import { findUserByEmail, insertUser, MembershipLevel, updateUser, upsertMembership, type MembershipLevelName, type User } from './users-repository.ts';
import { deleteKey, findKeyById, insertKey, listKeysOfUser, type PersonalApiKey } from '../keys/repository.ts';
import { generateKeyId, generatePersonalApiKey, generateProjectToken, generateSecretToken, hashKeyValue, maskKeyValue } from '../tokens.ts';
import { SCOPED_ORGANIZATIONS_NOT_MEMBER, SCOPED_TEAMS_NOT_MEMBER, scopingOutsideMemberships } from '../keys/service.ts';
import { createSetupToken, setPasswordIn } from '../sign-in/accounts.ts';

export class AdminError extends Error {}

export interface CreatedProject {
  project: Project;
}

async function organizationOrDefault(db: Db, organizationId?: string): Promise<Organization> {
  const org = organizationId ? await findOrganization(db, organizationId) : await findFirstOrganization(db);
  if (!org) throw new AdminError(organizationId ? `Organization ${organizationId} does not exist.` : 'No organization exists yet: start the server once.');
  return org;
}

export async function createOrganization(ctx: AppContext, name: string): Promise<Organization> {
  return transact(ctx, (tx) => insertOrganization(tx, { name }));
}

export async function createProjectIn(tx: Db, organizationId: string, input: { name: string; apiToken?: string; secretApiToken?: string }): Promise<Project> {
  return insertProject(tx, {
    organizationId,
    name: input.name,
    apiToken: input.apiToken ?? generateProjectToken(),
    secretApiToken: input.secretApiToken ?? generateSecretToken(),
  });
}

export async function createProject(ctx: AppContext, input: { name: string; organizationId?: string }): Promise<Project> {
  return transact(ctx, async (tx, changes) => {
    const org = await organizationOrDefault(tx, input.organizationId);
    const project = await createProjectIn(tx, org.id, { name: input.name });
    changes.project(project.id);
    return project;
  });
}

export async function listProjects(ctx: AppContext): Promise<Project[]> {
  return listAllProjects(ctx.db);
}

export async function listAllOrganizations(ctx: AppContext): Promise<Organization[]> {
  return listOrganizations(ctx.db);
}

async function createUserIn(
  tx: Db,
  input: { email: string; level: MembershipLevelName; firstName?: string; lastName?: string; organizationId?: string },
): Promise<User> {
  if (await findUserByEmail(tx, input.email)) throw new AdminError(`A user with email ${input.email} already exists.`);
  const org = await organizationOrDefault(tx, input.organizationId);
  const [project] = (await listAllProjects(tx)).filter((p) => p.organizationId === org.id);
  const user = await insertUser(tx, {
    email: input.email,
    firstName: input.firstName ?? '',
    lastName: input.lastName ?? '',
    distinctId: crypto.randomUUID(),
    currentOrganizationId: org.id,
    currentProjectId: project?.id ?? null,
  });
  await upsertMembership(tx, org.id, user.id, MembershipLevel[input.level]);
  return user;
}

export async function createUser(
  ctx: AppContext,
  input: { email: string; level: MembershipLevelName; firstName?: string; lastName?: string; organizationId?: string },
): Promise<User> {
  return transact(ctx, async (tx, changes) => {
    const user = await createUserIn(tx, input);
    changes.authChanged();
    return user;
  });
}

/** Adds an existing user to an organization (or changes their level there). */
export async function addMember(ctx: AppContext, input: { email: string; organizationId: string; level: MembershipLevelName }): Promise<void> {
  await transact(ctx, async (tx, changes) => {
    const user = await findUserByEmail(tx, input.email);
    if (!user) throw new AdminError(`No user with email ${input.email}.`);
    const org = await organizationOrDefault(tx, input.organizationId);
    await upsertMembership(tx, org.id, user.id, MembershipLevel[input.level]);
    if (!user.currentOrganizationId) await updateUser(tx, user.id, { currentOrganizationId: org.id });
    changes.authChanged();
  });
}

export { API_SCOPE_OBJECTS } from '../scopes.ts';

export interface NewKeyInput {
  email: string;
  scopes?: string[] | null;
  scopedTeams?: number[] | null;
  scopedOrganizations?: string[] | null;
  label?: string;
  value?: string;
}

export async function createKeyIn(tx: Db, user: User, input: Omit<NewKeyInput, 'email'>): Promise<{ key: PersonalApiKey; value: string }> {
  const value = input.value ?? generatePersonalApiKey();
  const key = await insertKey(tx, {
    id: generateKeyId(),
    userId: user.id,
    label: input.label ?? '',
    secureValue: hashKeyValue(value),
    maskValue: maskKeyValue(value),
    scopes: input.scopes?.length ? input.scopes : null,
    scopedTeams: input.scopedTeams?.length ? input.scopedTeams : null,
    scopedOrganizations: input.scopedOrganizations?.length ? input.scopedOrganizations : null,
  });
  return { key, value };
}

export async function createKey(ctx: AppContext, input: NewKeyInput): Promise<{ key: PersonalApiKey; value: string }> {
  return transact(ctx, async (tx) => {
    const user = await findUserByEmail(tx, input.email);
    if (!user) throw new AdminError(`No user with email ${input.email}.`);
    // A key scoped to a project or organization its owner is not in would be refused everywhere.
    const outside = await scopingOutsideMemberships(tx, user.id, {
      teams: input.scopedTeams ?? undefined,
      organizations: input.scopedOrganizations ?? undefined,
    });
    if (outside) throw new AdminError(outside === 'scoped_teams' ? SCOPED_TEAMS_NOT_MEMBER : SCOPED_ORGANIZATIONS_NOT_MEMBER);
    return createKeyIn(tx, user, input);
  });
}

export async function listKeys(ctx: AppContext, email: string): Promise<PersonalApiKey[]> {
  const user = await findUserByEmail(ctx.db, email);
  if (!user) throw new AdminError(`No user with email ${email}.`);
  return listKeysOfUser(ctx.db, user.id);
}

export async function revokeKey(ctx: AppContext, id: string): Promise<void> {
  await transact(ctx, async (tx, changes) => {
    if (!(await findKeyById(tx, id))) throw new AdminError(`No personal API key with id ${id}.`);
    await deleteKey(tx, id);
    changes.authChanged();
  });
}

/** The first admin's email when FLAGHOST_INIT_ADMIN_EMAIL is unset. */
export const DEFAULT_ADMIN_EMAIL = 'admin@flaghost.local';

/** The label of the personal API key printed at first start (`reset-admin-key` revokes it). */
export const INITIAL_KEY_LABEL = 'Initial key';

export interface BootstrapResult {
  organization: Organization;
  project: Project;
  user: User;
  personalApiKey: string;
  /** Without an init password: the one-time token of the admin's set-password link (24 hours). */
  passwordSetupToken?: string;
  generated: { email: boolean; personalApiKey: boolean; projectToken: boolean; secretToken: boolean };
}

/**
 * On an empty database: organization "Default", project 1 with its tokens, and an owner with a
 * full-access personal API key and either the init password or a one-time set-password link.
 * Returns undefined when anything already exists (never overwrites).
 */
export async function bootstrap(
  ctx: AppContext,
  init: { adminEmail?: string; adminPassword?: string; personalApiKey?: string; projectToken?: string; secretToken?: string },
): Promise<BootstrapResult | undefined> {
  return transact(ctx, async (tx, changes) => {
    // Two instances starting together on one PostgreSQL: only one bootstraps.
    await lockForBootstrap(tx);
    if ((await countOrganizations(tx)) > 0) return undefined;
    const organization = await insertOrganization(tx, { name: 'Default' });
    const project = await createProjectIn(tx, organization.id, {
      name: 'Default Project',
      apiToken: init.projectToken,
      secretApiToken: init.secretToken,
    });
    const email = init.adminEmail ?? DEFAULT_ADMIN_EMAIL;
    const user = await createUserIn(tx, { email, level: 'owner', firstName: 'Admin', organizationId: organization.id });
    const { value } = await createKeyIn(tx, user, { label: INITIAL_KEY_LABEL, value: init.personalApiKey, scopes: null });
    let passwordSetupToken: string | undefined;
    if (init.adminPassword) await setPasswordIn(tx, user, init.adminPassword);
    else passwordSetupToken = await createSetupToken(ctx, tx, user);
    changes.project(project.id);
    changes.authChanged();
    return {
      organization,
      project,
      user,
      personalApiKey: value,
      passwordSetupToken,
      generated: {
        email: !init.adminEmail,
        personalApiKey: !init.personalApiKey,
        projectToken: !init.projectToken,
        secretToken: !init.secretToken,
      },
    };
  });
}

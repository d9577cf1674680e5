// Project and organization administration through the API (docs/compatibility.md#api-8.4): a
// project's name and time zone, its public token reset, its secret token rotated with the previous
// one kept as a backup until deleted, and new projects and organizations. Token changes commit with
// a project change (every instance rebuilds the project's snapshot and token map) and an auth change
// (every instance forgets the secret tokens it has checked).
import { transact, type AppContext } from '../../platform/context.ts';
import type { Db } from '../../platform/db/index.ts';
import type { RequestAuth } from '../auth.ts';
import {
  countProjectsOfOrganization,
  findOrganization,
  findProjectForUpdate,
  insertOrganization,
  lockOrganization,
  updateProject,
  type Organization,
  type Project,
} from './projects-repository.ts';
import { listMembershipsOfUser, lockUser, MembershipLevel, updateUser, upsertMembership, type Membership } from './users-repository.ts';
import { createProjectIn } from './admin.ts';
import { describeOrganization } from './service.ts';
import { toProject } from './schemas.ts';
import { generateProjectToken, generateSecretToken } from '../tokens.ts';
import { NotFoundError, PermissionDeniedError, ValidationError } from '../../platform/errors.ts';
import { requireMembership, requireProject, requireUser } from '../require-auth.ts';

/** PostHog's TeamMemberStrictManagementPermission message: token actions need an admin. */
export const PROJECT_ADMIN_ONLY = "You don't have sufficient permissions in the project.";
/** PostHog's OrganizationAdminWritePermissions message: creating a project needs an admin. */
export const ORGANIZATION_ADMIN_ONLY = 'Your organization access level is insufficient.';
/** Bounds on what one user can create (PostHog bounds them by plan). */
export const MAX_PROJECTS_PER_ORGANIZATION = 100;
export const MAX_ORGANIZATIONS_PER_USER = 20;

let zones: Set<string> | undefined;

/** A time zone name PostHog would accept (IANA names, as pytz lists them) that the evaluator can use. */
export function isValidTimezone(name: string): boolean {
  zones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT']);
  if (zones.has(name)) return true;
  // Aliases (US/Pacific, Europe/Kiev…) that ICU knows but does not list; exact case only.
  if (!/^[A-Z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

async function lockedProject(tx: Db, auth: RequestAuth): Promise<Project> {
  const project = await findProjectForUpdate(tx, requireProject(auth).id);
  if (!project) throw new NotFoundError('Project not found.');
  return project;
}

function requireProjectAdmin(auth: RequestAuth): Membership {
  const membership = requireMembership(auth);
  if (membership.level < MembershipLevel.admin) throw new PermissionDeniedError(PROJECT_ADMIN_ONLY);
  return membership;
}

export async function updateProjectSettings(ctx: AppContext, auth: RequestAuth, body: { name?: string; timezone?: string }) {
  const membership = requireMembership(auth);
  if (body.timezone !== undefined && !isValidTimezone(body.timezone)) {
    throw new ValidationError(`"${body.timezone}" is not a valid choice.`, 'invalid_choice', 'timezone');
  }
  return transact(ctx, async (tx, changes) => {
    const project = await lockedProject(tx, auth);
    const values: Partial<Project> = {};
    if (body.name !== undefined && body.name !== project.name) values.name = body.name;
    if (body.timezone !== undefined && body.timezone !== project.timezone) values.timezone = body.timezone;
    if (!Object.keys(values).length) return toProject(project, membership);
    const updated = await updateProject(tx, project.id, values);
    // The time zone changes how date conditions evaluate: SDKs must get the rebuilt snapshot.
    changes.project(project.id);
    return toProject(updated, membership);
  });
}

/** A new public token: the old one stops identifying the project at once, on every instance. */
export async function resetProjectToken(ctx: AppContext, auth: RequestAuth) {
  const membership = requireProjectAdmin(auth);
  return transact(ctx, async (tx, changes) => {
    const project = await lockedProject(tx, auth);
    const updated = await updateProject(tx, project.id, { apiToken: generateProjectToken() });
    changes.project(project.id);
    changes.authChanged();
    return toProject(updated, membership);
  });
}

/** A new secret token; the current one becomes the backup (replacing any older backup) and keeps working. */
export async function rotateSecretToken(ctx: AppContext, auth: RequestAuth) {
  const membership = requireProjectAdmin(auth);
  return transact(ctx, async (tx, changes) => {
    const project = await lockedProject(tx, auth);
    const updated = await updateProject(tx, project.id, { secretApiTokenBackup: project.secretApiToken, secretApiToken: generateSecretToken() });
    changes.project(project.id);
    changes.authChanged();
    return toProject(updated, membership);
  });
}

/** Retires the backup secret token: requests with it are refused from now on, on every instance. */
export async function deleteSecretTokenBackup(ctx: AppContext, auth: RequestAuth) {
  const membership = requireProjectAdmin(auth);
  return transact(ctx, async (tx, changes) => {
    const project = await lockedProject(tx, auth);
    if (project.secretApiTokenBackup === null) return toProject(project, membership);
    const updated = await updateProject(tx, project.id, { secretApiTokenBackup: null });
    changes.project(project.id);
    changes.authChanged();
    return toProject(updated, membership);
  });
}

/** A new project in the organization (admins); it becomes the caller's current project, as in PostHog. */
export async function createProjectForUser(ctx: AppContext, auth: RequestAuth, organization: Organization, membership: Membership, body: { name: string }) {
  const user = requireUser(auth);
  if (membership.level < MembershipLevel.admin) throw new PermissionDeniedError(ORGANIZATION_ADMIN_ONLY);
  return transact(ctx, async (tx, changes) => {
    // Serialize creations in this organization, so the bound holds under concurrent requests.
    await lockOrganization(tx, organization.id);
    if ((await countProjectsOfOrganization(tx, organization.id)) >= MAX_PROJECTS_PER_ORGANIZATION) {
      throw new ValidationError(`An organization can have at most ${MAX_PROJECTS_PER_ORGANIZATION} projects.`);
    }
    const project = await createProjectIn(tx, organization.id, { name: body.name });
    await updateUser(tx, user.id, { currentProjectId: project.id, currentOrganizationId: organization.id });
    changes.project(project.id);
    changes.authChanged();
    return toProject(project, membership);
  });
}

/** A new organization with its owner (the caller) and a first project, which become the caller's current ones. */
export async function createOrganizationForUser(ctx: AppContext, auth: RequestAuth, body: { name: string }) {
  const user = requireUser(auth);
  const created = await transact(ctx, async (tx, changes) => {
    await lockUser(tx, user.id);
    if ((await listMembershipsOfUser(tx, user.id)).length >= MAX_ORGANIZATIONS_PER_USER) {
      throw new ValidationError(`You can belong to at most ${MAX_ORGANIZATIONS_PER_USER} organizations.`);
    }
    const organization = await insertOrganization(tx, { name: body.name });
    const membership = await upsertMembership(tx, organization.id, user.id, MembershipLevel.owner);
    const project = await createProjectIn(tx, organization.id, { name: 'Default project' });
    await updateUser(tx, user.id, { currentOrganizationId: organization.id, currentProjectId: project.id });
    changes.project(project.id);
    changes.authChanged();
    return { organization, membership };
  });
  const organization = (await findOrganization(ctx.db, created.organization.id)) ?? created.organization;
  return describeOrganization(ctx, organization, created.membership);
}

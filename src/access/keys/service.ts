// Personal API key self-service (/api/personal_api_keys/): a user lists, creates, renames,
// re-scopes and revokes their own keys. The value is shown once; a revoked or re-scoped key
// changes on every instance as soon as the change commits.
import type { Db } from '../../platform/db/index.ts';
import { transact, type AppContext } from '../../platform/context.ts';
import type { RequestAuth } from '../auth.ts';
import { countKeysOfUser, deleteKey, findKeyOfUser, insertKey, listKeysOfUser, lockKeysOfUser, updateKey, type PersonalApiKey } from './repository.ts';
import { listMembershipsOfUser, type User } from '../organizations/users-repository.ts';
import { listProjectsOfOrganizations } from '../organizations/projects-repository.ts';
import { toPersonalApiKey, type PersonalApiKeyOut, type PersonalApiKeyWrite } from './schemas.ts';
import { generateKeyId, generatePersonalApiKey, hashKeyValue, maskKeyValue } from '../tokens.ts';
import { NotFoundError, ValidationError } from '../../platform/errors.ts';
import { requireUser } from '../require-auth.ts';

/** PostHog's MAX_API_KEYS_PER_USER. */
export const MAX_KEYS_PER_USER = 10;

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function canonicalUuid(value: string): string {
  const hex = value.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const SCOPED_TEAMS_NOT_MEMBER = 'You must be a member of all teams that you are scoping the key to.';
export const SCOPED_ORGANIZATIONS_NOT_MEMBER = 'You must be a member of all organizations that you are scoping the key to.';

/**
 * Which scoping names a project or organization the user does not belong to (undefined: none).
 * A key scoped there would be refused everywhere; the API and the CLI both refuse to create it.
 */
export async function scopingOutsideMemberships(
  db: Db,
  userId: number,
  scoping: { teams?: readonly number[]; organizations?: readonly string[] },
): Promise<'scoped_teams' | 'scoped_organizations' | undefined> {
  if (!scoping.teams?.length && !scoping.organizations?.length) return undefined;
  const organizations = new Set((await listMembershipsOfUser(db, userId)).map((m) => m.organizationId));
  if (scoping.teams?.length) {
    const projects = new Set((await listProjectsOfOrganizations(db, [...organizations])).map((p) => p.id));
    if (!scoping.teams.every((id) => projects.has(id))) return 'scoped_teams';
  }
  if (scoping.organizations?.length && !scoping.organizations.every((id) => organizations.has(id.toLowerCase()))) return 'scoped_organizations';
  return undefined;
}

/** PostHog's scoped_teams / scoped_organizations checks: only projects and organizations the user is in. */
async function checkScoping(db: Db, user: User, body: PersonalApiKeyWrite): Promise<{ scopedTeams?: number[]; scopedOrganizations?: string[] }> {
  const out: { scopedTeams?: number[]; scopedOrganizations?: string[] } = {};
  if (body.scoped_teams !== undefined) {
    if (await scopingOutsideMemberships(db, user.id, { teams: body.scoped_teams })) {
      throw new ValidationError(SCOPED_TEAMS_NOT_MEMBER, 'invalid_input', 'scoped_teams');
    }
    out.scopedTeams = [...new Set(body.scoped_teams)];
  }
  if (body.scoped_organizations !== undefined) {
    if (!body.scoped_organizations.every((id) => UUID.test(id)))
      throw new ValidationError('Invalid organization UUID', 'invalid_input', 'scoped_organizations');
    const ids = body.scoped_organizations.map(canonicalUuid);
    if (await scopingOutsideMemberships(db, user.id, { organizations: ids })) {
      throw new ValidationError(SCOPED_ORGANIZATIONS_NOT_MEMBER, 'invalid_input', 'scoped_organizations');
    }
    out.scopedOrganizations = [...new Set(ids)];
  }
  return out;
}

/** The caller's own key; `@current` is the key making the request. Another user's key: 404. */
async function ownKey(db: Db, auth: RequestAuth, id: string): Promise<PersonalApiKey> {
  const user = requireUser(auth);
  const keyId = id === '@current' && auth.principal.kind === 'user' ? auth.principal.key.id : id;
  const key = await findKeyOfUser(db, user.id, keyId);
  if (!key) throw new NotFoundError();
  return key;
}

/** The caller's keys, newest first (a plain list, as PostHog answers). */
export async function listPersonalApiKeys(ctx: AppContext, auth: RequestAuth): Promise<PersonalApiKeyOut[]> {
  const keys = await listKeysOfUser(ctx.db, requireUser(auth).id);
  return keys.reverse().map((k) => toPersonalApiKey(k));
}

export async function getPersonalApiKey(ctx: AppContext, auth: RequestAuth, id: string): Promise<PersonalApiKeyOut> {
  return toPersonalApiKey(await ownKey(ctx.db, auth, id));
}

export async function createPersonalApiKey(ctx: AppContext, auth: RequestAuth, body: PersonalApiKeyWrite): Promise<PersonalApiKeyOut> {
  const user = requireUser(auth);
  return transact(ctx, async (tx) => {
    const scoping = await checkScoping(tx, user, body);
    await lockKeysOfUser(tx, user.id);
    if ((await countKeysOfUser(tx, user.id)) >= MAX_KEYS_PER_USER) {
      throw new ValidationError(`You can only have ${MAX_KEYS_PER_USER} personal API keys. Remove an existing key before creating a new one.`);
    }
    const value = generatePersonalApiKey();
    const key = await insertKey(tx, {
      id: generateKeyId(),
      userId: user.id,
      label: body.label!,
      secureValue: hashKeyValue(value),
      maskValue: maskKeyValue(value),
      scopes: body.scopes!,
      scopedTeams: scoping.scopedTeams ?? [],
      scopedOrganizations: scoping.scopedOrganizations ?? [],
      createdAt: ctx.now(),
    });
    return toPersonalApiKey(key, value);
  });
}

export async function updatePersonalApiKey(ctx: AppContext, auth: RequestAuth, id: string, body: PersonalApiKeyWrite): Promise<PersonalApiKeyOut> {
  const user = requireUser(auth);
  return transact(ctx, async (tx, changes) => {
    const existing = await ownKey(tx, auth, id);
    const scoping = await checkScoping(tx, user, body);
    const values: Partial<PersonalApiKey> = {};
    if (body.label !== undefined) values.label = body.label;
    if (body.scopes !== undefined) values.scopes = body.scopes;
    if (scoping.scopedTeams !== undefined) values.scopedTeams = scoping.scopedTeams;
    if (scoping.scopedOrganizations !== undefined) values.scopedOrganizations = scoping.scopedOrganizations;
    if (!Object.keys(values).length) return toPersonalApiKey(existing);
    const updated = await updateKey(tx, existing.id, values);
    // Instances hold keys (with their scopes) in memory: drop them everywhere.
    changes.authChanged();
    return toPersonalApiKey(updated!);
  });
}

/** Revokes the key: it stops working on every instance once this commits. */
export async function deletePersonalApiKey(ctx: AppContext, auth: RequestAuth, id: string): Promise<void> {
  await transact(ctx, async (tx, changes) => {
    const existing = await ownKey(tx, auth, id);
    await deleteKey(tx, existing.id);
    changes.authChanged();
  });
}

/** A new value for the key (same label, scopes and scoping); the old value stops working at once, on every instance. */
export async function rollPersonalApiKey(ctx: AppContext, auth: RequestAuth, id: string): Promise<PersonalApiKeyOut> {
  return transact(ctx, async (tx, changes) => {
    const existing = await ownKey(tx, auth, id);
    const value = generatePersonalApiKey();
    const updated = await updateKey(tx, existing.id, { secureValue: hashKeyValue(value), maskValue: maskKeyValue(value), lastRolledAt: ctx.now() });
    changes.authChanged();
    return toPersonalApiKey(updated!, value);
  });
}

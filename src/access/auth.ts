// Who is calling: personal API keys and project secret tokens, verified against the database
// and cached briefly in memory (cleared on every committed auth change, on every instance), and
// console sessions, read from the database on every request so that logout is immediate.
import type { AppContext } from '../platform/context.ts';
import { findKeyWithUserByHash, touchKeyLastUsed, type PersonalApiKey } from './keys/repository.ts';
import { findMembership, MembershipLevel } from './organizations/users-repository.ts';
import { findProjectBySecretToken, type Organization, type Project } from './organizations/projects-repository.ts';
import type { Membership, User } from './organizations/users-repository.ts';
import { hashKeyValue } from './tokens.ts';
import { PermissionDeniedError } from '../platform/errors.ts';
import { databaseFailure } from '../platform/db/errors.ts';
import { resolveSession, type Session } from './sign-in/sessions.ts';

export interface UserPrincipal {
  kind: 'user';
  user: User;
  key: PersonalApiKey;
}

export interface ProjectSecretPrincipal {
  kind: 'project_secret';
  project: Project;
}

/** A signed-in person (the console): the user's own permissions, no key scopes or key policy. */
export interface SessionPrincipal {
  kind: 'session';
  user: User;
  session: Session;
}

export type Principal = UserPrincipal | ProjectSecretPrincipal | SessionPrincipal;

/** An authenticated, authorized request: who calls, and for which project. */
export interface RequestAuth {
  principal: Principal;
  /** The calling user (undefined for a project secret token). */
  user?: User;
  project?: Project;
  organization?: Organization;
  membership?: Membership;
}

const CACHE_TTL_MS = 10_000;
const CACHE_MAX_ENTRIES = 10_000;
const LAST_USED_RESOLUTION_MS = 60 * 60 * 1000;

interface CacheEntry<T> {
  value: T | undefined;
  expiresAt: number;
}

/**
 * A small TTL map that never grows past its bound (oldest entries go first). An expired entry is
 * reloaded on its next use, but kept until then: when the database cannot be reached, the last
 * answer stands (a credential last known valid stays valid, one the database refused stays
 * refused), so that SDKs keep their definitions through an outage. `clear()` forgets everything
 * (a committed auth change: a revocation must not be answered from memory) and starts a new
 * generation: a lookup that began before it (and may have read rows since revoked) is not cached.
 */
class TtlCache<T> {
  private readonly map = new Map<string, CacheEntry<T>>();
  private generation = 0;
  /** The entry if it has not expired. */
  get(key: string, now: number): CacheEntry<T> | undefined {
    const entry = this.map.get(key);
    return entry && entry.expiresAt > now ? entry : undefined;
  }
  /** Loads a missing or expired entry with `load`, caching the result unless the cache was cleared meanwhile. */
  async getOrLoad(key: string, now: number, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const entry = this.map.get(key);
    if (entry && entry.expiresAt > now) return entry.value;
    const generation = this.generation;
    let value: T | undefined;
    try {
      value = await load();
    } catch (error) {
      if (entry && generation === this.generation && databaseFailure(error)) return entry.value;
      throw error;
    }
    if (generation === this.generation) this.set(key, value, now);
    return value;
  }
  set(key: string, value: T | undefined, now: number): void {
    this.map.delete(key);
    if (this.map.size >= CACHE_MAX_ENTRIES) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, { value, expiresAt: now + CACHE_TTL_MS });
  }
  /** Every entry is reloaded on its next use, but still answers while the database cannot be reached. */
  expireAll(): void {
    for (const entry of this.map.values()) entry.expiresAt = 0;
  }
  clear(): void {
    this.generation++;
    this.map.clear();
  }
}

export class Authenticator {
  private readonly keys = new TtlCache<{ key: PersonalApiKey; user: User }>();
  private readonly secrets = new TtlCache<Project>();
  private readonly memberships = new TtlCache<Membership>();

  constructor(private readonly ctx: AppContext) {
    ctx.changes.onAuthChanged(() => this.clear());
    // Any project change (a flag edit) re-reads secret tokens, but does not forget them: a flag
    // edited just before an outage must not lock SDKs out of their definitions. Whatever retires a
    // secret token must therefore record an auth change, which clears the cache.
    ctx.changes.onProjectChanged(() => this.secrets.expireAll());
  }

  /** For the CSRF check of session requests: the origin browsers see besides the request's own. */
  get publicUrl(): string | undefined {
    return this.ctx.config.publicUrl;
  }

  clear(): void {
    this.keys.clear();
    this.secrets.clear();
    this.memberships.clear();
  }

  /** The user's membership in an organization (cached like keys). */
  async membership(userId: number, organizationId: string): Promise<Membership | undefined> {
    return this.memberships.getOrLoad(`${userId}:${organizationId}`, Date.now(), () => findMembership(this.ctx.db, organizationId, userId));
  }

  /**
   * May this principal call a route with `access` on this project? PostHog's permission order:
   * project secret restrictions, then key scopes and project/organization scoping, then
   * membership and the organization's personal-API-key policy.
   */
  async authorizeProject(
    principal: Principal,
    project: Project,
    organization: Organization,
    access: { scope: string | null; projectSecret?: boolean },
  ): Promise<RequestAuth> {
    if (principal.kind === 'project_secret') {
      if (!access.projectSecret) throw new PermissionDeniedError('This action does not support project secret API key access');
      if (project.id !== principal.project.id) {
        throw new PermissionDeniedError(`API key does not have access to the requested project: ID ${project.id}.`);
      }
      return { principal, project, organization };
    }
    if (principal.kind === 'user') checkKeyScopes(principal.key, access.scope, project);
    const membership = await this.membership(principal.user.id, organization.id);
    if (!membership) throw new PermissionDeniedError("You don't have access to the project.");
    if (principal.kind === 'user') checkPersonalApiKeyPolicy(organization, membership);
    return { principal, user: principal.user, project, organization, membership };
  }

  /**
   * The same for organization routes (`/api/organizations/:organization_id/…`): key scopes, then
   * the key's organization scoping (a key scoped to projects cannot use them), then membership.
   */
  async authorizeOrganization(principal: Principal, organization: Organization, access: { scope: string | null }): Promise<RequestAuth> {
    if (principal.kind === 'project_secret') throw new PermissionDeniedError('This action does not support project secret API key access');
    if (principal.kind === 'user') checkKeyScopes(principal.key, access.scope, undefined, organization);
    const membership = await this.membership(principal.user.id, organization.id);
    if (!membership) throw new PermissionDeniedError();
    if (principal.kind === 'user') checkPersonalApiKeyPolicy(organization, membership);
    return { principal, user: principal.user, organization, membership };
  }

  /**
   * The hot path's synchronous check that a credential may read this project's flag definitions,
   * from cached rows only. `true` means allowed; `undefined` means "not known from the cache, or
   * refused": the full (awaiting) check then decides and renders the error.
   */
  peekDefinitionsAccess(credential: string, project: Project, organization: Organization): true | undefined {
    const now = Date.now();
    if (credential.startsWith('phs_')) {
      const secretProject = this.secrets.get(credential, now)?.value;
      return secretProject && secretProject.id === project.id ? true : undefined;
    }
    const found = this.keys.get(hashKeyValue(credential), now)?.value;
    if (!found || !found.user.isActive || now - (found.key.lastUsedAt?.getTime() ?? 0) > LAST_USED_RESOLUTION_MS) return undefined;
    const membership = this.memberships.get(`${found.user.id}:${organization.id}`, now)?.value;
    if (!membership) return undefined;
    try {
      checkKeyScopes(found.key, 'feature_flag:read', project);
      checkPersonalApiKeyPolicy(organization, membership);
    } catch {
      return undefined;
    }
    return true;
  }

  /** The active user owning this personal API key, or undefined when the key is unknown. */
  async personalApiKey(value: string): Promise<UserPrincipal | undefined> {
    const hash = hashKeyValue(value);
    const now = Date.now();
    const found = await this.keys.getOrLoad(hash, now, () => findKeyWithUserByHash(this.ctx.db, hash));
    if (!found || !found.user.isActive) return undefined;
    const last = found.key.lastUsedAt?.getTime() ?? 0;
    if (now - last > LAST_USED_RESOLUTION_MS) {
      found.key.lastUsedAt = new Date(now);
      // Best effort: a failed usage timestamp must not fail the request.
      touchKeyLastUsed(this.ctx.db, found.key.id, new Date(now)).catch((err) => this.ctx.log.warn({ err }, 'could not record when a personal API key was last used'));
    }
    return { kind: 'user', user: found.user, key: found.key };
  }

  /** The signed-in user behind a `sessionid` cookie value, or undefined (unknown, expired, inactive). */
  async session(token: string): Promise<SessionPrincipal | undefined> {
    const found = await resolveSession(this.ctx, token);
    return found ? { kind: 'session', user: found.user, session: found.session } : undefined;
  }

  async projectSecret(value: string): Promise<ProjectSecretPrincipal | undefined> {
    const project = await this.secrets.getOrLoad(value, Date.now(), () => findProjectBySecretToken(this.ctx.db, value));
    return project ? { kind: 'project_secret', project } : undefined;
  }
}

function checkPersonalApiKeyPolicy(organization: Organization, membership: Membership): void {
  if (!organization.membersCanUsePersonalApiKeys && membership.level < MembershipLevel.admin) {
    throw new PermissionDeniedError(
      `Organization '${organization.name}' does not allow using personal API keys. Contact an admin to enable personal API keys for this organization.`,
    );
  }
}

/**
 * PostHog's APIScopePermission for a personal API key: `requiredScope` null means the action has
 * no scope mapping. Legacy keys (scopes null or empty) pass every scope check. `project` is the
 * project of a project route, `organization` the organization of an organization route.
 */
export function checkKeyScopes(key: PersonalApiKey, requiredScope: string | null, project?: Project, organization?: Organization): void {
  const scopes = key.scopes;
  const legacy = !scopes || scopes.length === 0;
  if (!legacy && !requiredScope) throw new PermissionDeniedError('This action does not support Personal API Key access');
  // Project and organization scoping binds every key, legacy ones included.
  if (project) {
    if (key.scopedTeams?.length && !key.scopedTeams.includes(project.id)) {
      throw new PermissionDeniedError(`API key does not have access to the requested project: ID ${project.id}.`);
    }
    if (key.scopedOrganizations?.length && !key.scopedOrganizations.includes(project.organizationId)) {
      throw new PermissionDeniedError(`API key does not have access to the requested organization: ID ${project.organizationId}.`);
    }
  } else if (organization) {
    if (key.scopedTeams?.length) throw new PermissionDeniedError('API keys with scoped projects are only supported on project-based endpoints.');
    if (key.scopedOrganizations?.length && !key.scopedOrganizations.includes(organization.id)) {
      throw new PermissionDeniedError(`API key does not have access to the requested organization: ID ${organization.id}.`);
    }
  }
  if (legacy || scopes.includes('*')) return;
  const valid = [requiredScope!];
  if (requiredScope!.endsWith(':read')) valid.push(requiredScope!.replace(/:read$/, ':write'));
  if (!valid.some((s) => scopes!.includes(s))) throw new PermissionDeniedError(`API key missing required scope '${requiredScope}'`);
}

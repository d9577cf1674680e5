// What the authorization chain (src/access/authorization.ts) reads: personal API keys and project
// secret tokens, verified against the database and cached briefly in memory (cleared on every
// committed auth change, on every instance); memberships, cached the same way; console sessions,
// read from the database on every request so that logout is immediate; projects and
// organizations, read from the database. The peek… lookups answer from the caches alone.
import type { AppContext } from '../platform/context.ts';
import { findKeyWithUserByHash, touchKeyLastUsed } from './keys/repository.ts';
import { findMembership, listMembershipsOfUser } from './organizations/users-repository.ts';
import {
  findOrganization,
  findProject,
  findProjectBySecretToken,
  findProjectByToken,
  listProjectsOfOrganizations,
  type Organization,
  type Project,
} from './organizations/projects-repository.ts';
import type { Membership, User } from './organizations/users-repository.ts';
import { hashKeyValue } from './tokens.ts';
import { databaseFailure } from '../platform/db/errors.ts';
import { resolveSession } from './sign-in/sessions.ts';
import {
  NOT_IN_MEMORY,
  type AccessLookups,
  type NotInMemory,
  type ProjectInOrganization,
  type ProjectSecretPrincipal,
  type SessionPrincipal,
  type UserPrincipal,
} from './authorization.ts';

export type { Principal, ProjectSecretPrincipal, RequestAuth, SessionPrincipal, UserPrincipal } from './authorization.ts';

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

export class Authenticator implements AccessLookups {
  /** By key hash: the key's principal (the cached object is handed out, its `lastUsedAt` kept current). */
  private readonly keys = new TtlCache<UserPrincipal>();
  private readonly secrets = new TtlCache<ProjectSecretPrincipal>();
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

  /** The active user owning this personal API key, or undefined when the key is unknown. */
  async personalApiKey(value: string): Promise<UserPrincipal | undefined> {
    const hash = hashKeyValue(value);
    const now = Date.now();
    const found = await this.keys.getOrLoad(hash, now, async () => {
      const row = await findKeyWithUserByHash(this.ctx.db, hash);
      return row ? { kind: 'user', user: row.user, key: row.key } : undefined;
    });
    if (!found || !found.user.isActive) return undefined;
    const last = found.key.lastUsedAt?.getTime() ?? 0;
    if (now - last > LAST_USED_RESOLUTION_MS) {
      found.key.lastUsedAt = new Date(now);
      // Best effort: a failed usage timestamp must not fail the request.
      touchKeyLastUsed(this.ctx.db, found.key.id, new Date(now)).catch((err) =>
        this.ctx.log.warn({ err }, 'could not record when a personal API key was last used'),
      );
    }
    return found;
  }

  /** The signed-in user behind a `sessionid` cookie value, or undefined (unknown, expired, inactive). */
  async session(token: string): Promise<SessionPrincipal | undefined> {
    const found = await resolveSession(this.ctx, token);
    return found ? { kind: 'session', user: found.user, session: found.session } : undefined;
  }

  async projectSecret(value: string): Promise<ProjectSecretPrincipal | undefined> {
    return this.secrets.getOrLoad(value, Date.now(), async () => {
      const project = await findProjectBySecretToken(this.ctx.db, value);
      return project ? { kind: 'project_secret', project } : undefined;
    });
  }

  async projectByToken(token: string): Promise<ProjectInOrganization | undefined> {
    return this.inOrganization(await findProjectByToken(this.ctx.db, token));
  }

  async projectById(id: number): Promise<ProjectInOrganization | undefined> {
    return this.inOrganization(await findProject(this.ctx.db, id));
  }

  async firstProjectOf(user: User): Promise<ProjectInOrganization | undefined> {
    const memberships = await listMembershipsOfUser(this.ctx.db, user.id);
    const [first] = await listProjectsOfOrganizations(
      this.ctx.db,
      memberships.map((m) => m.organizationId),
    );
    return this.inOrganization(first);
  }

  async organizationById(id: string): Promise<Organization | undefined> {
    return findOrganization(this.ctx.db, id);
  }

  async currentOrganizationOf(user: User): Promise<Organization | undefined> {
    const memberships = await listMembershipsOfUser(this.ctx.db, user.id);
    const id = (memberships.find((m) => m.organizationId === user.currentOrganizationId) ?? memberships[0])?.organizationId;
    return id ? findOrganization(this.ctx.db, id) : undefined;
  }

  private async inOrganization(project: Project | undefined): Promise<ProjectInOrganization | undefined> {
    const organization = project ? await findOrganization(this.ctx.db, project.organizationId) : undefined;
    return project && organization ? { project, organization } : undefined;
  }

  // ---- from memory alone: NOT_IN_MEMORY when the cache holds no current answer -----------------

  /** As personalApiKey, without a database read and without a due `last_used_at` update. */
  peekPersonalApiKey(value: string): UserPrincipal | undefined | NotInMemory {
    const now = Date.now();
    const entry = this.keys.get(hashKeyValue(value), now);
    if (!entry) return NOT_IN_MEMORY;
    const found = entry.value;
    if (!found || !found.user.isActive) return undefined;
    return now - (found.key.lastUsedAt?.getTime() ?? 0) > LAST_USED_RESOLUTION_MS ? NOT_IN_MEMORY : found;
  }

  peekProjectSecret(value: string): ProjectSecretPrincipal | undefined | NotInMemory {
    const entry = this.secrets.get(value, Date.now());
    return entry ? entry.value : NOT_IN_MEMORY;
  }

  peekMembership(userId: number, organizationId: string): Membership | undefined | NotInMemory {
    const entry = this.memberships.get(`${userId}:${organizationId}`, Date.now());
    return entry ? entry.value : NOT_IN_MEMORY;
  }
}

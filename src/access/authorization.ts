// The authorization chain, top to bottom: credential → principal → organization or project →
// scopes and key policy. One generator serves every caller (the management API's auth hook, the
// SDK definitions route and the hot path below Fastify). It yields the lookups it needs (a key, a
// membership, a project) and a driver answers them: from the database (awaiting), or from memory
// only (the hot path, which hands the request to Fastify when something is not in memory).
// The checks themselves are here and nowhere else. See docs/architecture.md "SDK endpoints".
import type { IncomingHttpHeaders } from 'node:http';
import { AuthenticationFailedError, NotAuthenticatedError, NotFoundError, PermissionDeniedError } from '../platform/errors.ts';
import type { PersonalApiKey } from './keys/repository.ts';
import type { Organization, Project } from './organizations/projects-repository.ts';
import { MembershipLevel, type Membership, type User } from './organizations/users-repository.ts';
import { isFullAccessKey } from './scopes.ts';
import { readCookie, SESSION_COOKIE } from './sign-in/cookies.ts';
import type { Session } from './sign-in/sessions.ts';

export interface RouteAccess {
  /** Scope a scoped personal API key needs; null: the action does not support scoped keys. */
  scope: string | null;
  /** Whether a project secret token (phs_…) may call this route. */
  projectSecret?: boolean;
  /** 'param': `:project_id` in the URL; 'legacy': token or the user's current project; 'none'. */
  project: 'param' | 'legacy' | 'none';
  /** 'param': an organization route; `:organization_id` (a UUID or `@current`) names it. */
  organization?: 'param';
  /** Organization routes: writes (anything but GET/HEAD/OPTIONS) need an admin; the 403 detail. */
  adminWrites?: string;
  /**
   * Personal API key self-service (`/api/personal_api_keys/`): a full-access key may do anything
   * with its owner's keys; any other key only 'retrieve' itself.
   */
  keyManagement?: 'retrieve' | 'other';
  /** The bucket a request counts against: its personal API key (default), the project's definitions or remote_config. */
  rateLimit?: 'personal_key' | 'definitions' | 'remote_config';
}

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

/** What the chain reads from a request; Fastify's request and the hot path's both provide it. */
export interface AccessRequest {
  method: string;
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  body: unknown;
  params: Record<string, string | undefined>;
  /** Refuses a cross-site request authenticated by this session (it needs the request's own origin). */
  checkCsrf(session: Session): void;
}

/** A project with its organization: what every project lookup answers. */
export interface ProjectInOrganization {
  project: Project;
  organization: Organization;
}

/** A lookup the driver could not answer from memory: the request goes to the awaiting path. */
export const NOT_IN_MEMORY: unique symbol = Symbol('not in memory');
export type NotInMemory = typeof NOT_IN_MEMORY;
type Found<T> = T | undefined | Promise<T | undefined> | NotInMemory;

/** The data the chain reads; src/access/auth.ts (database) and src/sdk/decisions.ts (snapshots, memory) implement it. */
export interface AccessLookups {
  personalApiKey(value: string): Found<UserPrincipal>;
  projectSecret(value: string): Found<ProjectSecretPrincipal>;
  session(token: string): Found<SessionPrincipal>;
  membership(userId: number, organizationId: string): Found<Membership>;
  projectByToken(token: string): Found<ProjectInOrganization>;
  projectById(id: number): Found<ProjectInOrganization>;
  /** The first project of the user's organizations (for a user without a usable current project). */
  firstProjectOf(user: User): Found<ProjectInOrganization>;
  organizationById(id: string): Found<Organization>;
  /** The user's current organization, else the first they belong to. */
  currentOrganizationOf(user: User): Found<Organization>;
}

type Lookup = { [K in keyof AccessLookups]: { lookup: K; a: Parameters<AccessLookups[K]>[0]; b?: string } }[keyof AccessLookups];
export type Chain<T> = Generator<Lookup, T, unknown>;

// ---- the chain ---------------------------------------------------------------------------------

/** Authenticates and authorizes one request for a route's RouteAccess. */
export function* authorizationChain(request: AccessRequest, access: RouteAccess): Chain<RequestAuth> {
  const principal = yield* principalOf(request);
  if (access.keyManagement) {
    if (principal.kind === 'project_secret') throw secretRefused();
    // PostHog allows key management only in a browser session; a full-access key stands in for one.
    if (principal.kind === 'session') return { principal, user: principal.user };
    const id = request.params.id;
    const self = access.keyManagement === 'retrieve' && (id === '@current' || id === principal.key.id);
    if (!self && !isFullAccessKey(principal.key)) throw new PermissionDeniedError('This action does not support Personal API Key access');
    return { principal, user: principal.user };
  }
  if (access.organization) {
    if (principal.kind === 'project_secret') throw secretRefused();
    const organization = yield* organizationOf(request, principal);
    const auth = yield* organizationAccess(principal, organization, access);
    if (access.adminWrites && !SAFE_METHODS.has(request.method) && (!auth.membership || auth.membership.level < MembershipLevel.admin)) {
      throw new PermissionDeniedError(access.adminWrites);
    }
    return auth;
  }
  if (access.project === 'none') {
    if (principal.kind === 'project_secret') throw secretRefused();
    if (principal.kind === 'user') checkKeyScopes(principal.key, access.scope);
    return { principal, user: principal.user };
  }
  const { project, organization } = yield* projectOf(request, access, principal);
  return yield* projectAccess(principal, project, organization, access);
}

/** 1. The credential (a key or secret in the Authorization header, body or query, else the session cookie) and who it stands for. */
function* principalOf(request: AccessRequest): Chain<Principal> {
  const credential = extractCredential(request);
  if (!credential) {
    // A key, when present, wins: requests made with one are not subject to CSRF checks.
    const token = readCookie(request, SESSION_COOKIE);
    const principal = token ? ((yield { lookup: 'session', a: token }) as SessionPrincipal | undefined) : undefined;
    if (!principal) throw new NotAuthenticatedError();
    request.checkCsrf(principal.session);
    return principal;
  }
  if (credential.type === 'project_secret') {
    const principal = (yield { lookup: 'projectSecret', a: credential.value }) as ProjectSecretPrincipal | undefined;
    if (!principal) throw new AuthenticationFailedError('Secret API key is invalid.');
    return principal;
  }
  const principal = (yield { lookup: 'personalApiKey', a: credential.value }) as UserPrincipal | undefined;
  if (!principal) throw new AuthenticationFailedError(`Personal API key found in request ${credential.source} is invalid.`);
  return principal;
}

/** 2a. An organization route's organization: `:organization_id`, a UUID or `@current`. */
function* organizationOf(request: AccessRequest, principal: UserPrincipal | SessionPrincipal): Chain<Organization> {
  const raw = request.params.organization_id ?? '';
  let organization: Organization | undefined;
  if (raw === '@current') organization = (yield { lookup: 'currentOrganizationOf', a: principal.user }) as Organization | undefined;
  else if (UUID.test(raw)) organization = (yield { lookup: 'organizationById', a: raw.toLowerCase() }) as Organization | undefined;
  if (!organization) throw new NotFoundError();
  return organization;
}

/** 2b. A project route's project and its organization: the `token` override, `:project_id`, or the caller's current project. */
function* projectOf(request: AccessRequest, access: RouteAccess, principal: Principal): Chain<ProjectInOrganization> {
  const token = projectTokenOverride(request);
  if (token) {
    const found = (yield { lookup: 'projectByToken', a: token }) as ProjectInOrganization | undefined;
    if (!found) throw new AuthenticationFailedError('Incorrect authentication credentials.');
    return found;
  }
  const raw = access.project === 'param' ? request.params.project_id : undefined;
  let found: ProjectInOrganization | undefined;
  if (raw === undefined || raw === '@current') {
    if (principal.kind === 'project_secret') found = (yield { lookup: 'projectById', a: principal.project.id }) as ProjectInOrganization | undefined;
    else {
      const current = principal.user.currentProjectId;
      if (current) found = (yield { lookup: 'projectById', a: current }) as ProjectInOrganization | undefined;
      if (!found) found = (yield { lookup: 'firstProjectOf', a: principal.user }) as ProjectInOrganization | undefined;
      if (!found && access.project === 'legacy') throw new AuthenticationFailedError('This endpoint requires a current project to be set on your account.');
    }
  } else if (/^\d{1,9}$/.test(raw)) {
    found = (yield { lookup: 'projectById', a: Number(raw) }) as ProjectInOrganization | undefined;
  }
  if (!found) throw new NotFoundError('Project not found.');
  return found;
}

/**
 * 3a. May this principal call a route with `access` on this project? PostHog's permission order:
 * project secret restrictions, then key scopes and project/organization scoping, then
 * membership and the organization's personal-API-key policy.
 */
function* projectAccess(
  principal: Principal,
  project: Project,
  organization: Organization,
  access: Pick<RouteAccess, 'scope' | 'projectSecret'>,
): Chain<RequestAuth> {
  if (principal.kind === 'project_secret') {
    if (!access.projectSecret) throw secretRefused();
    if (project.id !== principal.project.id) throw new PermissionDeniedError(`API key does not have access to the requested project: ID ${project.id}.`);
    return { principal, project, organization };
  }
  if (principal.kind === 'user') checkKeyScopes(principal.key, access.scope, project);
  const membership = (yield { lookup: 'membership', a: principal.user.id, b: organization.id }) as Membership | undefined;
  if (!membership) throw new PermissionDeniedError("You don't have access to the project.");
  if (principal.kind === 'user') checkPersonalApiKeyPolicy(organization, membership);
  return { principal, user: principal.user, project, organization, membership };
}

/** 3b. The same for organization routes: key scopes, the key's organization scoping, then membership and policy. */
function* organizationAccess(principal: UserPrincipal | SessionPrincipal, organization: Organization, access: RouteAccess): Chain<RequestAuth> {
  if (principal.kind === 'user') checkKeyScopes(principal.key, access.scope, undefined, organization);
  const membership = (yield { lookup: 'membership', a: principal.user.id, b: organization.id }) as Membership | undefined;
  if (!membership) throw new PermissionDeniedError();
  if (principal.kind === 'user') checkPersonalApiKeyPolicy(organization, membership);
  return { principal, user: principal.user, organization, membership };
}

// ---- the checks --------------------------------------------------------------------------------

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const secretRefused = () => new PermissionDeniedError('This action does not support project secret API key access');

type Credential = { type: 'personal_api_key'; value: string; source: string } | { type: 'project_secret'; value: string };

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

const nonEmptyString = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

const BEARER = /^\s*Bearer\s+(\S+)\s*$/i;
const WHITESPACE = /\s/;

/** The value of `Authorization: Bearer <value>` (any case, any whitespace around), or undefined. */
function bearerValue(header: string): string | undefined {
  // What SDKs send, without building a match: exactly `Bearer <value>`.
  if (header.startsWith('Bearer ') && header.length > 7) {
    const value = header.slice(7);
    if (!WHITESPACE.test(value)) return value;
  }
  return BEARER.exec(header)?.[1];
}

/** The key or secret a request carries: `Authorization: Bearer`, then the body, then the query. */
export function extractCredential(request: Pick<AccessRequest, 'headers' | 'body' | 'query'>): Credential | undefined {
  const header = request.headers.authorization;
  const value = typeof header === 'string' ? bearerValue(header) : undefined;
  if (value !== undefined) {
    if (value.startsWith('phs_')) return { type: 'project_secret', value };
    return { type: 'personal_api_key', value, source: 'Authorization header' };
  }
  const body = asRecord(request.body);
  const bodyKey = nonEmptyString(body?.personal_api_key);
  if (bodyKey) return { type: 'personal_api_key', value: bodyKey, source: 'body' };
  const bodySecret = nonEmptyString(body?.secret_api_key) ?? nonEmptyString(body?.project_secret_api_key);
  if (bodySecret) return { type: 'project_secret', value: bodySecret };
  const queryKey = nonEmptyString(request.query.personal_api_key);
  if (queryKey) return { type: 'personal_api_key', value: queryKey, source: 'query string' };
  return undefined;
}

/** The `token`/`api_key` that overrides the URL project: query on GET, body otherwise. */
function projectTokenOverride(request: AccessRequest): string | undefined {
  const source = request.method === 'GET' || request.method === 'HEAD' ? request.query : asRecord(request.body);
  return nonEmptyString(source?.token) ?? nonEmptyString(source?.api_key) ?? nonEmptyString(source?.$token);
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

// ---- the driver --------------------------------------------------------------------------------

function answer(lookups: AccessLookups, step: Lookup): unknown {
  switch (step.lookup) {
    case 'membership':
      return lookups.membership(step.a, step.b!);
    case 'personalApiKey':
      return lookups.personalApiKey(step.a);
    case 'projectSecret':
      return lookups.projectSecret(step.a);
    case 'session':
      return lookups.session(step.a);
    case 'projectByToken':
      return lookups.projectByToken(step.a);
    case 'projectById':
      return lookups.projectById(step.a);
    case 'firstProjectOf':
      return lookups.firstProjectOf(step.a);
    case 'organizationById':
      return lookups.organizationById(step.a);
    case 'currentOrganizationOf':
      return lookups.currentOrganizationOf(step.a);
  }
}

/**
 * Runs a chain against `lookups`: synchronously while every lookup answers at once, then
 * asynchronously from the first that returns a promise. NOT_IN_MEMORY (before any promise)
 * abandons the chain; nothing it did until then has an effect.
 */
export function runChain<T>(chain: Chain<T>, lookups: AccessLookups): T | Promise<T> | NotInMemory {
  let next = chain.next();
  while (!next.done) {
    const found = answer(lookups, next.value);
    if (found === NOT_IN_MEMORY) {
      chain.return(undefined as T);
      return NOT_IN_MEMORY;
    }
    if (found instanceof Promise) return finishAsync(chain, found, lookups);
    next = chain.next(found);
  }
  return next.value;
}

async function finishAsync<T>(chain: Chain<T>, pending: Promise<unknown>, lookups: AccessLookups): Promise<T> {
  let next = chain.next(await pending);
  while (!next.done) {
    const found = answer(lookups, next.value);
    if (found === NOT_IN_MEMORY) throw new Error('a lookup answered "not in memory" after the chain went asynchronous');
    next = chain.next(await found);
  }
  return next.value;
}

/** The chain with awaiting lookups (never NOT_IN_MEMORY): what Fastify's routes use. */
export async function authorizeRequest(lookups: AccessLookups, request: AccessRequest, access: RouteAccess): Promise<RequestAuth> {
  return awaited(runChain(authorizationChain(request, access), lookups));
}

/** Step 3a alone, for a caller that found the project itself (the dashboard page). */
export async function authorizeProjectAccess(
  lookups: AccessLookups,
  principal: Principal,
  found: ProjectInOrganization,
  access: Pick<RouteAccess, 'scope' | 'projectSecret'>,
): Promise<RequestAuth> {
  return awaited(runChain(projectAccess(principal, found.project, found.organization, access), lookups));
}

function awaited<T>(result: T | Promise<T> | NotInMemory): T | Promise<T> {
  if (result === NOT_IN_MEMORY) throw new Error('awaiting lookups answered "not in memory"');
  return result;
}

// Authentication and authorization for the management API: credentials from the Authorization
// header, body or query; `:project_id` (or `@current`, or `?token=` override) or `:organization_id`;
// personal-API-key self-service; the per-key rate limit; PostHog's 401/403/404/429 answers.
// Without a key, the console's session cookie (CSRF-checked on writes) stands for its user.
// Routes opt in through `config.access`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthenticationFailedError, NotAuthenticatedError, NotFoundError, PermissionDeniedError } from '../platform/errors.ts';
import type { Authenticator, Principal, ProjectSecretPrincipal, RequestAuth } from './auth.ts';
import { checkKeyScopes } from './auth.ts';
import type { AppContext } from '../platform/context.ts';
import type { RateLimits } from './rate-limit.ts';
import { findOrganization, findProject, findProjectByToken, type Organization, type Project } from './organizations/projects-repository.ts';
import { listMembershipsOfUser, MembershipLevel, type User } from './organizations/users-repository.ts';
import { listProjectsOfOrganizations } from './organizations/projects-repository.ts';
import { isFullAccessKey } from './scopes.ts';
import { readCookie, SESSION_COOKIE } from './sign-in/cookies.ts';
import { checkCsrf } from './sign-in/csrf.ts';
import { requireMembership, requireProject } from './require-auth.ts';

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
  /** The bucket a request counts against: its personal API key (default) or the project's remote_config. */
  rateLimit?: 'personal_key' | 'remote_config';
}


declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    auth: RequestAuth;
  }
}

type Credential =
  | { type: 'personal_api_key'; value: string; source: string }
  | { type: 'project_secret'; value: string };

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

const nonEmptyString = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

export function extractCredential(request: FastifyRequest): Credential | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) {
      const value = match[1];
      if (value.startsWith('phs_')) return { type: 'project_secret', value };
      return { type: 'personal_api_key', value, source: 'Authorization header' };
    }
  }
  const body = asRecord(request.body);
  const bodyKey = nonEmptyString(body?.personal_api_key);
  if (bodyKey) return { type: 'personal_api_key', value: bodyKey, source: 'body' };
  const bodySecret = nonEmptyString(body?.secret_api_key) ?? nonEmptyString(body?.project_secret_api_key);
  if (bodySecret) return { type: 'project_secret', value: bodySecret };
  const query = asRecord(request.query);
  const queryKey = nonEmptyString(query?.personal_api_key);
  if (queryKey) return { type: 'personal_api_key', value: queryKey, source: 'query string' };
  return undefined;
}

export async function authenticate(authenticator: Authenticator, request: FastifyRequest): Promise<Principal> {
  const credential = extractCredential(request);
  if (!credential) {
    // A key, when present, wins: requests made with one are not subject to CSRF checks.
    const token = readCookie(request, SESSION_COOKIE);
    const principal = token ? await authenticator.session(token) : undefined;
    if (!principal) throw new NotAuthenticatedError();
    checkCsrf(request, principal.session, authenticator.publicUrl);
    return principal;
  }
  if (credential.type === 'project_secret') {
    const principal = await authenticator.projectSecret(credential.value);
    if (!principal) throw new AuthenticationFailedError('Secret API key is invalid.');
    return principal;
  }
  const principal = await authenticator.personalApiKey(credential.value);
  if (!principal) throw new AuthenticationFailedError(`Personal API key found in request ${credential.source} is invalid.`);
  return principal;
}

/** The `token`/`api_key` that overrides the URL project: query on GET, body otherwise. */
function projectTokenOverride(request: FastifyRequest): string | undefined {
  const source = request.method === 'GET' || request.method === 'HEAD' ? asRecord(request.query) : asRecord(request.body);
  return nonEmptyString(source?.token) ?? nonEmptyString(source?.api_key) ?? nonEmptyString(source?.$token);
}

async function currentProjectOf(ctx: AppContext, user: User): Promise<Project | undefined> {
  if (user.currentProjectId) {
    const project = await findProject(ctx.db, user.currentProjectId);
    if (project) return project;
  }
  const memberships = await listMembershipsOfUser(ctx.db, user.id);
  const [first] = await listProjectsOfOrganizations(ctx.db, memberships.map((m) => m.organizationId));
  return first;
}

async function resolveProject(ctx: AppContext, request: FastifyRequest, access: RouteAccess, principal: Principal): Promise<Project> {
  const token = projectTokenOverride(request);
  if (token) {
    const project = await findProjectByToken(ctx.db, token);
    if (!project) throw new AuthenticationFailedError('Incorrect authentication credentials.');
    return project;
  }
  const raw = access.project === 'param' ? (request.params as Record<string, string>).project_id : undefined;
  if (raw === undefined || raw === '@current') {
    const project = principal.kind === 'project_secret' ? principal.project : await currentProjectOf(ctx, principal.user);
    if (!project) {
      if (access.project === 'legacy') throw new AuthenticationFailedError('This endpoint requires a current project to be set on your account.');
      throw new NotFoundError('Project not found.');
    }
    return project;
  }
  if (!/^\d{1,9}$/.test(raw)) throw new NotFoundError('Project not found.');
  const project = await findProject(ctx.db, Number(raw));
  if (!project) throw new NotFoundError('Project not found.');
  return project;
}

/** `:organization_id`: a UUID, or `@current` (the caller's current organization). */
async function resolveOrganization(ctx: AppContext, request: FastifyRequest, principal: Exclude<Principal, ProjectSecretPrincipal>): Promise<Organization> {
  const raw = (request.params as Record<string, string>).organization_id ?? '';
  let id: string | undefined;
  if (raw === '@current') {
    const memberships = await listMembershipsOfUser(ctx.db, principal.user.id);
    id = (memberships.find((m) => m.organizationId === principal.user.currentOrganizationId) ?? memberships[0])?.organizationId;
  } else if (/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(raw)) {
    id = raw.toLowerCase();
  }
  const organization = id ? await findOrganization(ctx.db, id) : undefined;
  if (!organization) throw new NotFoundError();
  return organization;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Authenticates and authorizes one request for a route's RouteAccess; fills `request.auth`. */
export async function authorize(ctx: AppContext, authenticator: Authenticator, request: FastifyRequest, access: RouteAccess): Promise<RequestAuth> {
  const principal = await authenticate(authenticator, request);
  if (access.keyManagement) {
    if (principal.kind === 'project_secret') throw new PermissionDeniedError('This action does not support project secret API key access');
    // PostHog allows key management only in a browser session; a full-access key stands in for one.
    if (principal.kind === 'session') return { principal, user: principal.user };
    const id = (request.params as Record<string, string | undefined>).id;
    const self = access.keyManagement === 'retrieve' && (id === '@current' || id === principal.key.id);
    if (!self && !isFullAccessKey(principal.key)) throw new PermissionDeniedError('This action does not support Personal API Key access');
    return { principal, user: principal.user };
  }
  if (access.organization) {
    if (principal.kind === 'project_secret') throw new PermissionDeniedError('This action does not support project secret API key access');
    const organization = await resolveOrganization(ctx, request, principal);
    const auth = await authenticator.authorizeOrganization(principal, organization, access);
    if (access.adminWrites && !SAFE_METHODS.has(request.method) && requireMembership(auth).level < MembershipLevel.admin) {
      throw new PermissionDeniedError(access.adminWrites);
    }
    return auth;
  }
  if (access.project === 'none') {
    if (principal.kind === 'project_secret') throw new PermissionDeniedError('This action does not support project secret API key access');
    if (principal.kind === 'user') checkKeyScopes(principal.key, access.scope);
    return { principal, user: principal.user };
  }
  const project = await resolveProject(ctx, request, access, principal);
  const organization = await findOrganization(ctx.db, project.organizationId);
  if (!organization) throw new NotFoundError('Project not found.');
  return authenticator.authorizeProject(principal, project, organization, access);
}

/** Counts an authorized request against its rate-limit bucket (429 when it is empty). */
function countRequest(rateLimits: RateLimits, auth: RequestAuth, access: RouteAccess): void {
  if (access.rateLimit === 'remote_config') rateLimits.checkRemoteConfig(requireProject(auth).id);
  else if (auth.principal.kind === 'user') rateLimits.checkPersonalKey(auth.principal.key.id);
}

/** Registers the preValidation hook that enforces `config.access` on every route of `app`. */
export function registerAuthHook(app: FastifyInstance, ctx: AppContext, authenticator: Authenticator, rateLimits?: RateLimits): void {
  app.decorateRequest('auth', null as unknown as RequestAuth);
  app.addHook('preValidation', async (request) => {
    const access = request.routeOptions.config.access;
    if (!access) return;
    request.auth = await authorize(ctx, authenticator, request, access);
    if (rateLimits) countRequest(rateLimits, request.auth, access);
  });
}

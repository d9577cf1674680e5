// Authentication and project resolution for the management API: credentials from the
// Authorization header, body or query; `:project_id` (or `@current`, or `?token=` override);
// PostHog's 401/403/404 answers. Routes opt in through `config.access`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthenticationFailedError, NotAuthenticatedError, NotFoundError, PermissionDeniedError } from '../lib/errors.ts';
import type { Authenticator, Principal, RequestAuth } from '../services/auth.ts';
import { checkKeyScopes } from '../services/auth.ts';
import type { AppContext } from '../services/context.ts';
import { findOrganization, findProject, findProjectByToken, type Project } from '../repositories/projects.ts';
import { listMembershipsOfUser, type User } from '../repositories/users.ts';
import { listProjectsOfOrganizations } from '../repositories/projects.ts';

export interface RouteAccess {
  /** Scope a scoped personal API key needs; null: the action does not support scoped keys. */
  scope: string | null;
  /** Whether a project secret token (phs_…) may call this route. */
  projectSecret?: boolean;
  /** 'param': `:project_id` in the URL; 'legacy': token or the user's current project; 'none'. */
  project: 'param' | 'legacy' | 'none';
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
  if (!credential) throw new NotAuthenticatedError();
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

/** Authenticates and authorizes one request for a route's RouteAccess; fills `request.auth`. */
export async function authorize(ctx: AppContext, authenticator: Authenticator, request: FastifyRequest, access: RouteAccess): Promise<RequestAuth> {
  const principal = await authenticate(authenticator, request);
  if (access.project === 'none') {
    if (principal.kind === 'project_secret') throw new PermissionDeniedError('This action does not support project secret API key access');
    checkKeyScopes(principal.key, access.scope);
    return { principal, user: principal.user };
  }
  const project = await resolveProject(ctx, request, access, principal);
  const organization = await findOrganization(ctx.db, project.organizationId);
  if (!organization) throw new NotFoundError('Project not found.');
  return authenticator.authorizeProject(principal, project, organization, access);
}

/** Registers the preValidation hook that enforces `config.access` on every route of `app`. */
export function registerAuthHook(app: FastifyInstance, ctx: AppContext, authenticator: Authenticator): void {
  app.decorateRequest('auth', null as unknown as RequestAuth);
  app.addHook('preValidation', async (request) => {
    const access = request.routeOptions.config.access;
    if (!access) return;
    request.auth = await authorize(ctx, authenticator, request, access);
  });
}

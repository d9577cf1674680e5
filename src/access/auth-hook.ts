// The management API's hook: every route that declares `config.access` is authenticated and
// authorized by the chain in src/access/authorization.ts, then counted against its rate limit.
// Without a key, the console's session cookie (CSRF-checked on writes) stands for its user.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator, RequestAuth } from './auth.ts';
import { authorizeRequest, type AccessRequest, type RouteAccess } from './authorization.ts';
import { countRequest, type RateLimits } from './rate-limit.ts';
import { checkCsrf } from './sign-in/csrf.ts';

export type { RouteAccess } from './authorization.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    auth: RequestAuth;
  }
}

/** What the authorization chain reads from a Fastify request. */
export function accessRequest(request: FastifyRequest, publicUrl: string | undefined): AccessRequest {
  return {
    method: request.method,
    headers: request.headers,
    query: (request.query ?? {}) as Record<string, unknown>,
    body: request.body,
    params: (request.params ?? {}) as Record<string, string | undefined>,
    checkCsrf: (session) => checkCsrf(request, session, publicUrl),
  };
}

/** Authenticates and authorizes one request for a route's RouteAccess. */
export function authorize(authenticator: Authenticator, request: FastifyRequest, access: RouteAccess): Promise<RequestAuth> {
  return authorizeRequest(authenticator, accessRequest(request, authenticator.publicUrl), access);
}

/** Registers the preValidation hook that enforces `config.access` on every route of `app`. */
export function registerAuthHook(app: FastifyInstance, authenticator: Authenticator, rateLimits?: RateLimits): void {
  app.decorateRequest('auth', null as unknown as RequestAuth);
  app.addHook('preValidation', async (request) => {
    const access = request.routeOptions.config.access;
    if (!access) return;
    request.auth = await authorize(authenticator, request, access);
    if (rateLimits) countRequest(rateLimits, request.auth, access);
  });
}

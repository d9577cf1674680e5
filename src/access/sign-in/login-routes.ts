// Signing in and out of the console (PostHog's endpoints): POST /api/login, POST /api/logout,
// GET /_preflight/, and the set-password link pages' API (/api/reset/<user uuid>/).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { drfString } from '../../platform/http/drf.ts';
import { ValidationError } from '../../platform/errors.ts';
import { checkSetupToken, completeSetup, FailedLoginLimits, passwordLogin, type Client } from './accounts.ts';
import { clearSessionCookies, readCookie, SESSION_COOKIE, setSessionCookies } from './cookies.ts';
import { checkCsrf, checkOrigin } from './csrf.ts';
import { endSession, type NewSession } from './sessions.ts';
import type { ZodFastify } from '../../platform/http/openapi.ts';

const Success = z.object({ success: z.literal(true) });
const LoginBody = z.object({ email: drfString({ max: 254 }), password: drfString({ max: 1024 }) });
const ResetParams = z.object({ user_uuid: z.string() });
const ResetBody = z.object({ token: drfString({ max: 256 }), password: drfString({ max: 1024 }) });
const ResetQuery = z.looseObject({ token: z.string().optional() });

const EMAIL = z.email();

export const clientOf = (request: FastifyRequest): Client => ({ userAgent: request.headers['user-agent'], ip: request.ip });

/** Answers a request that started a session: both cookies, and PostHog's success body. */
export function signedIn(request: FastifyRequest, reply: FastifyReply, started: NewSession, maxAgeMs: number, status = 200) {
  setSessionCookies(request, reply, started.token, started.csrfToken, maxAgeMs);
  return reply.code(status).send({ success: true as const });
}

export async function loginRoutes(app: ZodFastify): Promise<void> {
  const { ctx, authenticator } = app.services;
  const limits = new FailedLoginLimits(ctx.config.sessions, () => ctx.now().getTime());
  const tags = ['sign-in'];
  const maxAgeMs = ctx.config.sessions.maxAgeMs;

  app.post(
    '/api/login',
    {
      schema: {
        tags,
        summary: 'Sign in with email and password: sets the sessionid and csrftoken cookies',
        security: [],
        body: LoginBody,
        response: { 200: Success },
      },
    },
    async (request, reply) => {
      checkOrigin(request, ctx.config.publicUrl, false);
      const { email, password } = request.body;
      if (!EMAIL.safeParse(email).success) throw new ValidationError('Enter a valid email address.', 'invalid', 'email');
      const started = await passwordLogin(ctx, limits, email, password, clientOf(request));
      return signedIn(request, reply, started, maxAgeMs);
    },
  );

  app.post(
    '/api/logout',
    {
      schema: { tags, summary: 'Sign out: ends the session on every instance and clears the cookies', response: { 200: Success } },
    },
    async (request, reply) => {
      const token = readCookie(request, SESSION_COOKIE);
      const principal = token ? await authenticator.session(token) : undefined;
      if (principal) {
        checkCsrf(request, principal.session, ctx.config.publicUrl);
        await endSession(ctx, principal.session);
      }
      clearSessionCookies(request, reply);
      return { success: true as const };
    },
  );

  app.get(
    '/_preflight',
    {
      schema: {
        tags,
        summary: "The instance's sign-in options (PostHog's preflight), for the console's sign-in page",
        security: [],
        response: {
          200: z.looseObject({
            initiated: z.boolean(),
            cloud: z.boolean(),
            realm: z.string(),
            available_social_auth_providers: z.record(z.string(), z.boolean()),
            site_url: z.string(),
            email_service_available: z.boolean(),
          }),
        },
      },
    },
    async (request) => ({
      django: true,
      db: true,
      initiated: true,
      cloud: false,
      demo: false,
      realm: 'hosted',
      region: null,
      available_social_auth_providers: { github: false, gitlab: false, 'google-oauth2': false, saml: false, oidc: Boolean(ctx.config.oidc) },
      can_create_org: false,
      email_service_available: false,
      site_url: ctx.config.publicUrl ?? `${request.protocol}://${request.host}`,
    }),
  );

  app.get(
    '/api/reset/:user_uuid',
    {
      schema: {
        tags,
        summary: 'Check a set-password link (?token=…): 200 when it can still be used, 400 otherwise',
        security: [],
        params: ResetParams,
        querystring: ResetQuery,
        response: { 200: Success },
      },
    },
    async (request) => {
      await checkSetupToken(ctx, request.params.user_uuid, request.query.token);
      return { success: true as const };
    },
  );

  app.post(
    '/api/reset/:user_uuid',
    {
      schema: {
        tags,
        summary: "Use a set-password link: sets the user's password and signs them in",
        security: [],
        params: ResetParams,
        body: ResetBody,
        response: { 200: Success },
      },
    },
    async (request, reply) => {
      checkOrigin(request, ctx.config.publicUrl, false);
      const { token, password } = request.body;
      const started = await completeSetup(ctx, request.params.user_uuid, token, password, clientOf(request));
      return signedIn(request, reply, started, maxAgeMs);
    },
  );
}

// Single sign-on with OpenID Connect (authorization code flow with PKCE, through openid-client):
// GET /login/oidc/ sends the browser to the provider; GET /complete/oidc/ is the callback, which
// links the provider's verified email to a user (creating one for allowed domains), starts a session
// and redirects to `/`. Failures land on `/login?error_code=…`, as PostHog's do.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type * as OidcClient from 'openid-client';
import type { OidcConfig } from '../../platform/config.ts';
import type { AppContext } from '../../platform/context.ts';
import { transact } from '../../platform/context.ts';
import { findFirstOrganization, listAllProjects } from '../organizations/projects-repository.ts';
import { findUserByEmail, insertUser, MembershipLevel, upsertMembership, type User } from '../organizations/users-repository.ts';
import { isHttps, readCookie, setSessionCookies } from './cookies.ts';
import { startSession, type NewSession } from './sessions.ts';
import { clientOf } from './login-routes.ts';

const FLOW_COOKIE = 'oidc_flow';
const CALLBACK_PATH = '/complete/oidc/';
const FLOW_TTL_SECONDS = 600;

class SignOnRefused extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

// Loaded only when single sign-on is configured: most instances never need it at start-up.
let oidc: typeof OidcClient;

/** The provider's metadata, discovered on first use and kept; a failed discovery is retried later. */
function providerConfig(config: OidcConfig): () => Promise<OidcClient.Configuration> {
  let pending: Promise<OidcClient.Configuration> | undefined;
  return () => {
    pending ??= import('openid-client')
      .then((module) => (oidc = module))
      .then(() =>
        oidc.discovery(
          new URL(config.issuer),
          config.clientId,
          undefined,
          config.clientSecret ? oidc.ClientSecretBasic(config.clientSecret) : oidc.None(),
          // A provider on plain http is only reachable in tests and on private networks the admin chose.
          { timeout: 10, ...(config.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : {}) },
        ),
      )
      .catch((err) => {
        pending = undefined;
        throw err;
      });
    return pending;
  };
}

const baseUrl = (ctx: AppContext, request: FastifyRequest) => ctx.config.publicUrl ?? `${request.protocol}://${request.host}`;

function flowCookie(request: FastifyRequest, value: string, maxAge: number): string {
  return [
    `${FLOW_COOKIE}=${value}`,
    `Path=${CALLBACK_PATH.slice(0, -1)}`,
    `Max-Age=${maxAge}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(isHttps(request) ? ['Secure'] : []),
  ].join('; ');
}

/** The user an OIDC identity signs in as: an existing active user with that email, or a new one. */
async function userForIdentity(
  ctx: AppContext,
  config: OidcConfig,
  claims: { email?: unknown; email_verified?: unknown; given_name?: unknown; family_name?: unknown },
): Promise<User> {
  const email = typeof claims.email === 'string' ? claims.email.trim() : '';
  if (!email || claims.email_verified === false) throw new SignOnRefused('oidc_email_unverified');
  const existing = await findUserByEmail(ctx.db, email);
  if (existing) {
    if (!existing.isActive) throw new SignOnRefused('inactive');
    return existing;
  }
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  if (!config.allowedDomains.includes(domain)) throw new SignOnRefused('jit_not_enabled');
  return transact(ctx, async (tx, changes) => {
    const organization = await findFirstOrganization(tx);
    if (!organization) throw new SignOnRefused('no_new_organizations');
    const [project] = (await listAllProjects(tx)).filter((p) => p.organizationId === organization.id);
    const user = await insertUser(tx, {
      email,
      firstName: typeof claims.given_name === 'string' ? claims.given_name.slice(0, 150) : '',
      lastName: typeof claims.family_name === 'string' ? claims.family_name.slice(0, 150) : '',
      distinctId: crypto.randomUUID(),
      currentOrganizationId: organization.id,
      currentProjectId: project?.id ?? null,
      createdAt: ctx.now(),
    });
    await upsertMembership(tx, organization.id, user.id, MembershipLevel[config.defaultLevel]);
    changes.authChanged();
    return user;
  });
}

export async function oidcRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app.services;
  const config = ctx.config.oidc;
  const provider = config ? providerConfig(config) : undefined;
  const tags = ['sign-in'];
  const fail = (reply: FastifyReply, code: string) => reply.redirect(`/login?error_code=${encodeURIComponent(code)}`, 302);

  app.get(
    '/login/oidc',
    {
      schema: { tags, summary: 'Single sign-on: redirects to the OpenID Connect provider', security: [] },
    },
    async (request, reply) => {
      if (!config || !provider) return fail(reply, 'improperly_configured_sso');
      let configuration: OidcClient.Configuration;
      try {
        configuration = await provider();
      } catch (err) {
        request.log.warn({ err }, 'OIDC discovery failed');
        return fail(reply, 'oidc_unavailable');
      }
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const verifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(configuration, {
        redirect_uri: `${baseUrl(ctx, request)}${CALLBACK_PATH}`,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      // The browser keeps the flow's secrets (httpOnly, only sent to the callback) for ten minutes.
      reply.header('set-cookie', flowCookie(request, `${state}.${nonce}.${verifier}`, FLOW_TTL_SECONDS));
      return reply.redirect(url.href, 302);
    },
  );

  app.get(
    '/complete/oidc',
    {
      schema: { tags, summary: 'Single sign-on callback: signs the user in and redirects to the console', security: [] },
    },
    async (request, reply) => {
      if (!config || !provider) return fail(reply, 'improperly_configured_sso');
      reply.header('set-cookie', flowCookie(request, '', 0));
      const [state, nonce, verifier] = (readCookie(request, FLOW_COOKIE) ?? '').split('.');
      if (!state || !nonce || !verifier) return fail(reply, 'oidc_failed');
      let started: NewSession;
      try {
        const configuration = await provider();
        const current = new URL(request.url, `${baseUrl(ctx, request)}/`);
        const tokens = await oidc.authorizationCodeGrant(configuration, current, {
          pkceCodeVerifier: verifier,
          expectedState: state,
          expectedNonce: nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims()!;
        const info = claims.email === undefined ? await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub) : claims;
        const user = await userForIdentity(ctx, config, info as Record<string, unknown>);
        started = await transact(ctx, (tx) => startSession(ctx, tx, user, clientOf(request)));
      } catch (err) {
        if (err instanceof SignOnRefused) return fail(reply, err.code);
        request.log.warn({ err }, 'OIDC sign-in failed');
        return fail(reply, 'oidc_failed');
      }
      setSessionCookies(request, reply, started.token, started.csrfToken, ctx.config.sessions.maxAgeMs);
      return reply.redirect('/', 302);
    },
  );
}

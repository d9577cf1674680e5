// Invitations: /api/organizations/:organization_id/invites/ (admins write, members read) and the
// invite page's unauthenticated API, /api/signup/<invite id>/.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RouteAccess } from '../auth-hook.ts';
import { OrganizationParams } from '../roles/schemas.ts';
import { UserBasicSchema } from '../organizations/user-schemas.ts';
import { drfString, fail } from '../../platform/http/drf.ts';
import { paginatedSchema } from '../../platform/http/common-schemas.ts';
import { absoluteUrl, limitOffsetLinks, parseLimitOffset } from '../../platform/pagination.ts';
import { ADMIN_WRITES } from '../roles/routes.ts';
import { acceptInvite, createInvite, createInvites, describeInvite, listInvites, revokeInvite } from './invites.ts';
import { readCookie, SESSION_COOKIE, setSessionCookies } from './cookies.ts';
import { checkCsrf, checkOrigin } from './csrf.ts';
import { clientOf } from './login-routes.ts';
import type { Authenticator, SessionPrincipal } from '../auth.ts';
import type { ZodFastify } from '../../platform/http/openapi.ts';

const LEVELS = [1, 8, 15];

const InviteSchema = z
  .object({
    id: z.string(),
    target_email: z.string(),
    first_name: z.string(),
    emailing_attempt_made: z.boolean(),
    level: z.number().meta({ description: '1 member, 8 admin, 15 owner' }),
    is_expired: z.boolean(),
    created_by: UserBasicSchema.nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    message: z.string().nullable(),
    private_project_access: z.array(z.unknown()),
  })
  .meta({ id: 'OrganizationInvite' });

const InviteBody = z.object({
  target_email: z.email({ message: 'Enter a valid email address.' }).max(254),
  first_name: drfString({ max: 30, allowBlank: true }).optional(),
  level: z
    .unknown()
    .superRefine((v, ctx) => {
      if (!LEVELS.includes(v as number)) fail(ctx, `"${String(v)}" is not a valid choice.`, 'invalid_choice');
    })
    .transform((v) => v as number)
    .optional()
    .meta({ type: 'integer', enum: LEVELS }),
  message: drfString({ max: 1000, allowBlank: true }).nullable().optional(),
});

/** PostHog's bulk invite body: a list of at most 20 invites, checked before any item. */
const MAX_BULK_INVITES = 20;
const BulkInviteBody = z
  .unknown()
  .superRefine((v, ctx) => {
    if (!Array.isArray(v)) fail(ctx, 'This endpoint needs an array of data for bulk invite creation.');
    else if (v.length > MAX_BULK_INVITES) fail(ctx, `A maximum of ${MAX_BULK_INVITES} invites can be sent in a single request.`);
  })
  .pipe(z.array(InviteBody))
  .meta({ description: 'A list of invites (at most 20), each as for a single invite' });

const SignupBody = z.looseObject({
  first_name: drfString({ max: 150, allowBlank: true }).optional(),
  last_name: drfString({ max: 150, allowBlank: true }).optional(),
  password: drfString({ max: 1024, allowBlank: true }).optional(),
});

const InviteParams = OrganizationParams.extend({ id: z.string() });
const SignupParams = z.object({ invite_id: z.string() });

export async function organizationInviteRoutes(app: ZodFastify): Promise<void> {
  const { ctx } = app.services;
  const tags = ['access control'];
  const access = (scope: string): { access: RouteAccess } => ({ access: { scope, project: 'none', organization: 'param', adminWrites: ADMIN_WRITES } });
  const base = '/api/organizations/:organization_id/invites';

  app.get(
    base,
    {
      config: access('organization_member:read'),
      schema: {
        tags,
        summary: "The organization's pending invites, newest first",
        params: OrganizationParams,
        querystring: z.looseObject({ limit: z.string().optional(), offset: z.string().optional() }),
        response: { 200: paginatedSchema(InviteSchema) },
      },
    },
    async (request) => {
      const all = await listInvites(ctx, request.auth);
      const { limit, offset } = parseLimitOffset(request.query);
      const links = limitOffsetLinks(absoluteUrl(request, ctx.config.publicUrl), all.length, limit, offset);
      return { count: all.length, ...links, results: all.slice(offset, offset + limit) };
    },
  );

  app.post(
    base,
    {
      config: access('organization_member:write'),
      schema: {
        tags,
        summary: 'Invite an email at a level (admins); the invitee signs up at /signup/<id>',
        params: OrganizationParams,
        body: InviteBody,
        response: { 201: InviteSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await createInvite(ctx, request.auth, request.body)),
  );

  app.post(
    `${base}/bulk`,
    {
      config: access('organization_member:write'),
      schema: {
        tags,
        summary: 'Invite up to 20 emails at once (admins): all are created, or none',
        params: OrganizationParams,
        body: BulkInviteBody,
        response: { 201: z.array(InviteSchema) },
      },
    },
    async (request, reply) => reply.code(201).send(await createInvites(ctx, request.auth, request.body)),
  );

  app.delete(
    `${base}/:id`,
    {
      config: access('organization_member:write'),
      schema: { tags, summary: 'Revoke an invite (admins)', params: InviteParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await revokeInvite(ctx, request.auth, request.params.id);
      return reply.code(204).send(null);
    },
  );
}

/** The signed-in session, if the request has one (the invite routes work without one too). */
async function sessionOf(authenticator: Authenticator, request: FastifyRequest): Promise<SessionPrincipal | undefined> {
  const token = readCookie(request, SESSION_COOKIE);
  return token ? authenticator.session(token) : undefined;
}

export async function signupRoutes(app: ZodFastify): Promise<void> {
  const { ctx, authenticator } = app.services;
  const tags = ['sign-in'];

  app.get(
    '/api/signup/:invite_id',
    {
      schema: {
        tags,
        summary: 'What an invite is for (the invite page checks it first); 400 when unknown, used or expired',
        security: [],
        params: SignupParams,
        response: { 200: z.object({ id: z.string(), target_email: z.string(), first_name: z.string(), organization_name: z.string() }) },
      },
    },
    async (request) => describeInvite(ctx, request.params.invite_id, (await sessionOf(authenticator, request))?.user),
  );

  app.post(
    '/api/signup/:invite_id',
    {
      schema: {
        tags,
        summary: 'Accept an invite: a new person sets first_name and password and is signed in (201)',
        security: [],
        params: SignupParams,
        body: SignupBody,
        response: {
          201: z.object({
            id: z.number(),
            uuid: z.string(),
            distinct_id: z.string(),
            first_name: z.string(),
            last_name: z.string(),
            email: z.string(),
            redirect_url: z.string(),
          }),
        },
      },
    },
    async (request, reply) => {
      const principal = await sessionOf(authenticator, request);
      if (principal) checkCsrf(request, principal.session, ctx.config.publicUrl);
      else checkOrigin(request, ctx.config.publicUrl, false);
      const { user, session } = await acceptInvite(ctx, request.params.invite_id, request.body, clientOf(request), principal?.user);
      if (session) setSessionCookies(request, reply, session.token, session.csrfToken, ctx.config.sessions.maxAgeMs);
      return reply.code(201).send({
        id: user.id,
        uuid: user.uuid,
        distinct_id: user.distinctId,
        first_name: user.firstName,
        last_name: user.lastName,
        email: user.email,
        redirect_url: '/',
      });
    },
  );
}

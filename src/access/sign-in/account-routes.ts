// PATCH /api/users/@me/: the signed-in user's own account (names, a password change that ends
// their other sessions everywhere, the session making the change staying signed in, and the current
// organization or project, PostHog's set_current_organization / set_current_team).
import { z } from 'zod';
import { MeSchema } from '../organizations/schemas.ts';
import { describeMe } from '../organizations/service.ts';
import { drfInteger, drfString } from '../../platform/http/drf.ts';
import { chooseCurrent } from '../organizations/current.ts';
import { transact } from '../../platform/context.ts';
import { findUsersByIds, updateUser } from '../organizations/users-repository.ts';
import { changeOwnPassword } from './accounts.ts';
import type { ZodFastify } from '../../platform/http/openapi.ts';
import { requireUser } from '../require-auth.ts';

const MeUpdateBody = z.looseObject({
  first_name: drfString({ max: 150, allowBlank: true }).optional(),
  last_name: drfString({ max: 150, allowBlank: true }).optional(),
  password: drfString({ max: 1024 }).optional(),
  current_password: z.string().max(1024).optional(),
  set_current_organization: drfString({ max: 64 }).optional().meta({ description: 'An organization you belong to: it and its first project become current' }),
  set_current_team: drfInteger().optional().meta({ description: 'A project of one of your organizations: it and its organization become current' }),
});

export async function accountRoutes(app: ZodFastify): Promise<void> {
  const { ctx } = app.services;
  app.patch(
    '/api/users/@me',
    {
      config: { access: { scope: 'user:write', project: 'none' } },
      schema: {
        tags: ['identity'],
        summary: "Update the authenticated user's names, password (current_password required when one is set), or current organization or project",
        body: MeUpdateBody,
        response: { 200: MeSchema },
      },
    },
    async (request) => {
      const body = request.body;
      const auth = request.auth;
      let user = requireUser(auth);
      if (body.password !== undefined) {
        await changeOwnPassword(
          ctx,
          user,
          { password: body.password, current_password: body.current_password },
          auth.principal.kind === 'session' ? auth.principal.session.id : undefined,
        );
      }
      if (body.set_current_organization !== undefined || body.set_current_team !== undefined) {
        await chooseCurrent(ctx, user, { organization: body.set_current_organization, project: body.set_current_team });
      }
      const names: { firstName?: string; lastName?: string } = {};
      if (body.first_name !== undefined) names.firstName = body.first_name;
      if (body.last_name !== undefined) names.lastName = body.last_name;
      if (Object.keys(names).length)
        await transact(ctx, async (tx, changes) => {
          await updateUser(tx, user.id, names);
          changes.authChanged();
        });
      user = (await findUsersByIds(ctx.db, [user.id])).get(user.id) ?? user;
      return describeMe(ctx, user);
    },
  );
}

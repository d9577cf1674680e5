// PATCH /api/users/@me/: the signed-in user's own account (names, and a password change that ends
// their other sessions everywhere; the session making the change stays signed in).
import { z } from 'zod';
import { MeSchema } from '../organizations/schemas.ts';
import { describeMe } from '../organizations/service.ts';
import { drfString } from '../../platform/http/drf.ts';
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
});

export async function accountRoutes(app: ZodFastify): Promise<void> {
  const { ctx } = app.services;
  app.patch(
    '/api/users/@me',
    {
      config: { access: { scope: 'user:write', project: 'none' } },
      schema: {
        tags: ['identity'],
        summary: "Update the authenticated user's names or password (password: current_password required when one is set)",
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

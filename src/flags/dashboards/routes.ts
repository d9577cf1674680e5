// GET /api/projects/:project_id/dashboards/:id/ (PostHog's dashboard JSON with tile results) and
// GET /dashboards/:id, the same dashboard as a page a person opens in a browser.
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ProjectParams, idParam } from '../../platform/http/common-schemas.ts';
import { DashboardSchema } from './schemas.ts';
import { dashboardView, presentDashboard } from './service.ts';
import { authorize } from '../../access/auth-hook.ts';
import { authorizeProjectAccess } from '../../access/authorization.ts';
import { findDashboardAnyProject } from './repository.ts';
import { findOrganization, findProject } from '../../access/organizations/projects-repository.ts';
import { renderDashboardPage, renderErrorPage } from './page.ts';
import { ApiError, NotFoundError } from '../../platform/errors.ts';
import type { ZodFastify } from '../../platform/http/openapi.ts';
import { requireProject } from '../../access/require-auth.ts';

const IdParams = z.object({ id: z.string().meta({ description: 'Dashboard id' }) });

/** The management API route (registered in the authenticated scope). */
export async function dashboardRoutes(app: ZodFastify): Promise<void> {
  const { ctx } = app.services;
  app.get(
    '/api/projects/:project_id/dashboards/:id',
    {
      config: { access: { scope: 'dashboard:read', project: 'param' } },
      schema: {
        tags: ['dashboards'],
        summary: 'Retrieve a dashboard with the results of its tiles (usage of a flag over the last 30 days)',
        params: ProjectParams.extend(IdParams.shape),
        response: { 200: DashboardSchema },
      },
    },
    async (request) => {
      const view = await dashboardView(ctx, requireProject(request.auth).id, idParam(request.params.id));
      if (!view) throw new NotFoundError();
      return presentDashboard(view);
    },
  );
}

const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(html);
}

/**
 * The browser page. A browser sends no Authorization header, so the page takes the personal API
 * key from `?personal_api_key=` (also the header) and needs `dashboard:read` on the dashboard's
 * project; failures render as an HTML page. The response is never cached and sends no referrer.
 */
export async function dashboardPageRoutes(app: ZodFastify): Promise<void> {
  const { ctx, authenticator } = app.services;
  app.get(
    '/dashboards/:id',
    {
      schema: { tags: ['dashboards'], summary: 'The dashboard as an HTML page with SVG charts (?personal_api_key=…)', params: IdParams, security: [] },
    },
    async (request, reply) => {
      try {
        const auth = await authorize(authenticator, request, { scope: 'dashboard:read', project: 'none' });
        const raw = request.params.id;
        const dashboard = /^\d{1,9}$/.test(raw) ? await findDashboardAnyProject(ctx.db, Number(raw)) : undefined;
        const project = dashboard ? await findProject(ctx.db, dashboard.projectId) : undefined;
        const organization = project ? await findOrganization(ctx.db, project.organizationId) : undefined;
        if (!dashboard || !project || !organization) throw new NotFoundError();
        // A dashboard of a project the key cannot read is reported as missing (a refusal only: a
        // database failure stays one).
        await authorizeProjectAccess(authenticator, auth.principal, { project, organization }, { scope: 'dashboard:read' }).catch((error: unknown) => {
          throw error instanceof ApiError ? new NotFoundError() : error;
        });
        const view = await dashboardView(ctx, project.id, dashboard.id);
        if (!view) throw new NotFoundError();
        return sendPage(reply, 200, renderDashboardPage(view));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const detail = (error.body as { detail?: string } | null)?.detail ?? 'Not found.';
        return sendPage(reply, error.statusCode, renderErrorPage(error.statusCode, detail));
      }
    },
  );
}

// /api/projects/:project_id/advanced_activity_logs/: the project's activity log with filters.
import type { ZodFastify } from '../platform/http/openapi.ts';
import { ProjectParams } from '../platform/http/common-schemas.ts';
import { requireProject } from '../access/require-auth.ts';
import { absoluteUrl } from '../platform/pagination.ts';
import { ProjectLogPageSchema, ProjectLogQuery, projectActivityLog } from './project-log.ts';

export async function activityRoutes(app: ZodFastify): Promise<void> {
  const { ctx } = app.services;
  app.get(
    '/api/projects/:project_id/advanced_activity_logs',
    {
      config: { access: { scope: 'activity_log:read', project: 'param' } },
      schema: {
        tags: ['activity_logs'],
        summary: "The project's activity log, filtered by date, users, scopes, activities and items",
        params: ProjectParams,
        querystring: ProjectLogQuery,
        response: { 200: ProjectLogPageSchema },
      },
    },
    async (request) => projectActivityLog(ctx, requireProject(request.auth).id, request.query, absoluteUrl(request, ctx.config.publicUrl)),
  );
}

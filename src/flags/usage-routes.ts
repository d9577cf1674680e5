// Flag actions built on usage and persons (docs/compatibility.md#api-7.7), beside the flag routes at both bases:
// POST …/:id/dashboard, …/:id/enrich_usage_dashboard, …/:id/create_static_cohort_for_flag.
// They are writes on the flag, so, as in PostHog, the caller must be able to edit it.
import { z } from 'zod';
import type { RouteAccess } from '../access/auth-hook.ts';
import { ProjectParams, idParam } from '../platform/http/common-schemas.ts';
import { CohortSchema } from '../cohorts/schemas.ts';
import { enrichUsageDashboard, generateUsageDashboard } from './dashboards/service.ts';
import { createStaticCohortForFlag } from './static-cohort.ts';
import { editableFlag } from '../access/roles/flag-access.ts';
import type { ZodFastify } from '../platform/http/openapi.ts';

export interface FlagUsageRoutesOptions {
  base: string;
  project: RouteAccess['project'];
}

const IdParams = z.object({ id: z.string().meta({ description: 'Feature flag id' }) });
const Success = z.object({ success: z.literal(true) });
const Failure = z.object({ success: z.literal(false), error: z.string() }).meta({ id: 'DashboardActionError' });

export async function featureFlagUsageRoutes(app: ZodFastify, opts: FlagUsageRoutesOptions): Promise<void> {
  const { ctx } = app.services;
  const withId = opts.project === 'param' ? ProjectParams.extend(IdParams.shape) : IdParams;
  // PostHog's dashboard and cohort actions take no scoped personal API keys ("PAK n/a").
  const access: { access: RouteAccess } = { access: { scope: null, project: opts.project } };
  const tags = [opts.project === 'param' ? 'feature_flags' : 'feature_flags (legacy path)'];

  app.post(
    `${opts.base}/:id/dashboard`,
    {
      config: access,
      schema: {
        tags,
        summary: "Generate a new usage dashboard for the flag (it becomes the flag's usage_dashboard)",
        params: withId,
        response: { 200: Success, 400: Failure },
      },
    },
    async (request) => {
      const flag = await editableFlag(ctx.db, request.auth, idParam(request.params.id));
      return generateUsageDashboard(ctx, flag.projectId, flag.id, request.auth.user?.id ?? null);
    },
  );

  app.post(
    `${opts.base}/:id/enrich_usage_dashboard`,
    {
      config: access,
      schema: {
        tags,
        summary: 'Add the feature view and interaction tiles to the usage dashboard',
        params: withId,
        response: { 200: Success, 400: Failure },
      },
    },
    async (request) => {
      const flag = await editableFlag(ctx.db, request.auth, idParam(request.params.id));
      return enrichUsageDashboard(ctx, flag.projectId, flag.id);
    },
  );

  app.post(
    `${opts.base}/:id/create_static_cohort_for_flag`,
    {
      config: access,
      schema: {
        tags,
        summary: 'Create a static cohort of every known person the flag matches now',
        params: withId,
        response: { 201: z.object({ cohort: CohortSchema }) },
      },
    },
    async (request, reply) => {
      const flag = await editableFlag(ctx.db, request.auth, idParam(request.params.id));
      return reply.code(201).send({ cohort: await createStaticCohortForFlag(ctx, app.services.snapshots, request.auth, flag.id) });
    },
  );
}

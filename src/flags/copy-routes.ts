// POST /api/organizations/:organization_id/feature_flags/copy_flags/ (docs/compatibility.md#api-7.11).
import { z } from 'zod';
import type { RouteAccess } from '../access/auth-hook.ts';
import { OrganizationParams } from '../access/roles/schemas.ts';
import { serviceValidated, type ZodFastify } from '../platform/http/openapi.ts';
import { FeatureFlagSchema } from './schemas.ts';
import { copyFlags, MAX_COPY_TARGETS } from './copy.ts';

const CopyBody = z
  .object({
    feature_flag_key: z.string().meta({ description: 'Key of the flag to copy' }),
    from_project: z.number().int().meta({ description: 'Project the flag is copied from' }),
    target_project_ids: z
      .array(z.number().int())
      .max(MAX_COPY_TARGETS)
      .meta({ description: 'Projects of the same organization to copy it to; a flag with the same key there is updated' }),
    copy_schedule: z.boolean().optional().meta({ description: 'Accepted; flaghost has no scheduled changes to copy' }),
  })
  .meta({ id: 'CopyFlagsRequest' });

const CopyResultSchema = z
  .object({
    success: z.array(FeatureFlagSchema).meta({ description: 'The flag as created or updated in each project' }),
    failed: z.array(z.object({ project_id: z.unknown(), errors: z.unknown() })).meta({ description: 'Projects the copy failed for, with why' }),
  })
  .meta({ id: 'CopyFlagsResponse' });

export async function featureFlagCopyRoutes(app: ZodFastify): Promise<void> {
  const { ctx, authenticator } = app.services;
  const access: RouteAccess = { scope: 'feature_flag:write', project: 'none', organization: 'param' };
  app.post(
    '/api/organizations/:organization_id/feature_flags/copy_flags',
    {
      config: { access },
      schema: {
        tags: ['feature_flags'],
        summary: 'Copy a flag, with the cohorts it uses, to other projects of the organization',
        params: OrganizationParams,
        body: serviceValidated(CopyBody),
        response: { 200: CopyResultSchema },
      },
    },
    async (request) => copyFlags(ctx, authenticator, request.auth, request.body),
  );
}

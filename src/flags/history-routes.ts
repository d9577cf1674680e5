// …/feature_flags/:id/dependent_flags and …/feature_flags/:id/versions/:n, on the project path and
// the legacy /api/feature_flag/ path (docs/compatibility.md#api-7.10).
import { z } from 'zod';
import type { RouteAccess } from '../access/auth-hook.ts';
import { ProjectParams, idParam } from '../platform/http/common-schemas.ts';
import type { ZodFastify } from '../platform/http/openapi.ts';
import type { FlagRoutesOptions } from './routes.ts';
import { dependentFlags, flagAtVersion } from './history.ts';

const IdParams = z.object({ id: z.string().meta({ description: 'Feature flag id' }) });
const VersionParams = IdParams.extend({ version: z.string().meta({ description: 'Version number (1 is the flag as created)' }) });

const DependentFlagSchema = z
  .object({ id: z.number().int(), key: z.string(), name: z.string().meta({ description: 'The name, or the key when the name is blank' }) })
  .meta({ id: 'DependentFlag' });

const FlagVersionSchema = z
  .object({
    id: z.number().int(),
    key: z.string(),
    name: z.string(),
    filters: z.record(z.string(), z.unknown()),
    active: z.boolean(),
    deleted: z.boolean(),
    version: z.number().int().nullable(),
    rollback_conditions: z.unknown().nullable(),
    performed_rollback: z.boolean().nullable(),
    ensure_experience_continuity: z.boolean().nullable(),
    has_enriched_analytics: z.boolean().nullable(),
    is_remote_configuration: z.boolean().nullable(),
    has_encrypted_payloads: z.boolean().nullable(),
    evaluation_runtime: z.string().nullable(),
    bucketing_identifier: z.string().nullable(),
    last_called_at: z.string().nullable(),
    created_at: z.string(),
    created_by: z.number().int().nullable().meta({ description: "The creator's user id" }),
    is_historical: z.boolean().meta({ description: 'False for the current version; true for a version rebuilt from the activity log' }),
    version_timestamp: z.string().nullable().meta({ description: 'When this version was saved' }),
    modified_by: z.number().int().nullable().meta({ description: 'User id of whoever saved this version' }),
  })
  .meta({ id: 'FeatureFlagVersion' });

export async function featureFlagHistoryRoutes(app: ZodFastify, opts: FlagRoutesOptions): Promise<void> {
  const { ctx } = app.services;
  const withId = opts.project === 'param' ? ProjectParams.extend(IdParams.shape) : IdParams;
  const withVersion = opts.project === 'param' ? ProjectParams.extend(VersionParams.shape) : VersionParams;
  const config = { access: { scope: 'feature_flag:read', project: opts.project } satisfies RouteAccess };
  const tags = [opts.project === 'param' ? 'feature_flags' : 'feature_flags (legacy path)'];

  app.get(
    `${opts.base}/:id/dependent_flags`,
    {
      config,
      schema: {
        tags,
        summary: 'The active flags that depend on this one, directly or through other flags',
        params: withId,
        response: { 200: z.array(DependentFlagSchema) },
      },
    },
    async (request) => dependentFlags(ctx, request.auth, idParam(request.params.id)),
  );

  app.get(
    `${opts.base}/:id/versions/:version`,
    {
      config,
      schema: {
        tags,
        summary: 'The flag as it was at a version, rebuilt from its activity log',
        params: withVersion,
        response: { 200: FlagVersionSchema },
      },
    },
    async (request) => flagAtVersion(ctx, request.auth, idParam(request.params.id), idParam(request.params.version)),
  );
}

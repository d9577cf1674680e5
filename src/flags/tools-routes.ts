// …/feature_flags/my_flags, user_blast_radius, matching_ids and bulk_delete, on both flag paths
// (docs/compatibility.md#api-7.5, #api-7.8, #api-7.9).
import { z } from 'zod';
import type { RouteAccess } from '../access/auth-hook.ts';
import { ProjectParams } from '../platform/http/common-schemas.ts';
import { serviceValidated, type ZodFastify } from '../platform/http/openapi.ts';
import { MyFlagsSchema, myFlags } from './my-flags.ts';
import { userBlastRadius } from './blast-radius.ts';
import { bulkDelete, matchingIds, MAX_BULK_DELETE } from './bulk.ts';

const FilterQuery = z.looseObject({
  active: z.string().optional().meta({ description: '"true", "false" or "STALE"' }),
  created_by_id: z.string().optional(),
  search: z.string().optional(),
  type: z.string().optional(),
  evaluation_runtime: z.string().optional(),
  tags: z.string().optional().meta({ description: 'JSON array of tag names (any of)' }),
  excluded_properties: z.string().optional().meta({ description: 'JSON array of flag keys to exclude' }),
  has_evaluation_tags: z.string().optional(),
});

const BlastRadiusBody = z.object({
  condition: z.object({ properties: z.array(z.record(z.string(), z.unknown())).optional() }).meta({ description: 'One release condition (rollout ignored)' }),
  group_type_index: z.number().int().nullable().optional(),
});
const BlastRadiusSchema = z.object({ users_affected: z.number().int(), total_users: z.number().int() }).meta({ id: 'UserBlastRadius' });

const BulkDeleteBody = z.object({
  ids: z
    .array(z.union([z.number().int(), z.string()]))
    .max(MAX_BULK_DELETE)
    .optional(),
  filters: FilterQuery.partial().optional().meta({ description: 'The list filters (search, active, type, tags, …); not together with ids' }),
});
const BulkDeleteSchema = z
  .object({
    deleted: z.array(
      z.object({
        id: z.number().int(),
        key: z.string(),
        rollout_state: z.enum(['fully_rolled_out', 'not_rolled_out', 'partial']),
        active_variant: z.string().nullable(),
      }),
    ),
    errors: z.array(z.object({ id: z.unknown(), key: z.string().optional(), reason: z.string() })),
  })
  .meta({ id: 'BulkDeleteResult' });
const MatchingIdsSchema = z.object({ ids: z.array(z.number().int()), total: z.number().int() }).meta({ id: 'MatchingIds' });

export async function flagToolRoutes(app: ZodFastify, opts: { base: string; project: RouteAccess['project'] }): Promise<void> {
  const { ctx, snapshots } = app.services;
  const params = opts.project === 'param' ? { params: ProjectParams } : {};
  const access = (scope: string | null): { access: RouteAccess } => ({ access: { scope, project: opts.project } });
  const tags = [opts.project === 'param' ? 'feature_flags' : 'feature_flags (legacy path)'];
  const base = opts.base;

  app.get(
    `${base}/my_flags`,
    {
      config: access(null),
      schema: {
        tags,
        summary: "Every flag's value for the calling user",
        ...params,
        querystring: z.looseObject({ groups: z.string().optional().meta({ description: 'JSON object of group type → key' }) }),
        response: { 200: MyFlagsSchema },
      },
    },
    async (request) => myFlags(ctx, snapshots, request.auth, request.query),
  );

  app.post(
    `${base}/user_blast_radius`,
    {
      config: access(null),
      schema: {
        tags,
        summary: 'How many stored persons (or groups of one type) a release condition matches',
        ...params,
        body: serviceValidated(BlastRadiusBody),
        response: { 200: BlastRadiusSchema },
      },
    },
    async (request) => userBlastRadius(ctx, snapshots, request.auth, request.body),
  );

  app.get(
    `${base}/matching_ids`,
    {
      config: access('feature_flag:read'),
      schema: {
        tags,
        summary: 'Ids of the flags matching the list filters that the caller may edit',
        ...params,
        querystring: FilterQuery,
        response: { 200: MatchingIdsSchema },
      },
    },
    async (request) => matchingIds(ctx, request.auth, request.query),
  );

  app.post(
    `${base}/bulk_delete`,
    {
      config: access('feature_flag:write'),
      schema: {
        tags,
        summary: 'Soft-delete flags by ids or by the list filters, each checked as a single soft delete',
        ...params,
        body: serviceValidated(BulkDeleteBody),
        response: { 200: BulkDeleteSchema },
      },
    },
    async (request) => bulkDelete(ctx, request.auth, request.body),
  );
}

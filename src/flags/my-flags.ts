// GET …/feature_flags/my_flags (docs/compatibility.md#api-7.5): every live flag of the project, newest
// first, with its value for the calling user's own distinct id, evaluated as /flags evaluates it.
import { z } from 'zod';
import type { AppContext } from '../platform/context.ts';
import type { SnapshotStore } from '../sdk/snapshots.ts';
import type { RequestAuth } from '../access/auth.ts';
import { requireProject } from '../access/require-auth.ts';
import { NotAuthenticatedError, ValidationError } from '../platform/errors.ts';
import { evaluateForDistinctId, parseGroups } from './evaluation-reasons.ts';
import { normalizeFilters } from './filters.ts';
import { visiblePayloads } from './payloads.ts';

/** PostHog's MinimalFeatureFlagSerializer. */
export const MinimalFeatureFlagSchema = z
  .object({
    id: z.number().int(),
    team_id: z.number().int(),
    name: z.string(),
    key: z.string(),
    filters: z.record(z.string(), z.unknown()),
    deleted: z.boolean(),
    active: z.boolean(),
    ensure_experience_continuity: z.boolean().nullable(),
    has_encrypted_payloads: z.boolean().nullable(),
    version: z.number().int().nullable(),
    evaluation_runtime: z.string().nullable(),
    evaluation_tags: z.array(z.string()),
  })
  .meta({ id: 'MinimalFeatureFlag' });

export const MyFlagsSchema = z
  .array(z.object({ feature_flag: MinimalFeatureFlagSchema, value: z.union([z.boolean(), z.string()]) }))
  .meta({ id: 'MyFlags', description: 'Every flag with its value for the calling user, newest first' });

export async function myFlags(
  ctx: AppContext,
  snapshots: SnapshotStore,
  auth: RequestAuth,
  query: Record<string, unknown>,
): Promise<z.infer<typeof MyFlagsSchema>> {
  if (!auth.user) throw new NotAuthenticatedError();
  const projectId = requireProject(auth).id;
  const groups = parseGroups(query.groups);
  const distinctId = auth.user.distinctId;
  if (!distinctId) throw new ValidationError('User distinct_id is required');
  const { snapshot, results } = await evaluateForDistinctId(ctx, snapshots, projectId, distinctId, groups);
  const payloads = visiblePayloads(ctx.payloadCipher());
  const rows = [...snapshot.flags].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id);
  return rows.map((flag) => {
    let filters = normalizeFilters(flag.filters, flag.rolloutPercentage);
    if (filters.payloads && typeof filters.payloads === 'object')
      filters = { ...filters, payloads: payloads(flag, filters.payloads as Record<string, unknown>) };
    const result = flag.active ? results.get(flag.key) : undefined;
    return {
      feature_flag: {
        id: flag.id,
        team_id: flag.projectId,
        name: flag.name,
        key: flag.key,
        filters,
        deleted: flag.deleted,
        active: flag.active,
        ensure_experience_continuity: flag.ensureExperienceContinuity,
        has_encrypted_payloads: flag.hasEncryptedPayloads,
        version: flag.version,
        evaluation_runtime: flag.evaluationRuntime,
        evaluation_tags: flag.evaluationTags,
      },
      value: result?.enabled ? (result.variant ?? true) : false,
    };
  });
}

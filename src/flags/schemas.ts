// The feature-flag representation (PostHog's full serializer, docs/compatibility.md#api-2.1) and
// its presenter.
import { z } from 'zod';
import type { FeatureFlagRow } from './repository.ts';
import type { User } from '../access/organizations/users-repository.ts';
import { UserBasicSchema, toUserBasic } from '../access/organizations/user-schemas.ts';
import { isoTime } from '../platform/time.ts';
import { normalizeFilters } from './filters.ts';

export const ACCESS_LEVELS = ['none', 'viewer', 'editor', 'manager'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

export const FeatureFlagSchema = z
  .object({
    id: z.number().int(),
    name: z.string().meta({ description: 'Description of the flag' }),
    key: z.string(),
    filters: z.record(z.string(), z.unknown()).meta({ description: 'Release conditions, variants, payloads (normalized)' }),
    deleted: z.boolean(),
    active: z.boolean(),
    created_by: UserBasicSchema.nullable(),
    created_at: z.string(),
    updated_at: z.string().nullable(),
    version: z.number().int().nullable(),
    last_modified_by: UserBasicSchema.nullable(),
    is_simple_flag: z.boolean(),
    rollout_percentage: z.number().nullable(),
    ensure_experience_continuity: z.boolean().nullable(),
    experiment_set: z.array(z.number().int()),
    surveys: z.array(z.record(z.string(), z.unknown())),
    features: z.array(z.record(z.string(), z.unknown())),
    rollback_conditions: z.unknown().nullable(),
    performed_rollback: z.boolean().nullable(),
    can_edit: z.boolean(),
    tags: z.array(z.string()),
    evaluation_tags: z.array(z.string()),
    usage_dashboard: z.number().int().nullable(),
    analytics_dashboards: z.array(z.number().int()),
    has_enriched_analytics: z.boolean().nullable(),
    user_access_level: z.enum(ACCESS_LEVELS).nullable(),
    is_remote_configuration: z.boolean().nullable(),
    has_encrypted_payloads: z.boolean().nullable(),
    status: z.enum(['ACTIVE', 'STALE', 'DELETED', 'UNKNOWN']),
    evaluation_runtime: z.enum(['server', 'client', 'all']).nullable(),
    bucketing_identifier: z.string().nullable(),
    last_called_at: z.string().nullable(),
    is_used_in_replay_settings: z.boolean().meta({
      description: "Whether a project's session-recording settings link this flag: always false, flaghost has no session recording",
    }),
  })
  .meta({ id: 'FeatureFlag' });

export type FeatureFlagOut = z.infer<typeof FeatureFlagSchema>;

/** Everything about a flag that is not in its row, gathered by the service. */
export interface FlagExtras {
  users: Map<number, User>;
  analyticsDashboards: Map<number, number[]>;
  cohortNames: Map<number, string>;
  access: (flag: FeatureFlagRow) => { canEdit: boolean; level: AccessLevel };
  status: (flag: FeatureFlagRow) => 'ACTIVE' | 'STALE' | 'DELETED' | 'UNKNOWN';
  /** Turns stored payload values into what this caller may see (decryption). */
  payloads?: (flag: FeatureFlagRow, payloads: Record<string, unknown>) => Record<string, unknown>;
}

/** Cohort properties gain `cohort_name` on output (docs/compatibility.md#case-29). */
function withCohortNames(filters: Record<string, unknown>, names: Map<number, string>): Record<string, unknown> {
  if (!names.size || !Array.isArray(filters.groups)) return filters;
  return {
    ...filters,
    groups: filters.groups.map((g) => {
      if (!g || typeof g !== 'object' || !Array.isArray((g as { properties?: unknown }).properties)) return g;
      const group = g as { properties: unknown[] };
      return {
        ...group,
        properties: group.properties.map((p) => {
          if (!p || typeof p !== 'object') return p;
          const prop = p as { type?: unknown; value?: unknown };
          if (prop.type !== 'cohort') return p;
          const name = names.get(Number(prop.value));
          return name === undefined ? p : { ...prop, cohort_name: name };
        }),
      };
    }),
  };
}

export function toFeatureFlag(flag: FeatureFlagRow, extras: FlagExtras): FeatureFlagOut {
  let filters = normalizeFilters(flag.filters, flag.rolloutPercentage);
  if (extras.payloads && filters.payloads && typeof filters.payloads === 'object') {
    filters = { ...filters, payloads: extras.payloads(flag, filters.payloads as Record<string, unknown>) };
  }
  filters = withCohortNames(filters, extras.cohortNames);
  const groups = Array.isArray(filters.groups) ? (filters.groups as Array<Record<string, unknown>>) : [];
  const isSimple =
    groups.length === 1 &&
    (!Array.isArray(groups[0]?.properties) || (groups[0].properties as unknown[]).length === 0) &&
    (filters.aggregation_group_type_index === undefined || filters.aggregation_group_type_index === null);
  const rollout = isSimple && typeof groups[0].rollout_percentage === 'number' ? (groups[0].rollout_percentage as number) : null;
  const user = (id: number | null) => {
    const u = id === null ? undefined : extras.users.get(id);
    return u ? toUserBasic(u) : null;
  };
  const access = extras.access(flag);
  return {
    id: flag.id,
    name: flag.name,
    key: flag.key,
    filters,
    deleted: flag.deleted,
    active: flag.active,
    created_by: user(flag.createdById),
    created_at: isoTime(flag.createdAt),
    updated_at: isoTime(flag.updatedAt),
    version: flag.version,
    last_modified_by: user(flag.lastModifiedById),
    is_simple_flag: isSimple,
    rollout_percentage: rollout,
    ensure_experience_continuity: flag.ensureExperienceContinuity,
    experiment_set: [],
    surveys: [],
    features: [],
    rollback_conditions: flag.rollbackConditions ?? null,
    performed_rollback: flag.performedRollback,
    can_edit: access.canEdit,
    tags: flag.tags,
    evaluation_tags: flag.evaluationTags,
    usage_dashboard: flag.usageDashboardId,
    analytics_dashboards: extras.analyticsDashboards.get(flag.id) ?? [],
    has_enriched_analytics: flag.hasEnrichedAnalytics,
    user_access_level: access.level,
    is_remote_configuration: flag.isRemoteConfiguration,
    has_encrypted_payloads: flag.hasEncryptedPayloads,
    status: extras.status(flag),
    evaluation_runtime: flag.evaluationRuntime as FeatureFlagOut['evaluation_runtime'],
    bucketing_identifier: flag.bucketingIdentifier,
    last_called_at: isoTime(flag.lastCalledAt),
    is_used_in_replay_settings: false,
  };
}

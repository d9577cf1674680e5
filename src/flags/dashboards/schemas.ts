// Dashboard shapes: PostHog's dashboard with tiles whose insights carry trend results.
import { z } from 'zod';
import { UserBasicSchema } from '../../access/organizations/user-schemas.ts';

const TrendSeriesSchema = z
  .object({
    action: z.object({ id: z.string(), type: z.string(), order: z.number().int(), name: z.string(), math: z.string().nullable() }),
    label: z.string(),
    count: z.number(),
    data: z.array(z.number()).meta({ description: 'One value per day, oldest first' }),
    labels: z.array(z.string()).meta({ description: 'Days as PostHog labels them (1-Jan-2024)' }),
    days: z.array(z.string()).meta({ description: 'Days as YYYY-MM-DD (UTC)' }),
    breakdown_value: z.string().optional().meta({ description: 'The flag value ($feature_flag_response) of this series' }),
  })
  .meta({ id: 'TrendSeries' });

const DashboardTileSchema = z
  .object({
    id: z.number().int(),
    layouts: z.record(z.string(), z.unknown()),
    color: z.string().nullable(),
    text: z.null(),
    deleted: z.boolean(),
    is_cached: z.boolean(),
    last_refresh: z.string(),
    insight: z.object({
      id: z.number().int(),
      short_id: z.string(),
      name: z.string(),
      derived_name: z.null(),
      description: z.string(),
      filters: z.record(z.string(), z.unknown()),
      query: z.null(),
      dashboards: z.array(z.number().int()),
      is_sample: z.boolean(),
      timezone: z.string(),
      last_refresh: z.string(),
      result: z.array(TrendSeriesSchema),
    }),
  })
  .meta({ id: 'DashboardTile' });

export const DashboardSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    description: z.string(),
    pinned: z.boolean(),
    created_at: z.string(),
    created_by: UserBasicSchema.nullable(),
    is_shared: z.boolean(),
    deleted: z.boolean(),
    creation_mode: z.string(),
    filters: z.record(z.string(), z.unknown()),
    tags: z.array(z.string()),
    restriction_level: z.number().int(),
    effective_restriction_level: z.number().int(),
    team_id: z.number().int(),
    tiles: z.array(DashboardTileSchema),
  })
  .meta({ id: 'Dashboard' });

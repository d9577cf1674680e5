// Group type shapes: PostHog's GroupTypeSerializer representation and flaghost's create/metadata bodies.
import { z } from 'zod';
import type { GroupTypeRow } from './repository.ts';
import { drfString } from '../platform/http/drf.ts';

export const GroupTypeSchema = z
  .object({
    group_type: z.string(),
    group_type_index: z.number().int(),
    name_singular: z.string().nullable(),
    name_plural: z.string().nullable(),
    detail_dashboard: z.number().int().nullable().meta({ description: 'Always null: flaghost has no group dashboards' }),
    default_columns: z.array(z.string()).nullable(),
    created_at: z.string().nullable().meta({ description: 'Null: mappings carry no creation time (as PostHog renders old mappings)' }),
  })
  .meta({ id: 'GroupType' });

export type GroupTypeOut = z.infer<typeof GroupTypeSchema>;

export function toGroupType(row: GroupTypeRow): GroupTypeOut {
  return {
    group_type: row.groupType,
    group_type_index: row.groupTypeIndex,
    name_singular: row.nameSingular ?? null,
    name_plural: row.namePlural ?? null,
    detail_dashboard: null,
    default_columns: null,
    created_at: null,
  };
}

/** DRF CharField trims surrounding whitespace before its blank and length checks. */
const trimmed = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), schema);

const groupTypeIndex = () =>
  z
    .preprocess((v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v), z.number().int().min(0).max(4))
    .meta({ type: 'integer', minimum: 0, maximum: 4 });

const displayName = () =>
  trimmed(drfString({ max: 400, allowBlank: true }))
    .nullable()
    .optional();

export const GroupTypeCreateBody = z
  .object({
    group_type: trimmed(drfString({ max: 400 })).meta({ description: 'Group type name, e.g. "company"' }),
    group_type_index: groupTypeIndex().nullable().optional().meta({ description: 'Index 0–4; default: the lowest free index' }),
    name_singular: displayName(),
    name_plural: displayName(),
  })
  .meta({ id: 'GroupTypeCreate' });

export const GroupTypeMetadataRow = z.object({
  group_type_index: groupTypeIndex(),
  name_singular: displayName(),
  name_plural: displayName(),
});

export const GroupTypeMetadataBody = z.array(GroupTypeMetadataRow).meta({ id: 'GroupTypeMetadataUpdate' });

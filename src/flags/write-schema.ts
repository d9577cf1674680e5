// The feature-flag write body (POST, PUT, PATCH) for the OpenAPI document. Documentation only:
// src/flags/validation.ts validates it with PostHog's rules, order and messages.
import { z } from 'zod';
import { serviceValidated } from '../platform/http/openapi.ts';
import { BUCKETING_IDENTIFIERS, CREATION_CONTEXTS, EVALUATION_RUNTIMES } from './validation.ts';
import { PROPERTY_OPERATORS } from './validation-filters.ts';

const FlagProperty = z
  .looseObject({
    key: z.union([z.string(), z.number()]).meta({
      description: 'Property name; "id" for cohort conditions; the dependency flag id (as a string) for flag conditions',
    }),
    type: z
      .enum(['person', 'cohort', 'flag', 'group'])
      .optional()
      .meta({ description: 'person, cohort or flag on person flags; group on group flags (missing means "event", which flags refuse)' }),
    value: z.unknown().optional().meta({
      description:
        'Value to compare with: a string for regex, icontains, gt/gte/lt/lte; a date or relative date (-30d) for is_date_before/after; a list for exact/is_not (at most 1000 items); the cohort id for cohorts; true, false or a variant key for flags',
    }),
    operator: z
      .enum([...PROPERTY_OPERATORS] as [string, ...string[]])
      .nullable()
      .optional()
      .meta({ description: 'Comparison (default exact); in/not_in only for cohorts; flag conditions use flag_evaluates_to' }),
    group_type_index: z
      .number()
      .int()
      .min(0)
      .max(4)
      .optional()
      .meta({ description: "Group type of a group property; must equal the flag's aggregation_group_type_index" }),
    negation: z.boolean().optional().meta({ description: 'Negates the condition' }),
  })
  .meta({ id: 'FeatureFlagProperty', description: 'One condition; the conditions of a group are AND-ed' });

const FlagGroup = z
  .looseObject({
    properties: z.array(FlagProperty).optional().meta({ description: 'Conditions, all of which must match' }),
    rollout_percentage: z.number().nullable().optional().meta({ description: 'Share of matching users who get the flag (null: 100 %); not range-checked' }),
    variant: z.string().nullable().optional().meta({ description: 'Variant served to this group (must be a variant key)' }),
  })
  .meta({ id: 'FeatureFlagGroup', description: 'One release condition set; groups are OR-ed' });

const FlagVariant = z
  .looseObject({
    key: z.string().meta({ description: 'Variant key returned by evaluation' }),
    name: z.string().nullable().optional().meta({ description: 'Description of the variant' }),
    rollout_percentage: z.number().meta({ description: "Share of the flag's users who get this variant; the variants must sum to 100" }),
  })
  .meta({ id: 'FeatureFlagVariant' });

const FlagFiltersInput = z
  .looseObject({
    groups: z.array(FlagGroup).meta({
      description: 'Release conditions, OR-ed. Required and non-empty on create; PATCH filters without groups are ignored; [] allowed on update',
    }),
    multivariate: z
      .object({ variants: z.array(FlagVariant).meta({ description: 'Variants; rollout percentages sum to 100' }) })
      .nullable()
      .optional()
      .meta({ description: 'Variants of a multivariate flag (null for a boolean flag)' }),
    payloads: z.record(z.string(), z.unknown()).optional().meta({
      description: 'Payload per variant key ("true" for boolean flags): JSON text, or a JSON value (objects are stored as JSON text)',
    }),
    aggregation_group_type_index: z.number().int().min(0).max(4).nullable().optional().meta({
      description: 'Group type the flag aggregates by (null: persons)',
    }),
    super_groups: z.array(z.unknown()).optional().meta({ description: 'Early-access enrollment conditions (stored as given)' }),
    holdout_groups: z.array(z.unknown()).optional().meta({ description: 'Holdout conditions (stored as given)' }),
  })
  .meta({ id: 'FeatureFlagFilters', description: 'Release conditions, variants and payloads' });

const nullableBoolean = (description: string) => z.boolean().nullable().optional().meta({ description });

export const FeatureFlagWriteBody = serviceValidated(
  z
    .looseObject({
      name: z.string().optional().meta({ description: 'Description of the flag (the field keeps its historical name); may be blank' }),
      key: z.string().max(400).optional().meta({
        description: 'Unique key among the project\'s live flags: letters, digits, "-" and "_", at most 400 characters. Required on POST and PUT',
      }),
      filters: FlagFiltersInput.optional(),
      deleted: z.boolean().optional().meta({ description: 'Soft delete (true) or restore (false)' }),
      active: z.boolean().optional().meta({ description: 'Whether the flag is enabled (default true)' }),
      version: z.number().int().optional().meta({
        description: "Version the client last saw; with original_flag, a stale version conflicting with someone else's change answers 409",
      }),
      original_flag: z.record(z.string(), z.unknown()).optional().meta({ description: 'The flag as the client last saw it (optimistic locking)' }),
      ensure_experience_continuity: nullableBoolean("Keep a person's value stable across anonymous and identified ids"),
      rollback_conditions: z.unknown().optional().meta({ description: 'Any JSON, stored as given' }),
      performed_rollback: nullableBoolean('Set to false whenever a request sets active: true'),
      tags: z.array(z.string()).optional().meta({ description: 'Tags (trimmed, lower-cased, de-duplicated); replaces the set' }),
      evaluation_tags: z.array(z.string()).optional().meta({
        description: 'Tags that also restrict where the flag is evaluated; must be a subset of the tags sent in the same request; [] clears them',
      }),
      analytics_dashboards: z.array(z.number().int()).optional().meta({ description: 'Dashboards of the project to link (links are only added)' }),
      has_enriched_analytics: nullableBoolean('Whether the flag sends enriched analytics'),
      creation_context: z.enum(CREATION_CONTEXTS).optional().meta({ description: 'Product the flag was created from (write-only)' }),
      is_remote_configuration: nullableBoolean('A remote-configuration flag (payload only, excluded from local evaluation)'),
      has_encrypted_payloads: nullableBoolean('Store payloads encrypted at rest'),
      evaluation_runtime: z.enum(EVALUATION_RUNTIMES).nullable().optional().meta({ description: 'Where the flag is evaluated (default all)' }),
      bucketing_identifier: z.enum(BUCKETING_IDENTIFIERS).nullable().optional().meta({
        description: 'Identifier hashed for rollout and variants (default distinct_id)',
      }),
      _create_in_folder: z.string().optional().meta({ description: 'UI folder path (accepted, not used)' }),
      _should_create_usage_dashboard: z.boolean().optional().meta({ description: 'Create the usage dashboard (default true)' }),
    })
    .meta({ id: 'FeatureFlagWrite', description: 'Writable fields of a feature flag; unknown fields are ignored' }),
);

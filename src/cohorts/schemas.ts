// Cohort shapes: PostHog's CohortSerializer representation and the write body (field rules in
// DRF's field order). The `filters` check itself is in cohort-filters.ts.
import { z } from 'zod';
import type { CohortRow } from './repository.ts';
import type { User } from '../access/organizations/users-repository.ts';
import { UserBasicSchema, toUserBasic } from '../access/organizations/user-schemas.ts';
import { drfBoolean, drfString, fail, parseOrThrow, pythonRepr, pythonTypeName } from '../platform/http/drf.ts';
import { isoTime } from '../platform/time.ts';
import { checkCohortFilters, isDict, legacyGroupsToFilters } from './filter-schemas.ts';
import { ValidationError } from '../platform/errors.ts';
import { parseFormJsonFields } from '../platform/http/body-parsers.ts';

/** A file part of a multipart body (or a whole text/csv body), as the route hands it to the service. */
export class UploadedFile {
  readonly filename: string;
  readonly contentType: string;
  readonly data: Buffer;
  constructor(filename: string, contentType: string, data: Buffer) {
    this.filename = filename;
    this.contentType = contentType;
    this.data = data;
  }
}

export const CohortSchema = z
  .object({
    id: z.number().int(),
    name: z.string().nullable(),
    description: z.string(),
    groups: z.array(z.unknown()).meta({ description: 'Legacy criteria; flaghost stores them as `filters` and renders []' }),
    deleted: z.boolean(),
    filters: z.record(z.string(), z.unknown()).meta({ description: '{"properties": {"type": "AND"|"OR", "values": [...]}}' }),
    query: z.unknown().nullable(),
    version: z.number().int().nullable(),
    pending_version: z.number().int().nullable(),
    is_calculating: z.boolean(),
    created_by: UserBasicSchema.nullable(),
    created_at: z.string().nullable(),
    last_calculation: z.string().nullable(),
    last_backfill_person_properties_at: z.string().nullable(),
    errors_calculating: z.number().int(),
    last_error_message: z.string().nullable(),
    count: z.number().int().nullable().meta({ description: 'Members of a static cohort; null for dynamic cohorts (evaluated from person properties)' }),
    is_static: z.boolean(),
    cohort_type: z.string().nullable(),
    experiment_set: z.array(z.number().int()),
  })
  .meta({ id: 'Cohort' });

export type CohortOut = z.infer<typeof CohortSchema>;

const EMPTY_PROPERTIES = { properties: { type: 'AND', values: [] } };

/** PostHog renders a cohort without filters as an empty AND group. */
export function presentCohortFilters(filters: Record<string, unknown> | null | undefined): Record<string, unknown> {
  return filters && typeof filters === 'object' && Object.keys(filters).length ? filters : EMPTY_PROPERTIES;
}

export function toCohort(row: CohortRow, users: Map<number, User>): CohortOut {
  const creator = row.createdById !== null ? users.get(row.createdById) : undefined;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    groups: [],
    deleted: row.deleted,
    filters: presentCohortFilters(row.filters),
    query: null,
    version: null,
    pending_version: null,
    is_calculating: row.isCalculating,
    created_by: creator ? toUserBasic(creator) : null,
    created_at: isoTime(row.createdAt),
    // Static membership is written synchronously: the last write is the last "calculation".
    last_calculation: row.isStatic ? isoTime(row.updatedAt) : null,
    last_backfill_person_properties_at: null,
    errors_calculating: 0,
    last_error_message: null,
    count: row.count ?? null,
    is_static: row.isStatic,
    cohort_type: null,
    experiment_set: [],
  };
}

// ---------------------------------------------------------------------------------------------
// The write body. Fields are checked in CohortSerializer's field order and the first error wins.

const COHORT_TYPES = ['static', 'person_property', 'behavioral', 'realtime', 'analytical'] as const;
const QUERY_KINDS = new Set(['ActorsQuery', 'HogQLQuery']);
/** Body fields a form (multipart or urlencoded) carries as JSON text, like DRF's JSONField. */
const JSON_FORM_FIELDS = ['groups', 'filters', 'query'] as const;
const LIST_FIELDS = ['_create_static_person_ids', 'distinct_ids'] as const;

const trimmed = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), schema);
const idList = () => z.array(trimmed(drfString({ max: 1000 })));

/** Documentation of the JSON body; the service parses with `parseCohortWrite`. */
export const CohortWriteBody = z
  .object({
    name: z.string().max(400).nullable().optional(),
    description: z.string().max(1000).optional(),
    groups: z.array(z.record(z.string(), z.unknown())).optional().meta({ description: 'Legacy criteria, converted into filters' }),
    deleted: z.boolean().optional().meta({ description: 'true soft-deletes, false restores' }),
    filters: z.record(z.string(), z.unknown()).nullable().optional().meta({ description: '{"properties": {"type": "AND"|"OR", "values": [...]}}' }),
    query: z.unknown().nullable().optional().meta({ description: 'Only null is supported' }),
    is_static: z.boolean().optional(),
    cohort_type: z.enum(COHORT_TYPES).nullable().optional(),
    _create_static_person_ids: z.array(z.string()).optional().meta({ description: 'Person uuids to add to a static cohort' }),
    distinct_ids: z.array(z.string()).optional().meta({
      description: 'Distinct ids to add to a static cohort (flaghost); unknown ids get a new person. A multipart body may instead carry a `csv` file',
    }),
  })
  .meta({ id: 'CohortWrite' });

export interface CohortWriteInput {
  name?: string | null;
  description?: string;
  /** Filters derived from legacy `groups`. */
  groupsFilters?: Record<string, unknown>;
  deleted?: boolean;
  /** Normalized filters (null: none). */
  filters?: Record<string, unknown> | null;
  query?: Record<string, unknown> | null;
  isStatic?: boolean;
  personUuids?: string[];
  distinctIds?: string[];
  csv?: UploadedFile;
}

function coerceBoolean(raw: unknown): boolean | undefined {
  const result = drfBoolean().safeParse(raw);
  return result.success ? result.data : undefined;
}

/**
 * Parses a create/update body. `form`: the body came from multipart or urlencoded data, whose
 * JSON fields arrive as text. `existingIsStatic`: the cohort being updated is static.
 */
export function parseCohortWrite(body: unknown, opts: { form: boolean; existingIsStatic?: boolean }): CohortWriteInput {
  const data: Record<string, unknown> = body === undefined || body === null ? {} : (body as Record<string, unknown>);
  if (!isDict(data)) {
    throw new ValidationError(`Invalid data. Expected a dictionary, but got ${pythonTypeName(data)}.`, 'invalid_input', null);
  }
  const input: Record<string, unknown> = opts.form ? parseFormJsonFields(data, JSON_FORM_FIELDS) : { ...data };
  for (const field of LIST_FIELDS) if (opts.form && typeof input[field] === 'string') input[field] = [input[field]];

  const requestedStatic = input.is_static === undefined ? undefined : coerceBoolean(input.is_static);
  const willBeStatic = requestedStatic ?? opts.existingIsStatic ?? false;

  const schema = z.object({
    name: trimmed(drfString({ max: 400, allowBlank: true }))
      .nullable()
      .optional(),
    description: trimmed(drfString({ max: 1000, allowBlank: true })).optional(),
    groups: z
      .unknown()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        if (v === null) {
          fail(ctx, 'This field may not be null.', 'null');
          return z.NEVER;
        }
        if (!Array.isArray(v)) {
          fail(ctx, `Expected a list of items but got type "${pythonTypeName(v)}".`, 'not_a_list');
          return z.NEVER;
        }
        return v;
      }),
    deleted: drfBoolean().optional(),
    filters: z
      .unknown()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        const checked = checkCohortFilters(v, willBeStatic);
        if (!checked.ok) {
          fail(ctx, checked.message, 'invalid_input', checked.attr);
          return z.NEVER;
        }
        return checked.value;
      }),
    query: z
      .unknown()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        const empty = v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && !v.length) || (isDict(v) && !Object.keys(v).length);
        if (empty) return null;
        if (!isDict(v)) {
          fail(ctx, 'Query must be a dictionary.');
          return z.NEVER;
        }
        if (!QUERY_KINDS.has(v.kind as string)) {
          fail(ctx, `Query must be an ActorsQuery or HogQLQuery. Got: ${typeof v.kind === 'string' ? v.kind : pythonRepr(v.kind)}`);
          return z.NEVER;
        }
        return v;
      }),
    is_static: drfBoolean().optional(),
    cohort_type: z.enum(COHORT_TYPES).nullable().optional(),
    _create_in_folder: drfString({ allowBlank: true }).optional(),
    _create_static_person_ids: idList().optional(),
    distinct_ids: idList().optional(),
  });
  const parsed = parseOrThrow(schema, input);
  const csv = input.csv instanceof UploadedFile ? input.csv : undefined;
  return {
    ...(parsed.name !== undefined ? { name: parsed.name } : {}),
    ...(parsed.description !== undefined ? { description: parsed.description } : {}),
    ...(parsed.groups !== undefined && parsed.groups.length ? { groupsFilters: legacyGroupsToFilters(parsed.groups) } : {}),
    ...(parsed.deleted !== undefined ? { deleted: parsed.deleted } : {}),
    ...(parsed.filters !== undefined ? { filters: parsed.filters } : {}),
    ...(parsed.query !== undefined ? { query: parsed.query as Record<string, unknown> | null } : {}),
    ...(parsed.is_static !== undefined ? { isStatic: parsed.is_static } : {}),
    ...(parsed._create_static_person_ids !== undefined ? { personUuids: parsed._create_static_person_ids } : {}),
    ...(parsed.distinct_ids !== undefined ? { distinctIds: parsed.distinct_ids } : {}),
    ...(csv ? { csv } : {}),
  };
}

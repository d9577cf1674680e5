// Cohort shapes: PostHog's CohortSerializer representation, the write body (field rules in DRF's
// field order), the `filters` structure check that mirrors PostHog's pydantic models (messages
// included), and the conversion of legacy `groups` into `filters`.
import { z } from 'zod';
import type { CohortRow } from '../repositories/cohorts.ts';
import type { User } from '../repositories/users.ts';
import { UserBasicSchema, toUserBasic } from './users.ts';
import { drfBoolean, drfString, fail, parseOrThrow, pythonRepr, pythonTypeName } from './drf.ts';
import { isoTime } from '../lib/time.ts';
import { ValidationError } from '../lib/errors.ts';

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
// `filters`: PostHog validates it with pydantic models (CohortFilters → CohortFilterGroup of
// behavioral / cohort / person filters or nested groups, extra keys forbidden), stores the model
// dump (nulls dropped, defaults such as `negation: false` filled in) and maps errors to messages.

type Loc = Array<string | number>;
interface PydanticIssue {
  type: string;
  loc: Loc;
  msg: string;
  input: unknown;
}

const isDict = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

type Check = (value: unknown, loc: Loc, issues: PydanticIssue[]) => { ok: boolean; value?: unknown };

const str: Check = (v, loc, issues) => {
  if (typeof v === 'string') return { ok: true, value: v };
  issues.push({ type: 'string_type', loc, msg: 'Input should be a valid string', input: v });
  return { ok: false };
};

const int: Check = (v, loc, issues) => {
  if (typeof v === 'boolean') return { ok: true, value: v ? 1 : 0 };
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return { ok: true, value: v };
    issues.push({ type: 'int_from_float', loc, msg: 'Input should be a valid integer, got a number with a fractional part', input: v });
    return { ok: false };
  }
  if (typeof v === 'string') {
    if (/^\s*[-+]?\d+\s*$/.test(v) && Number.isSafeInteger(Number(v))) return { ok: true, value: Number(v) };
    issues.push({ type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input: v });
    return { ok: false };
  }
  issues.push({ type: 'int_type', loc, msg: 'Input should be a valid integer', input: v });
  return { ok: false };
};

const BOOL_STRINGS: Record<string, boolean> = { '0': false, off: false, f: false, false: false, n: false, no: false, '1': true, on: true, t: true, true: true, y: true, yes: true };
const bool: Check = (v, loc, issues) => {
  if (typeof v === 'boolean') return { ok: true, value: v };
  if (v === 0 || v === 1) return { ok: true, value: v === 1 };
  if (typeof v === 'string' && Object.hasOwn(BOOL_STRINGS, v.toLowerCase())) return { ok: true, value: BOOL_STRINGS[v.toLowerCase()] };
  issues.push(
    typeof v === 'string'
      ? { type: 'bool_parsing', loc, msg: 'Input should be a valid boolean, unable to interpret input', input: v }
      : { type: 'bool_type', loc, msg: 'Input should be a valid boolean', input: v },
  );
  return { ok: false };
};

const any: Check = (v) => ({ ok: true, value: v });

const strOrInt: Check = (v, loc, issues) => {
  if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return { ok: true, value: v };
  issues.push({ type: 'string_type', loc: [...loc, 'str'], msg: 'Input should be a valid string', input: v });
  issues.push({ type: 'int_type', loc: [...loc, 'int'], msg: 'Input should be a valid integer', input: v });
  return { ok: false };
};

const literal = (...values: string[]): Check => (v, loc, issues) => {
  if (typeof v === 'string' && values.includes(v)) return { ok: true, value: v };
  const expected = values.map((x) => `'${x}'`);
  const text = expected.length === 1 ? expected[0] : `${expected.slice(0, -1).join(', ')} or ${expected.at(-1)}`;
  issues.push({ type: 'literal_error', loc, msg: `Input should be ${text}`, input: v });
  return { ok: false };
};

interface Field {
  check: Check;
  required?: boolean;
  nullable?: boolean;
  default?: unknown;
}

type Model = { name: string; fields: Record<string, Field>; after?: (value: Record<string, unknown>) => string | undefined };

/** Validates a dict against a model with extra keys forbidden; returns the dump without nulls. */
function validateModel(model: Model, input: unknown, loc: Loc, issues: PydanticIssue[]): Record<string, unknown> | undefined {
  if (!isDict(input)) {
    issues.push({ type: 'model_type', loc, msg: `Input should be a valid dictionary or instance of ${model.name}`, input });
    return undefined;
  }
  const before = issues.length;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(model.fields)) {
    if (!Object.hasOwn(input, name) || input[name] === undefined) {
      if (field.required) issues.push({ type: 'missing', loc: [...loc, name], msg: 'Field required', input });
      else if (field.default !== undefined) out[name] = field.default;
      continue;
    }
    const raw = input[name];
    if (raw === null && field.nullable) continue;
    const result = field.check(raw, [...loc, name], issues);
    if (result.ok && result.value !== null && result.value !== undefined) out[name] = result.value;
  }
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(model.fields, key)) issues.push({ type: 'extra_forbidden', loc: [...loc, key], msg: 'Extra inputs are not permitted', input: input[key] });
  }
  if (issues.length > before) return undefined;
  const problem = model.after?.(input);
  if (problem) {
    issues.push({ type: 'value_error', loc, msg: `Value error, ${problem}`, input });
    return undefined;
  }
  return out;
}

const list = (item: (value: unknown, loc: Loc, issues: PydanticIssue[]) => unknown): Check => (v, loc, issues) => {
  if (!Array.isArray(v)) {
    issues.push({ type: 'list_type', loc, msg: 'Input should be a valid list', input: v });
    return { ok: false };
  }
  const before = issues.length;
  const out = v.map((x, i) => item(x, [...loc, i], issues));
  return issues.length > before ? { ok: false } : { ok: true, value: out };
};

const BYTECODE_FIELDS: Record<string, Field> = {
  bytecode: { check: any, nullable: true },
  bytecode_error: { check: str, nullable: true },
  conditionHash: { check: str, nullable: true },
};

const EventPropFilter: Model = {
  name: 'EventPropFilter',
  fields: { type: { check: literal('event', 'element'), required: true }, key: { check: str, required: true }, value: { check: any, required: true }, operator: { check: str, nullable: true } },
};
const HogQLFilter: Model = {
  name: 'HogQLFilter',
  fields: { type: { check: literal('hogql'), required: true }, key: { check: str, required: true }, value: { check: any, nullable: true } },
};

const optInt: Field = { check: int, nullable: true };
const optStr: Field = { check: str, nullable: true };

const BehavioralFilter: Model = {
  name: 'BehavioralFilter',
  fields: {
    ...BYTECODE_FIELDS,
    type: { check: literal('behavioral'), required: true },
    key: { check: strOrInt, required: true },
    value: { check: str, required: true },
    event_type: { check: str, required: true },
    time_value: optInt,
    time_interval: optStr,
    negation: { check: bool, default: false },
    operator: optStr,
    operator_value: optInt,
    seq_time_interval: optStr,
    seq_time_value: optInt,
    seq_event: { check: strOrInt, nullable: true },
    seq_event_type: optStr,
    total_periods: optInt,
    min_periods: optInt,
    event_filters: {
      nullable: true,
      check: list((x, loc, issues) =>
        isDict(x) && x.type === 'hogql'
          ? validateModel(HogQLFilter, x, [...loc, 'HogQLFilter'], issues)
          : validateModel(EventPropFilter, x, [...loc, 'EventPropFilter'], issues),
      ),
    },
    explicit_datetime: optStr,
  },
};

const CohortFilter: Model = {
  name: 'CohortFilter',
  fields: { ...BYTECODE_FIELDS, type: { check: literal('cohort'), required: true }, key: { check: literal('id'), required: true }, value: { check: int, required: true }, negation: { check: bool, default: false } },
};

const DATE_OPERATORS = new Set(['is_date_after', 'is_date_before']);
const RELATIVE_DATE = /^-?\d+[hdwmy]$/;

/** Relative dates ("-7d", "30d") or anything that parses as a date, like dateutil would. */
export function isFlagDateValue(value: unknown): boolean {
  if (typeof value !== 'string' || !value.trim()) return false;
  return RELATIVE_DATE.test(value.trim()) || !Number.isNaN(Date.parse(value));
}

const PersonFilter: Model = {
  name: 'PersonFilter',
  fields: {
    ...BYTECODE_FIELDS,
    type: { check: literal('person'), required: true },
    key: { check: str, required: true },
    operator: optStr,
    value: { check: any, nullable: true },
    negation: { check: bool, default: false },
  },
  after(input) {
    const operator = input.operator ?? null;
    const value = input.value ?? null;
    const missing: string[] = [];
    if (value === null && operator !== 'is_set' && operator !== 'is_not_set') missing.push('value');
    if (operator === null) missing.push('operator');
    if (missing.length) return `Missing required keys for person filter: ${missing.join(', ')}`;
    if (typeof operator === 'string' && DATE_OPERATORS.has(operator) && !isFlagDateValue(value)) {
      return `Invalid date value '${typeof value === 'string' ? value : pythonRepr(value)}' for operator '${operator}'. Expected a relative date (e.g., '-7d', '30d') or an ISO 8601 date (e.g., '2024-01-15').`;
    }
    return undefined;
  },
};

const FILTER_MODELS: Record<string, Model> = { behavioral: BehavioralFilter, cohort: CohortFilter, person: PersonFilter };
const EXPECTED_TAGS = "'behavioral', 'cohort', 'person', 'AND', 'OR'";

function validateFilterOrGroup(input: unknown, loc: Loc, issues: PydanticIssue[]): unknown {
  if (!isDict(input)) {
    issues.push({ type: 'model_attributes_type', loc, msg: 'Input should be a valid dictionary or object to extract fields from', input });
    return undefined;
  }
  const tag = input.type;
  if (tag === undefined || tag === null) {
    issues.push({ type: 'union_tag_not_found', loc, msg: "Unable to extract tag using discriminator 'type'", input });
    return undefined;
  }
  if (tag === 'AND' || tag === 'OR') return validateGroup(input, [...loc, tag], issues);
  const model = typeof tag === 'string' && Object.hasOwn(FILTER_MODELS, tag) ? FILTER_MODELS[tag] : undefined;
  if (!model) {
    issues.push({
      type: 'union_tag_invalid',
      loc,
      msg: `Input tag '${typeof tag === 'string' ? tag : pythonRepr(tag)}' found using 'type' does not match any of the expected tags: ${EXPECTED_TAGS}`,
      input,
    });
    return undefined;
  }
  return validateModel(model, input, [...loc, tag as string], issues);
}

const CohortFilterGroup: Model = {
  name: 'CohortFilterGroup',
  fields: { type: { check: literal('AND', 'OR'), required: true }, values: { check: list(validateFilterOrGroup), required: true } },
};

function validateGroup(input: unknown, loc: Loc, issues: PydanticIssue[]): Record<string, unknown> | undefined {
  return validateModel(CohortFilterGroup, input, loc, issues);
}

const CohortFilters: Model = {
  name: 'CohortFilters',
  fields: { properties: { check: (v, loc, issues) => { const value = validateGroup(v, loc, issues); return { ok: value !== undefined, value }; }, required: true } },
};

function pythonLoc(loc: Loc): string {
  const items = loc.map((x) => (typeof x === 'number' ? String(x) : pythonRepr(x)));
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

/** PostHog's _cohort_error_message: the first "Missing required keys" message, else pydantic's error list. */
function cohortErrorMessage(issues: PydanticIssue[]): string {
  for (const issue of issues) {
    if (issue.type === 'value_error') {
      const at = issue.msg.indexOf('Missing required keys');
      if (at !== -1) return issue.msg.slice(at);
    }
    if (issue.type === 'missing') {
      for (const kind of ['behavioral', 'cohort', 'person']) {
        if (issue.loc.includes(kind)) return `Missing required keys for ${kind} filter: ${String(issue.loc.at(-1))}`;
      }
    }
  }
  return `[${issues
    .map((i) => `{'type': ${pythonRepr(i.type)}, 'loc': ${pythonLoc(i.loc)}, 'msg': ${pythonRepr(i.msg)}, 'input': ${pythonRepr(i.input)}}`)
    .join(', ')}]`;
}

/** True when `filters.properties.values` is a non-empty list (PostHog's cohort_filters_have_values). */
export function cohortFiltersHaveValues(filters: unknown): boolean {
  const properties = isDict(filters) ? filters.properties : undefined;
  const values = isDict(properties) ? properties.values : undefined;
  return Array.isArray(values) && values.length > 0;
}

export type FiltersCheck = { ok: true; value: Record<string, unknown> | null } | { ok: false; message: string; attr?: string[] };

/**
 * PostHog's validate_filters: static cohorts without criteria keep what was sent; otherwise the
 * value must be `{"properties": <group>}` and is stored as the model dump.
 */
export function checkCohortFilters(raw: unknown, willBeStatic: boolean): FiltersCheck {
  if (willBeStatic && !cohortFiltersHaveValues(raw)) return { ok: true, value: isDict(raw) ? raw : null };
  if (!isDict(raw) || !Object.hasOwn(raw, 'properties')) {
    return { ok: false, message: "Must contain a 'properties' key with type and values", attr: ['detail'] };
  }
  const issues: PydanticIssue[] = [];
  const value = validateModel(CohortFilters, raw, [], issues);
  if (!value) return { ok: false, message: cohortErrorMessage(issues) };
  return { ok: true, value };
}

// ---------------------------------------------------------------------------------------------
// Legacy `groups`: [{properties: [...] | {key: value}}, {action_id|event_id, days, count, count_operator}]
// become `{"properties": {"type": "OR", "values": [{"type": "AND", "values": [...]}, ...]}}`,
// as PostHog's Cohort.properties derives them.

export function legacyGroupsToFilters(groups: unknown[]): Record<string, unknown> {
  const values = groups.map((group, i) => {
    const attr = `groups__${i}`;
    if (!isDict(group)) throw new ValidationError('Cohort group needs properties or action_id or event_id', 'invalid_input', attr);
    const props = group.properties;
    if (props !== undefined && props !== null && !(Array.isArray(props) && props.length === 0) && !(isDict(props) && Object.keys(props).length === 0)) {
      if (Array.isArray(props)) {
        return {
          type: 'AND',
          values: props.map((p) => {
            if (!isDict(p)) throw new ValidationError('Cohort group properties must be objects', 'invalid_input', attr);
            const type = p.type === undefined || p.type === null || p.type === 'event' ? 'person' : p.type;
            const { key, value, operator, ...rest } = p;
            return { key, value, ...(operator !== undefined && operator !== null ? { operator } : {}), ...rest, type };
          }),
        };
      }
      if (isDict(props)) {
        if ('type' in props || 'values' in props) return props;
        return { type: 'AND', values: Object.entries(props).map(([key, value]) => ({ key, value, type: 'person' })) };
      }
      throw new ValidationError('Cohort group properties must be a list or an object', 'invalid_input', attr);
    }
    const eventKey = group.action_id || group.event_id;
    if (eventKey) {
      const count = Math.max(0, Number.parseInt(String(group.count ?? 0), 10) || 0);
      return {
        type: 'AND',
        values: [
          {
            key: eventKey,
            value: count ? 'performed_event_multiple' : 'performed_event',
            ...(group.count_operator ? { operator: group.count_operator } : {}),
            type: 'behavioral',
            event_type: group.action_id ? 'actions' : 'events',
            time_value: group.days || 365,
            time_interval: 'day',
            operator_value: count,
          },
        ],
      };
    }
    throw new ValidationError('Cohort group needs properties or action_id or event_id', 'invalid_input', attr);
  });
  return { properties: { type: 'OR', values } };
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
  const input: Record<string, unknown> = { ...data };
  if (opts.form) {
    for (const field of JSON_FORM_FIELDS) {
      if (typeof input[field] !== 'string') continue;
      try {
        input[field] = JSON.parse(input[field] as string);
      } catch {
        throw new ValidationError('Value must be valid JSON.', 'invalid_input', field);
      }
    }
  }
  for (const field of LIST_FIELDS) if (opts.form && typeof input[field] === 'string') input[field] = [input[field]];

  const requestedStatic = input.is_static === undefined ? undefined : coerceBoolean(input.is_static);
  const willBeStatic = requestedStatic ?? opts.existingIsStatic ?? false;

  const schema = z.object({
    name: trimmed(drfString({ max: 400, allowBlank: true })).nullable().optional(),
    description: trimmed(drfString({ max: 1000, allowBlank: true })).optional(),
    groups: z.unknown().optional().transform((v, ctx) => {
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
    filters: z.unknown().optional().transform((v, ctx) => {
      if (v === undefined) return undefined;
      const checked = checkCohortFilters(v, willBeStatic);
      if (!checked.ok) {
        fail(ctx, checked.message, 'invalid_input', checked.attr);
        return z.NEVER;
      }
      return checked.value;
    }),
    query: z.unknown().optional().transform((v, ctx) => {
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

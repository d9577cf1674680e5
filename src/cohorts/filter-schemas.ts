// The cohort `filters` structure check that mirrors PostHog's pydantic models (messages included),
// and the conversion of legacy `groups` into `filters`.
import { ValidationError } from '../platform/errors.ts';
import { MAX_REGEX_BRACKET_CHARS, MAX_REGEX_EMPTIES, MAX_REGEX_STATES, regexWithinBudget } from '../evaluation/regex-cost.ts';
import { pythonRepr } from '../platform/http/drf.ts';

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

export const isDict = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

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

const BOOL_STRINGS: Record<string, boolean> = {
  '0': false,
  off: false,
  f: false,
  false: false,
  n: false,
  no: false,
  '1': true,
  on: true,
  t: true,
  true: true,
  y: true,
  yes: true,
};
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

const literal =
  (...values: string[]): Check =>
  (v, loc, issues) => {
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
    if (!Object.hasOwn(model.fields, key))
      issues.push({ type: 'extra_forbidden', loc: [...loc, key], msg: 'Extra inputs are not permitted', input: input[key] });
  }
  if (issues.length > before) return undefined;
  const problem = model.after?.(input);
  if (problem) {
    issues.push({ type: 'value_error', loc, msg: `Value error, ${problem}`, input });
    return undefined;
  }
  return out;
}

const list =
  (item: (value: unknown, loc: Loc, issues: PydanticIssue[]) => unknown): Check =>
  (v, loc, issues) => {
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
  fields: {
    type: { check: literal('event', 'element'), required: true },
    key: { check: str, required: true },
    value: { check: any, required: true },
    operator: { check: str, nullable: true },
  },
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
  fields: {
    ...BYTECODE_FIELDS,
    type: { check: literal('cohort'), required: true },
    key: { check: literal('id'), required: true },
    value: { check: int, required: true },
    negation: { check: bool, default: false },
  },
};

const DATE_OPERATORS = new Set(['is_date_after', 'is_date_before']);
const RELATIVE_DATE = /^-?\d+[hdwmy]$/;
export const REGEX_TOO_COSTLY = `Regex pattern is too complex to evaluate (at most ${MAX_REGEX_STATES} states, ${MAX_REGEX_EMPTIES} optional repeats and ${MAX_REGEX_BRACKET_CHARS} bracket characters).`;

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
    // Evaluation would treat a costlier pattern as invalid (never matching): refuse it here.
    if ((operator === 'regex' || operator === 'not_regex') && typeof value === 'string' && !regexWithinBudget(value)) {
      return REGEX_TOO_COSTLY;
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
  fields: {
    properties: {
      check: (v, loc, issues) => {
        const value = validateGroup(v, loc, issues);
        return { ok: value !== undefined, value };
      },
      required: true,
    },
  },
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

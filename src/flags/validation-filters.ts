// Validation of a flag's `filters` (docs/compatibility.md#api-3.2, #api-3.5, #api-3.8): PostHog's
// validate_filters rules in its order, plus 400s where PostHog would raise an internal error on
// malformed input.
import type { Db } from '../platform/db/index.ts';
import { REDACTED_PAYLOAD } from '../platform/payload-crypto.ts';
import { ValidationError } from '../platform/errors.ts';
import { jsonLargerThan, jsonTooDeep, MAX_JSON_DEPTH } from '../platform/json.ts';
import { checkCohortProperty, CohortLookup } from './validation-cohorts.ts';
import { validateFlagDependencies } from './validation-dependencies.ts';
import { isPlainObject, isValidFlagDate, pyInt, pyJsonDumps, pyStr, pyTruthy, unstorableJsonProblem } from './validation-values.ts';
import { pythonTypeName } from '../platform/http/drf.ts';

/** PostHog's MAX_PROPERTY_VALUES (its tests run with 10). */
export const MAX_PROPERTY_VALUES = 1000;
/**
 * Largest `filters` (as JSON) one flag may have: every snapshot rebuild compiles every flag, so a
 * flag's size is paid again by each change to the project (flaghost's bound; PostHog has none).
 */
export const MAX_FILTERS_BYTES = 1024 * 1024;
export const GROUP_TYPES_LIMIT = 5;

/** Property types PostHog's Property class knows, with the attributes each requires. */
const PROPERTY_TYPES: Record<string, readonly string[]> = Object.fromEntries([
  ...[
    'event',
    'event_metadata',
    'person',
    'data_warehouse',
    'data_warehouse_person_property',
    'error_tracking_issue',
    'cohort',
    'element',
    'static-cohort',
    'dynamic-cohort',
    'precalculated-cohort',
    'recording',
    'log_entry',
    'log',
    'flag',
    'revenue_analytics',
    'behavioral',
    'session',
  ].map((t) => [t, ['key', 'value']] as const),
  ['group', ['key', 'value', 'group_type_index']] as const,
  ['hogql', ['key']] as const,
]);

/**
 * The schema's operator enum (docs/compatibility.md#api-3.2) and PostHog's PropertyOperator
 * additions.
 */
export const PROPERTY_OPERATORS: ReadonlySet<string> = new Set([
  'exact',
  'is_not',
  'icontains',
  'not_icontains',
  'regex',
  'not_regex',
  'gt',
  'gte',
  'lt',
  'lte',
  'is_set',
  'is_not_set',
  'is_date_exact',
  'is_date_before',
  'is_date_after',
  'between',
  'not_between',
  'min',
  'max',
  'in',
  'not_in',
  'is_cleaned_path_exact',
  'flag_evaluates_to',
  'semver_eq',
  'semver_neq',
  'semver_gt',
  'semver_gte',
  'semver_lt',
  'semver_lte',
  'semver_tilde',
  'semver_caret',
  'semver_wildcard',
]);

const STRING_VALUE_OPERATORS = new Set(['regex', 'icontains', 'not_regex', 'not_icontains', 'gte', 'lte', 'gt', 'lt']);

export interface ParsedProperty {
  key: unknown;
  value: unknown;
  operator: unknown;
  type: string;
  groupTypeIndex: number | null;
}

export interface FiltersInput {
  mode: 'create' | 'partial_update' | 'update';
  projectId: number;
  /** Where dependency cycles start: the stored key on update, the request's key on create. */
  currentKey: string;
}

export interface ValidatedFilters {
  /** The filters to store: the request's object with object payloads re-serialized as JSON text. */
  filters: Record<string, unknown>;
  hasFlagDependencies: boolean;
}

function fail(detail: string, code = 'invalid_input'): never {
  throw new ValidationError(detail, code, 'filters');
}

/** PostHog's Property(**prop): defaults, value and type checks, in its order. */
export function parseProperty(prop: unknown): ParsedProperty {
  if (!isPlainObject(prop)) fail('Filters are not valid (each property must be an object)');
  const type = pyTruthy(prop.type) ? prop.type : 'event';
  let groupTypeIndex: number | null = null;
  if (prop.group_type_index !== undefined && prop.group_type_index !== null) {
    const n = pyInt(prop.group_type_index);
    if (n === undefined || n < 0 || n >= GROUP_TYPES_LIMIT) fail(`group_type_index is required to be at least 0 and less than ${GROUP_TYPES_LIMIT}`);
    groupTypeIndex = n;
  }
  const operator = prop.operator ?? null;
  let value = prop.value ?? null;
  if (value === null && (operator === 'is_set' || operator === 'is_not_set')) value = operator;
  else if (value === null && type !== 'hogql') fail(`Value must be set for property type ${pyStr(type)} & operator ${pyStr(operator)}`);
  if (typeof type !== 'string' || !Object.hasOwn(PROPERTY_TYPES, type)) fail(`Invalid property type: ${pyStr(type)}`);
  const present: Record<string, boolean> = {
    key: prop.key !== undefined && prop.key !== null,
    value: value !== null,
    group_type_index: groupTypeIndex !== null,
  };
  for (const attr of PROPERTY_TYPES[type]) {
    if (!present[attr]) fail(`Missing required attr ${attr} for property type ${type} with key ${pyStr(prop.key ?? null)}`);
  }
  return { key: prop.key, value, operator, type, groupTypeIndex };
}

/** Groups as a list of objects (PostHog iterates them and would fail with an internal error otherwise). */
function groupsOf(filters: Record<string, unknown>): Record<string, unknown>[] {
  const groups = filters.groups;
  if (!Array.isArray(groups)) fail('Filters are not valid (groups must be a list)');
  for (const group of groups) if (!isPlainObject(group)) fail('Filters are not valid (each condition set must be an object)');
  return groups as Record<string, unknown>[];
}

function rawPropertiesOf(group: Record<string, unknown>): unknown[] {
  if (!('properties' in group)) return [];
  if (!Array.isArray(group.properties)) fail('Filters are not valid (properties must be a list)');
  return group.properties;
}

/** Every property of every group, parsed in order; stops at the first failing `predicate` (PostHog's properties_all_match). */
function allPropertiesMatch(groups: Record<string, unknown>[], predicate: (p: ParsedProperty) => boolean): boolean {
  for (const group of groups) {
    for (const prop of rawPropertiesOf(group)) if (!predicate(parseProperty(prop))) return false;
  }
  return true;
}

interface VariantInfo {
  list: Record<string, unknown>[];
  keys: Set<string>;
}

function variantsOf(filters: Record<string, unknown>): VariantInfo {
  const multivariate = filters.multivariate;
  if (!pyTruthy(multivariate)) return { list: [], keys: new Set() };
  if (!isPlainObject(multivariate)) fail('Filters are not valid (multivariate must be an object)');
  const list = 'variants' in multivariate ? multivariate.variants : [];
  if (!Array.isArray(list)) fail('Filters are not valid (variants must be a list)');
  const keys = new Set<string>();
  for (const variant of list) {
    if (!isPlainObject(variant) || !('key' in variant)) fail('Filters are not valid (each variant must be an object with a key)');
    if (typeof variant.key !== 'string') fail('Filters are not valid (variant keys must be strings)');
    keys.add(variant.key);
  }
  return { list: list as Record<string, unknown>[], keys };
}

// ---- payloads --------------------------------------------------------------------------------

function normalizePayloads(filters: Record<string, unknown>, variants: VariantInfo): Record<string, unknown> | undefined {
  if (!('payloads' in filters)) return undefined;
  const payloads = filters.payloads;
  if (!isPlainObject(payloads)) fail('Payloads must be passed as a dictionary');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payloads)) {
    if (isPlainObject(value)) {
      out[key] = pyJsonDumps(value);
    } else {
      // The redacted placeholder of an encrypted payload means "keep the stored value"
      // (docs/compatibility.md#api-3.8).
      if (typeof value === 'string' && value !== REDACTED_PAYLOAD) {
        try {
          JSON.parse(value);
        } catch {
          fail('Payload value is not valid JSON');
        }
      }
      out[key] = value;
    }
  }
  // A holdout's own variant may carry a payload too (docs/compatibility.md#sdk-3.11).
  const holdout = isPlainObject(filters.holdout) && filters.holdout.id !== undefined ? `holdout-${filters.holdout.id}` : undefined;
  const keys = Object.keys(out).filter((k) => k !== holdout);
  if (pyTruthy(filters.multivariate)) {
    if (!keys.every((k) => variants.keys.has(k))) fail('Payload keys must match a variant key for multivariate flags');
  } else if (keys.length > 1 || keys.some((k) => k !== 'true')) {
    fail("Payload keys must be 'true' for boolean flags");
  }
  return out;
}

// ---- the field -------------------------------------------------------------------------------

/**
 * Validates the `filters` field. Returns undefined when the request's filters are ignored
 * (PATCH without `groups`, docs/compatibility.md#api-3.2.1).
 */
export async function validateFilters(tx: Db, raw: unknown, input: FiltersInput): Promise<ValidatedFilters | undefined> {
  if (raw === null) fail('This field may not be null.', 'null');
  if (!isPlainObject(raw)) fail(`Expected a dictionary of items but got type "${pythonTypeName(raw)}".`, 'not_a_dict');
  if (jsonLargerThan(raw, MAX_FILTERS_BYTES)) fail(`Filters are too large (at most ${MAX_FILTERS_BYTES} bytes as JSON).`, 'max_length');
  if (jsonTooDeep(raw)) fail(`Filters are not valid (nested deeper than ${MAX_JSON_DEPTH} levels)`);

  if (!('groups' in raw) && input.mode === 'partial_update') return undefined;
  if (input.mode === 'create' && !pyTruthy(raw.groups)) fail('Feature flags must have at least one condition set (group).');
  const groups = groupsOf(raw);

  const aggregation = raw.aggregation_group_type_index ?? null;
  let hasFlagDependencies = false;
  if (aggregation === null) {
    if (!allPropertiesMatch(groups, (p) => p.type === 'person' || p.type === 'cohort' || p.type === 'flag')) {
      fail('Filters are not valid (can only use person, cohort, and flag properties)');
    }
    if (!allPropertiesMatch(groups, (p) => p.type !== 'flag' || p.operator === 'flag_evaluates_to')) {
      fail("Flag properties must use the 'flag_evaluates_to' operator");
    }
    hasFlagDependencies = await validateFlagDependencies(tx, { projectId: input.projectId, currentKey: input.currentKey, groups });
  } else {
    if (!allPropertiesMatch(groups, (p) => p.type === 'group' && p.groupTypeIndex === aggregation)) {
      fail('Filters are not valid (can only use group properties)');
    }
    if (typeof aggregation !== 'number' || !Number.isInteger(aggregation) || aggregation < 0 || aggregation >= GROUP_TYPES_LIMIT) {
      fail(`aggregation_group_type_index is required to be at least 0 and less than ${GROUP_TYPES_LIMIT}`);
    }
  }

  const variants = variantsOf(raw);
  if (variants.list.length) {
    let sum = 0;
    for (const variant of variants.list) {
      const pct = 'rollout_percentage' in variant ? variant.rollout_percentage : 0;
      if (typeof pct !== 'number') fail('Filters are not valid (variant rollout_percentage must be a number)');
      sum += pct;
    }
    if (sum !== 100) fail('Invalid variant definitions: Variant rollout percentages must sum to 100.');
  }

  const cohorts = new CohortLookup(tx, input.projectId);
  for (const group of groups) {
    if (pyTruthy(group.variant) && !(typeof group.variant === 'string' && variants.keys.has(group.variant))) {
      fail('Filters are not valid (variant override does not exist)');
    }
    // PostHog stores any rollout_percentage (no 0–100 range check); flaghost only insists on a number.
    const rollout = group.rollout_percentage;
    if (rollout !== undefined && rollout !== null && typeof rollout !== 'number') {
      fail('Filters are not valid (rollout_percentage must be a number or null)');
    }
    for (const rawProp of rawPropertiesOf(group)) {
      const prop = parseProperty(rawProp);
      if (Array.isArray(prop.value) && prop.value.length > MAX_PROPERTY_VALUES) {
        fail(`Property group expressions of type ${pyStr(prop.key)} cannot contain more than ${MAX_PROPERTY_VALUES} values.`);
      }
      if (prop.type === 'cohort') await checkCohortProperty(prop.value, cohorts);
      if ((prop.operator === 'is_date_before' || prop.operator === 'is_date_after') && !isValidFlagDate(prop.value)) {
        fail(`Invalid date value: ${pyStr(prop.value)}`, 'invalid_date');
      }
      if (typeof prop.operator === 'string' && STRING_VALUE_OPERATORS.has(prop.operator) && typeof prop.value !== 'string') {
        fail(`Invalid value for operator ${prop.operator}: ${pyStr(prop.value)}`, 'invalid_value');
      }
      if ((prop.operator === 'in' || prop.operator === 'not_in') && prop.type !== 'cohort') {
        fail(`The '${prop.operator}' operator is only valid for cohort properties, not '${prop.type}' properties.`, 'invalid_operator');
      }
      // PostHog stores unknown operators (and SDKs then cannot evaluate the condition); flaghost refuses them.
      if (prop.operator !== null && !(typeof prop.operator === 'string' && PROPERTY_OPERATORS.has(prop.operator))) {
        fail(`"${pyStr(prop.operator)}" is not a valid choice.`, 'invalid_choice');
      }
    }
  }

  const payloads = normalizePayloads(raw, variants);
  const filters = payloads === undefined ? { ...raw } : { ...raw, payloads };
  const problem = unstorableJsonProblem(filters);
  if (problem) fail(problem.detail, problem.code);
  return { filters, hasFlagDependencies };
}

/**
 * The regex patterns of `filters` that PostHog's create-time dry run hands to PostgreSQL: values of
 * regex/not_regex conditions that stay strings after PostHog's value parsing ("true", JSON arrays… do not).
 */
export function regexPatternsOf(filters: Record<string, unknown>): string[] {
  const patterns: string[] = [];
  const groups = Array.isArray(filters.groups) ? filters.groups : [];
  for (const group of groups) {
    const props = isPlainObject(group) && Array.isArray(group.properties) ? group.properties : [];
    for (const prop of props) {
      if (!isPlainObject(prop) || (prop.operator !== 'regex' && prop.operator !== 'not_regex') || typeof prop.value !== 'string') continue;
      const parsed = parsePropertyValue(prop.value);
      if (typeof parsed === 'string') patterns.push(parsed);
    }
  }
  return patterns;
}

const PY_FLOAT_TEXT = /^\s*[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|inf(?:inity)?|nan)\s*$/i;

/** PostHog's Property._parse_value for a string: booleans and JSON are decoded, numeric text is kept. */
function parsePropertyValue(value: string): unknown {
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  if (PY_FLOAT_TEXT.test(value) && Number.isFinite(Number(value.replace(/_/g, '')))) return value;
  try {
    const parsed = JSON.parse(value);
    return typeof parsed === 'number' && !Number.isFinite(parsed) ? value : parsed;
  } catch {
    return value;
  }
}

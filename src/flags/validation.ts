// Create/update validation of a feature-flag request body, PostHog-compatible: DRF field rules in
// the serializer's field order (first error wins), then the object-level rules, then create-time
// checks; and the cross-flag state rules an update must respect (docs/compatibility.md#api-3).
import type { Db } from '../platform/db/index.ts';
import { ValidationError } from '../platform/errors.ts';
import type { Project } from '../access/organizations/projects-repository.ts';
import { findDashboardIds, findLiveFlagWithKey, postgresAcceptsRegex, type FeatureFlagRow, type NewFeatureFlagRow } from './repository.ts';
import { pythonTypeName } from '../platform/http/drf.ts';
import { checkDependencyStateTransition } from './validation-dependencies.ts';
import { regexPatternsOf, validateFilters } from './validation-filters.ts';
import { regexWithinBudget } from '../evaluation/regex-cost.ts';
import { isPlainObject, pyInt, pyLen, pyStr, pyStrip, unstorableJsonProblem, unstorableStringProblem } from './validation-values.ts';

export type WriteMode = 'create' | 'partial_update' | 'update';

export interface ValidatedFlagWrite {
  /** Column values to store, only for fields present in the request, normalized. For PATCH with `filters` lacking `groups`, `filters` is absent. */
  values: Partial<NewFeatureFlagRow>;
  /** snake_case field → validated value for every writable field present (optimistic-lock conflict detection). */
  validated: Record<string, unknown>;
  version?: number;
  originalFlag?: Record<string, unknown>;
  analyticsDashboards?: number[];
  shouldCreateUsageDashboard: boolean;
  creationContext?: string;
}

export const KEY_MAX_LENGTH = 400;
export const TAG_MAX_LENGTH = 255;
/** Tags (and evaluation tags) one flag may carry; flaghost's bound, PostHog has none. */
export const MAX_TAGS = 100;
/** Analytics dashboards one request may link. */
export const MAX_ANALYTICS_DASHBOARDS = 100;
export const EVALUATION_RUNTIMES = ['server', 'client', 'all'] as const;
export const BUCKETING_IDENTIFIERS = ['distinct_id', 'device_id'] as const;
export const CREATION_CONTEXTS = ['feature_flags', 'experiments', 'surveys', 'early_access_features', 'web_experiments', 'product_tours'] as const;

const KEY_PATTERN = /^[a-zA-Z0-9_-]+$/;
const TRUE_VALUES = new Set<unknown>(['t', 'T', 'y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON', '1', 1, true]);
const FALSE_VALUES = new Set<unknown>(['f', 'F', 'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF', '0', 0, false]);
const NULL_VALUES = new Set<unknown>(['null', 'Null', 'NULL', '', null]);

const notNull = (attr: string) => new ValidationError('This field may not be null.', 'null', attr);

// ---- DRF fields ------------------------------------------------------------------------------

/** DRF CharField: numbers stringified, surrounding whitespace trimmed, blank/length/NUL/surrogate checks. */
function charField(value: unknown, attr: string, opts: { allowBlank: boolean; maxLength?: number }): string {
  if (value === null) throw notNull(attr);
  if (typeof value !== 'string' && typeof value !== 'number') throw new ValidationError('Not a valid string.', 'invalid_input', attr);
  const text = pyStr(value);
  const stripped = pyStrip(text);
  if (stripped === '') {
    if (!opts.allowBlank) throw new ValidationError('This field may not be blank.', 'blank', attr);
    return '';
  }
  if (opts.maxLength !== undefined && pyLen(stripped) > opts.maxLength) {
    throw new ValidationError(`Ensure this field has no more than ${opts.maxLength} characters.`, 'max_length', attr);
  }
  const problem = unstorableStringProblem(stripped);
  if (problem) throw new ValidationError(problem.detail, problem.code, attr);
  return stripped;
}

/** DRF BooleanField (nullable variants accept null and "null"/""). */
function booleanField(value: unknown, attr: string, allowNull: boolean): boolean | null {
  if (TRUE_VALUES.has(value)) return true;
  if (FALSE_VALUES.has(value)) return false;
  if (allowNull && NULL_VALUES.has(value)) return null;
  if (value === null) throw notNull(attr);
  throw new ValidationError('Must be a valid boolean.', 'invalid_input', attr);
}

/** DRF IntegerField: integers, integral text ("3", " 3 ", "3.00"). */
function integerField(value: unknown, attr: string): number {
  if (value === null) throw notNull(attr);
  if (typeof value === 'string' && value.length > 1000) throw new ValidationError('String value too large.', 'max_string_length', attr);
  if (typeof value === 'string' || typeof value === 'number') {
    const n = pyInt(pyStr(value).replace(/\.0*\s*$/, ''));
    if (n !== undefined) return n;
  }
  throw new ValidationError('A valid integer is required.', 'invalid_input', attr);
}

/** DRF ChoiceField; the model's nullable choice fields store their default for null/blank. */
function choiceField<T extends string>(value: unknown, attr: string, choices: readonly T[], blankAs?: T): T {
  if (blankAs !== undefined && (value === null || value === '')) return blankAs;
  if (value === null) throw notNull(attr);
  const text = pyStr(value);
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new ValidationError(`"${text}" is not a valid choice.`, 'invalid_choice', attr);
}

/** DRF ListField(max_length) over a list: the length is checked before any item is read. */
function boundedList(value: unknown, attr: string, max: number): unknown[] {
  if (value === null) throw notNull(attr);
  if (!Array.isArray(value)) throw new ValidationError(`Expected a list of items but got type "${pythonTypeName(value)}".`, 'not_a_list', attr);
  if (value.length > max) throw new ValidationError(`Ensure this field has no more than ${max} elements.`, 'max_length', attr);
  return value;
}

/** DRF ListField of tag names, normalized like PostHog's tagify (trim, lower-case) and de-duplicated. */
function tagList(value: unknown, attr: string): string[] {
  const out = new Set<string>();
  for (const item of boundedList(value, attr, MAX_TAGS)) {
    if (typeof item !== 'string') throw new ValidationError('Not a valid string.', 'invalid_input', attr);
    const tag = pyStrip(item).toLowerCase();
    if (pyLen(tag) > TAG_MAX_LENGTH) throw new ValidationError(`Ensure this field has no more than ${TAG_MAX_LENGTH} characters.`, 'max_length', attr);
    const problem = unstorableStringProblem(tag);
    if (problem) throw new ValidationError(problem.detail, problem.code, attr);
    out.add(tag);
  }
  return [...out];
}

/** DRF PrimaryKeyRelatedField(many=True) over the project's dashboards. */
async function dashboardList(tx: Db, projectId: number, value: unknown): Promise<number[]> {
  const attr = 'analytics_dashboards';
  const list = boundedList(value, attr, MAX_ANALYTICS_DASHBOARDS);
  const ids = list.map((item) => (typeof item === 'boolean' || (item !== null && typeof item === 'object') ? undefined : item === null ? null : pyInt(item)));
  const lookup = ids.filter((id): id is number => typeof id === 'number' && Math.abs(id) <= 2_147_483_647);
  const found = await findDashboardIds(tx, projectId, [...new Set(lookup)]);
  return list.map((item, i) => {
    const id = ids[i];
    if (id === undefined) throw new ValidationError(`Incorrect type. Expected pk value, received ${pythonTypeName(item)}.`, 'incorrect_type', attr);
    if (id === null || !found.has(id)) throw new ValidationError(`Invalid pk "${pyStr(item)}" - object does not exist.`, 'does_not_exist', attr);
    return id;
  });
}

// ---- the body --------------------------------------------------------------------------------

/**
 * DRF's check that the body is a dictionary. An empty body is `{}`; so is `null`, because Fastify
 * hands an empty body to a route with a body schema as null (a literal JSON null body, which DRF
 * would refuse with "This field may not be null.", cannot be told apart).
 */
function requestObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (!isPlainObject(body)) throw new ValidationError(`Invalid data. Expected a dictionary, but got ${pythonTypeName(body)}.`);
  return body;
}

/**
 * Validates a create (POST), full update (PUT) or partial update (PATCH) body against PostHog's
 * rules. Throws the first ValidationError; reads the database through `tx` only.
 */
export async function validateFlagWrite(
  tx: Db,
  input: { mode: WriteMode; project: Project; body: unknown; existing?: FeatureFlagRow },
): Promise<ValidatedFlagWrite> {
  const { mode, project, existing } = input;
  const data = requestObject(input.body);
  const has = (field: string) => Object.hasOwn(data, field) && data[field] !== undefined;
  const values: Partial<NewFeatureFlagRow> = {};
  const validated: Record<string, unknown> = {};
  const out: ValidatedFlagWrite = { values, validated, shouldCreateUsageDashboard: true };

  if (has('name')) values.name = validated.name = charField(data.name, 'name', { allowBlank: true });

  if (has('key')) {
    const key = charField(data.key, 'key', { allowBlank: false, maxLength: KEY_MAX_LENGTH });
    if (await findLiveFlagWithKey(tx, project.id, key, existing?.id)) {
      throw new ValidationError('There is already a feature flag with this key.', 'unique', 'key');
    }
    if (!KEY_PATTERN.test(key)) throw new ValidationError('Only letters, numbers, hyphens (-) & underscores (_) are allowed.', 'invalid_key', 'key');
    values.key = validated.key = key;
  } else if (mode !== 'partial_update') {
    throw new ValidationError('This field is required.', 'required', 'key');
  }

  let hasFlagDependencies = false;
  if (has('filters')) {
    const currentKey = mode === 'create' || !existing ? values.key! : existing.key;
    const result = await validateFilters(tx, data.filters, { mode, projectId: project.id, currentKey });
    if (result) {
      values.filters = validated.filters = result.filters;
      hasFlagDependencies = result.hasFlagDependencies;
    }
  }

  if (has('deleted')) values.deleted = validated.deleted = booleanField(data.deleted, 'deleted', false) as boolean;
  if (has('active')) values.active = validated.active = booleanField(data.active, 'active', false) as boolean;
  if (has('version')) out.version = validated.version = integerField(data.version, 'version');
  if (has('ensure_experience_continuity')) {
    values.ensureExperienceContinuity = validated.ensure_experience_continuity = booleanField(
      data.ensure_experience_continuity,
      'ensure_experience_continuity',
      true,
    );
  }
  if (has('rollback_conditions')) {
    const problem = unstorableJsonProblem(data.rollback_conditions);
    if (problem) throw new ValidationError(problem.detail, problem.code, 'rollback_conditions');
    values.rollbackConditions = validated.rollback_conditions = data.rollback_conditions;
  }
  if (has('performed_rollback')) values.performedRollback = validated.performed_rollback = booleanField(data.performed_rollback, 'performed_rollback', true);
  if (has('tags')) values.tags = validated.tags = tagList(data.tags, 'tags');
  // Not in `validated`: PostHog pops evaluation_tags before comparing with original_flag.
  if (has('evaluation_tags')) values.evaluationTags = tagList(data.evaluation_tags, 'evaluation_tags');
  if (has('analytics_dashboards')) out.analyticsDashboards = validated.analytics_dashboards = await dashboardList(tx, project.id, data.analytics_dashboards);
  if (has('has_enriched_analytics')) {
    values.hasEnrichedAnalytics = validated.has_enriched_analytics = booleanField(data.has_enriched_analytics, 'has_enriched_analytics', true);
  }
  if (has('creation_context')) out.creationContext = validated.creation_context = choiceField(data.creation_context, 'creation_context', CREATION_CONTEXTS);
  if (has('is_remote_configuration')) {
    values.isRemoteConfiguration = validated.is_remote_configuration = booleanField(data.is_remote_configuration, 'is_remote_configuration', true);
  }
  if (has('has_encrypted_payloads')) {
    values.hasEncryptedPayloads = validated.has_encrypted_payloads = booleanField(data.has_encrypted_payloads, 'has_encrypted_payloads', true);
  }
  if (has('evaluation_runtime')) {
    values.evaluationRuntime = validated.evaluation_runtime = choiceField(data.evaluation_runtime, 'evaluation_runtime', EVALUATION_RUNTIMES, 'all');
  }
  if (has('bucketing_identifier')) {
    values.bucketingIdentifier = validated.bucketing_identifier = choiceField(
      data.bucketing_identifier,
      'bucketing_identifier',
      BUCKETING_IDENTIFIERS,
      'distinct_id',
    );
  }
  if (has('_create_in_folder')) charField(data._create_in_folder, '_create_in_folder', { allowBlank: true });
  if (has('_should_create_usage_dashboard')) {
    out.shouldCreateUsageDashboard = booleanField(data._should_create_usage_dashboard, '_should_create_usage_dashboard', false) as boolean;
  }

  // Object-level rules (attr null), after every field passed.
  checkEvaluationTags(data, values, { mode, project, existing });

  // A request that turns the flag on clears the rollback marker (PostHog's _update_filters).
  if (values.active === true) values.performedRollback = validated.performed_rollback = false;
  if (mode === 'create' && out.creationContext !== undefined) values.creationContext = out.creationContext;
  if (isPlainObject(data.original_flag)) out.originalFlag = data.original_flag;

  if (values.filters) {
    const patterns = regexPatternsOf(values.filters);
    // Every write: a pattern over the cost budget would never be evaluated (regex-cost.ts).
    if (!patterns.every(regexWithinBudget)) throw new ValidationError("Can't evaluate flag - please check release conditions");
    // Create-time dry run (PostHog's check_flag_evaluation): regexes PostgreSQL cannot compile.
    if (mode === 'create' && !hasFlagDependencies) {
      for (const pattern of patterns) {
        if (!(await postgresAcceptsRegex(tx, pattern))) throw new ValidationError("Can't evaluate flag - please check release conditions");
      }
    }
  }
  return out;
}

/**
 * Evaluation tags ⊆ tags of the same request; the project's require_evaluation_contexts rule
 * (docs/compatibility.md#api-3.4).
 */
function checkEvaluationTags(
  data: Record<string, unknown>,
  values: Partial<NewFeatureFlagRow>,
  ctx: { mode: WriteMode; project: Project; existing?: FeatureFlagRow },
): void {
  const evaluationTags = values.evaluationTags;
  if (evaluationTags?.length) {
    const tags = new Set(values.tags ?? []);
    const invalid = [...new Set(evaluationTags)].filter((t) => !tags.has(t)).sort();
    if (invalid.length) throw new ValidationError(`Evaluation tags must be a subset of tags. Invalid evaluation tags: ${invalid.join(', ')}`);
  }
  if (data.creation_context === 'surveys' || !ctx.project.requireEvaluationContexts) return;
  const sentTags = Array.isArray(data.evaluation_tags) ? data.evaluation_tags : undefined;
  if (ctx.mode === 'create') {
    if (!sentTags?.length) throw new ValidationError('At least one evaluation context tag is required to create a new feature flag.');
  } else if (ctx.existing && ctx.existing.evaluationTags.length > 0 && sentTags !== undefined && sentTags.length === 0) {
    throw new ValidationError(
      'Cannot remove all evaluation context tags. At least one tag is required because this flag already has evaluation tags and the team requires them.',
    );
  }
}

/**
 * Cross-flag rules of an update (docs/compatibility.md#api-3.6, attr null): soft-deleting or
 * disabling a flag other active flags depend on, enabling a flag whose dependencies are disabled.
 */
export async function checkStateTransition(
  tx: Db,
  input: { project: Project; existing: FeatureFlagRow; nextActive: boolean; nextDeleted: boolean },
): Promise<void> {
  await checkDependencyStateTransition(tx, {
    projectId: input.project.id,
    existing: input.existing,
    nextActive: input.nextActive,
    nextDeleted: input.nextDeleted,
  });
}

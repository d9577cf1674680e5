// Compiles a project's flags, cohorts and group types into an immutable snapshot for fast evaluation.
import { compileCohort, membershipOperator, resolveCohortGraph, type CompiledCohort, type MembershipOperator } from './cohorts.js';
import { dependencyIds, stageDependencies } from './dependencies.js';
import { resolveZone, type Zone } from './dates.js';
import { compilePropertyMatcher, operatorOf, type PropertyMatcher } from './operators.js';
import type { CohortDefinition, EvaluationRuntime, FlagDefinition, FlagEvaluation, FlagEvaluationReason, GroupTypeDefinition } from './types.js';
import { isPlainObject, parseIntegerId } from './values.js';

/** Where a condition's property filter reads its values from. */
export const Source = {
  Person: 0,
  /** `type: "group"`: the filter's group_type_index, else the condition's aggregation */
  Group: 1,
  /** no `type`: the condition's aggregation (legacy filters) */
  Aggregation: 2,
  Flag: 3,
  Never: 4,
} as const;
export type Source = (typeof Source)[keyof typeof Source];

export interface CompiledFilter {
  source: Source;
  groupIndex: number | null;
  match: PropertyMatcher;
  /**
   * Property filters: the slot of this filter's answer in a request's memo. Filters that read the
   * same properties with the same key, operator and value share a slot (and a matcher), so a
   * request evaluates each distinct filter once however many flags repeat it. -1 otherwise.
   */
  memo: number;
  /** Flag filters: index of the dependency in `CompiledProject.flags`, or -1. */
  dependency: number;
  /** Flag filters: `true`, `false` or a variant key. */
  expected: boolean | string | null;
}

export interface CompiledCohortFilter {
  cohortId: number | undefined;
  operator: MembershipOperator;
}

export interface CompiledCondition {
  aggregation: number | null;
  /** Percentage; exactly 100 matches without hashing. */
  rollout: number;
  filters: CompiledFilter[];
  cohortFilters: CompiledCohortFilter[];
  /** The condition's variant override when it names an existing variant. */
  variant: string | null;
  description: string;
}

export interface CompiledVariant {
  key: string;
  /** Cumulative upper bound of this variant's range in [0, 1]. */
  upper: number;
}

export interface CompiledFlag {
  index: number;
  id: number;
  key: string;
  version: number | null;
  active: boolean;
  runtime: EvaluationRuntime;
  tags: string[];
  isSurveyFlag: boolean;
  ensureContinuity: boolean;
  deviceBucketing: boolean;
  aggregation: number | null;
  conditions: CompiledCondition[];
  variants: CompiledVariant[];
  payloads: Record<string, unknown> | null;
  holdout: { id: unknown; percentage: number } | null;
  earlyExit: boolean;
  featureEnrollment: boolean;
  enrollmentKey: string;
  /** Legacy early-access gate: the first super group, if it has properties. */
  superGroup: { keys: string[]; condition: CompiledCondition } | null;
  /** Dependencies missing, cyclic or transitively broken: evaluates to false / missing_dependency. */
  brokenDependencies: boolean;
  /** Direct dependencies (indexes), for flag_keys_to_evaluate closures. */
  dependencies: number[];
  /**
   * Reasons and results of this flag, created on first use and shared by every answer
   * (evaluate.ts): the answer renderer caches each result's bytes by identity.
   */
  outcomes: Array<FlagOutcomes | undefined>;
}

/** One reason of a flag (a reason code at a condition) and the results that carry it. */
export interface FlagOutcomes {
  reason: FlagEvaluationReason;
  off: FlagEvaluation | undefined;
  on: FlagEvaluation | undefined;
  variants: Map<string, FlagEvaluation> | undefined;
}

export interface CompiledProject {
  /** Non-deleted flags in input order; the answer lists flags in this order. */
  flags: CompiledFlag[];
  flagIndexByKey: Map<string, number>;
  /** Indexes in dependency order (stages first, flags stuck in cycles last). */
  evaluationOrder: number[];
  cohorts: Map<number, CompiledCohort>;
  /** group type index → group type name */
  groupTypeNames: (string | undefined)[];
  zone: Zone;
  /** Distinct property filters (CompiledFilter.memo slots). */
  filterSlots: number;
}

export interface CompileProjectInput {
  flags: readonly FlagDefinition[];
  cohorts: readonly CohortDefinition[];
  groupTypes: readonly GroupTypeDefinition[];
  /** IANA name of the project time zone; naive dates in filters are read in it. Default UTC. */
  timezone?: string | null;
}

export const SURVEY_FLAG_PREFIX = 'survey-targeting-';

function groupIndexOf(value: unknown): number | null {
  const n = parseIntegerId(value);
  return n === undefined ? null : n;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && !Number.isNaN(value) ? value : fallback;
}

/** Interns property filters across a project: one matcher and one memo slot per distinct filter. */
export class FilterTable {
  private readonly slots = new Map<string, { memo: number; match: PropertyMatcher }>();

  constructor(private readonly zone: Zone) {}

  get size(): number {
    return this.slots.size;
  }

  /** `bag` names the properties the filter reads: `person`, `group:<index>` or `none`. */
  intern(prop: Record<string, unknown>, bag: string): { memo: number; match: PropertyMatcher } {
    const signature = JSON.stringify([bag, prop.key, operatorOf(prop), prop.value ?? null]);
    let entry = this.slots.get(signature);
    if (!entry) this.slots.set(signature, (entry = { memo: this.slots.size, match: compilePropertyMatcher(prop, this.zone) }));
    return entry;
  }
}

const NEVER_FILTER = { memo: -1, match: () => false };

function compileFilter(
  prop: Record<string, unknown>,
  aggregation: number | null,
  table: FilterTable,
  indexById: Map<number, number>,
): CompiledFilter | 'cohort' {
  const type = prop.type;
  if (type === 'cohort') return 'cohort';
  if (type === 'flag') {
    const depId = parseIntegerId(prop.key);
    const dependency = depId === undefined ? -1 : (indexById.get(depId) ?? -1);
    const value = prop.value;
    const expected = typeof value === 'boolean' || typeof value === 'string' ? value : null;
    const usable = operatorOf(prop) === 'flag_evaluates_to' && dependency !== -1 && expected !== null;
    return { source: usable ? Source.Flag : Source.Never, groupIndex: null, ...NEVER_FILTER, dependency, expected };
  }
  const common = { dependency: -1, expected: null };
  if (type === 'person') return { source: Source.Person, groupIndex: null, ...table.intern(prop, 'person'), ...common };
  if (type === 'group') {
    const groupIndex = groupIndexOf(prop.group_type_index);
    const reads = groupIndex ?? aggregation;
    return { source: Source.Group, groupIndex, ...table.intern(prop, reads === null ? 'none' : `group:${reads}`), ...common };
  }
  if (type === undefined || type === null) {
    return { source: Source.Aggregation, groupIndex: null, ...table.intern(prop, aggregation === null ? 'person' : `group:${aggregation}`), ...common };
  }
  // Types the server cannot evaluate from request data (person_metadata, behavioral …) never match.
  return { source: Source.Never, groupIndex: null, ...NEVER_FILTER, ...common };
}

function compileCondition(
  group: Record<string, unknown>,
  index: number,
  flagAggregation: number | null,
  variantKeys: Set<string>,
  table: FilterTable,
  indexById: Map<number, number>,
): CompiledCondition {
  // A condition's own aggregation wins when the key is present, even as null (person).
  const aggregation = 'aggregation_group_type_index' in group ? groupIndexOf(group.aggregation_group_type_index) : flagAggregation;
  const filters: CompiledFilter[] = [];
  const cohortFilters: CompiledCohortFilter[] = [];
  const props = Array.isArray(group.properties) ? group.properties : [];
  for (const prop of props) {
    if (!isPlainObject(prop)) continue;
    const compiled = compileFilter(prop, aggregation, table, indexById);
    if (compiled === 'cohort') {
      cohortFilters.push({ cohortId: parseIntegerId(prop.value), operator: membershipOperator(prop.operator) });
    } else {
      filters.push(compiled);
    }
  }
  const variant = typeof group.variant === 'string' && variantKeys.has(group.variant) ? group.variant : null;
  return {
    aggregation,
    rollout: numberOr(group.rollout_percentage, 100),
    filters,
    cohortFilters,
    variant,
    description: `Matched condition set ${index + 1}`,
  };
}

export function compileFlag(def: FlagDefinition, index: number, table: FilterTable, indexById: Map<number, number>): CompiledFlag {
  const filters = isPlainObject(def.filters) ? def.filters : {};
  const aggregation = groupIndexOf(filters.aggregation_group_type_index);

  const variants: CompiledVariant[] = [];
  const variantKeys = new Set<string>();
  const multivariate = filters.multivariate;
  if (isPlainObject(multivariate) && Array.isArray(multivariate.variants)) {
    let cumulative = 0;
    for (const v of multivariate.variants) {
      if (!isPlainObject(v) || typeof v.key !== 'string') continue;
      cumulative += numberOr(v.rollout_percentage, 0) / 100;
      variants.push({ key: v.key, upper: cumulative });
      variantKeys.add(v.key);
    }
  }

  const groups = Array.isArray(filters.groups) ? filters.groups : [];
  const conditions = groups.filter(isPlainObject).map((g, i) => compileCondition(g, i, aggregation, variantKeys, table, indexById));

  let superGroup: CompiledFlag['superGroup'] = null;
  if (Array.isArray(filters.super_groups) && isPlainObject(filters.super_groups[0])) {
    const first = filters.super_groups[0];
    const props = Array.isArray(first.properties) ? first.properties.filter(isPlainObject) : [];
    if (props.length > 0) {
      // Early-access enrollment is person-level, whatever the flag aggregates on.
      const condition = compileCondition({ ...first, aggregation_group_type_index: null }, 0, null, variantKeys, table, indexById);
      superGroup = { keys: props.map((p) => String(p.key)), condition };
    }
  }

  let holdout: CompiledFlag['holdout'] = null;
  if (isPlainObject(filters.holdout) && typeof filters.holdout.exclusion_percentage === 'number') {
    holdout = { id: filters.holdout.id, percentage: Math.min(100, Math.max(0, filters.holdout.exclusion_percentage)) };
  }

  const runtime = def.evaluationRuntime === 'client' || def.evaluationRuntime === 'server' ? def.evaluationRuntime : 'all';
  return {
    index,
    id: def.id,
    key: def.key,
    version: def.version ?? null,
    active: def.active,
    runtime,
    tags: def.evaluationTags ?? [],
    isSurveyFlag: def.key.startsWith(SURVEY_FLAG_PREFIX),
    ensureContinuity: def.ensureExperienceContinuity === true,
    deviceBucketing: def.bucketingIdentifier === 'device_id',
    aggregation,
    conditions,
    variants,
    payloads: isPlainObject(filters.payloads) ? filters.payloads : null,
    holdout,
    earlyExit: filters.early_exit === true,
    featureEnrollment: filters.feature_enrollment === true,
    enrollmentKey: `$feature_enrollment/${def.key}`,
    superGroup,
    brokenDependencies: false,
    dependencies: [],
    outcomes: [],
  };
}

/** Build the evaluation snapshot of one project. Pure; inputs are not modified. */
export function compileProject(input: CompileProjectInput): CompiledProject {
  const zone = resolveZone(input.timezone);
  const defs = input.flags.filter((f) => !f.deleted);

  const indexById = new Map<number, number>();
  for (const [i, f] of defs.entries()) indexById.set(f.id, i);
  const table = new FilterTable(zone);
  const flags = defs.map((def, i) => compileFlag(def, i, table, indexById));

  const flagIndexByKey = new Map<string, number>();
  for (const f of flags) if (!flagIndexByKey.has(f.key)) flagIndexByKey.set(f.key, f.index);

  // Inactive flags evaluate to false without looking at their own dependencies.
  const deps = new Map<number, number[]>();
  for (const def of defs) deps.set(def.id, def.active ? dependencyIds(def.filters) : []);
  const staging = stageDependencies(deps);
  const evaluationOrder: number[] = [];
  for (const stage of staging.stages) for (const id of stage) evaluationOrder.push(indexById.get(id)!);
  for (const id of staging.cyclic) evaluationOrder.push(indexById.get(id)!);
  for (const flag of flags) {
    flag.brokenDependencies = staging.broken.has(flag.id);
    flag.dependencies = (deps.get(flag.id) ?? []).filter((id) => indexById.has(id)).map((id) => indexById.get(id)!);
  }

  const { cohorts, groupTypeNames } = compileCohortsAndGroupTypes(input, zone);

  return { flags, flagIndexByKey, evaluationOrder, cohorts, groupTypeNames, zone, filterSlots: table.size };
}

/** A project's live cohorts (their references resolved) and group type names by index: small, compiled whole every time. */
export function compileCohortsAndGroupTypes(
  input: Pick<CompileProjectInput, 'cohorts' | 'groupTypes'>,
  zone: Zone,
): { cohorts: Map<number, CompiledCohort>; groupTypeNames: (string | undefined)[] } {
  const cohorts = new Map<number, CompiledCohort>();
  for (const c of input.cohorts) {
    if (!c.deleted) cohorts.set(c.id, compileCohort(c, zone));
  }
  resolveCohortGraph(cohorts);
  const groupTypeNames: (string | undefined)[] = [];
  for (const g of input.groupTypes) groupTypeNames[g.groupTypeIndex] = g.groupType;
  return { cohorts, groupTypeNames };
}

// Evaluates a compiled project for one request: which flags, in what order, and each flag's value and reason.
import { CohortEvaluator, CohortNotFoundError } from './cohorts.js';
import { Source, type CompiledCondition, type CompiledFlag, type CompiledProject, type FlagOutcomes } from './compile.js';
import { flagHash, holdoutHash } from './hash.js';
import type { MatchContext } from './operators.js';
import { RESULT_MEMO, type EvaluationRequest, type FlagEvaluation, type Properties, type ResultMemo } from './types.js';
import { hasOwn } from './values.js';
import { borrowValues, inFlagOrder, requestedClosure, returnValues } from './closure.js';

// Reason priorities while walking conditions (step 4 of docs/compatibility.md#sdk-3.4).
const NO_GROUP_TYPE = 1;
const NO_CONDITION_MATCH = 2;
const OUT_OF_ROLLOUT_BOUND = 3;
const CONDITION_MATCH = 4;

const CODES = ['', 'no_group_type', 'no_condition_match', 'out_of_rollout_bound', 'condition_match'];
const DESCRIPTIONS = ['', 'No group type', 'No matching condition set', 'Out of rollout bound', ''];
const GROUPS_NOT_EVALUATED = 'No matching condition set (group conditions were not evaluated because no group type was provided)';

const EMPTY: Properties = Object.freeze({}) as Properties;

/** A flag's value as dependencies see it; undefined when its evaluation failed. */
type FlagValue = boolean | string | undefined;

class RequestState implements MatchContext {
  readonly person: Properties;
  readonly deviceId: string | null;
  readonly values: FlagValue[];
  /** Property filter answers by CompiledFilter.memo slot: 0 not evaluated yet, 1 true, 2 false. */
  readonly memo: Uint8Array;
  private now: number | undefined;
  private groupKeys: (string | null | undefined)[] | undefined;
  private groupProps: (Properties | undefined)[] | undefined;
  private cohortEvaluator: CohortEvaluator | undefined;

  constructor(
    readonly project: CompiledProject,
    readonly request: EvaluationRequest,
    values: FlagValue[] = new Array(project.flags.length),
  ) {
    this.person = request.personProperties ?? EMPTY;
    this.deviceId = resolveDeviceId(request, this.person);
    this.values = values;
    this.memo = new Uint8Array(project.filterSlots);
  }

  nowMs(): number {
    if (this.now === undefined) this.now = this.request.now ? this.request.now.getTime() : Date.now();
    return this.now;
  }

  /** The usable group key for a group type index: a non-empty string or a number, else null. */
  groupKey(index: number): string | null {
    const cache = (this.groupKeys ??= []);
    const cached = cache[index];
    if (cached !== undefined) return cached;
    const name = this.project.groupTypeNames[index];
    const groups = this.request.groups;
    const raw = name === undefined || !groups || !hasOwn(groups, name) ? undefined : groups[name];
    let key: string | null = null;
    if (typeof raw === 'string') key = raw === '' ? null : raw;
    else if (typeof raw === 'number' && Number.isFinite(raw)) key = String(raw);
    cache[index] = key;
    return key;
  }

  groupProperties(index: number | null): Properties {
    if (index === null) return EMPTY;
    const cache = (this.groupProps ??= []);
    const cached = cache[index];
    if (cached !== undefined) return cached;
    const name = this.project.groupTypeNames[index];
    const all = this.request.groupProperties;
    const found = name !== undefined && all && hasOwn(all, name) ? all[name] : undefined;
    const props = found !== null && typeof found === 'object' ? found : EMPTY;
    cache[index] = props;
    return props;
  }

  cohorts(): CohortEvaluator {
    return (this.cohortEvaluator ??= new CohortEvaluator(this.project.cohorts, this.request.staticCohortIds, this.person, this));
  }
}

function resolveDeviceId(request: EvaluationRequest, person: Properties): string | null {
  if (typeof request.deviceId === 'string' && request.deviceId !== '') return request.deviceId;
  // The server falls back to the $device_id person property when the request has none.
  const fromPerson = person.$device_id;
  return typeof fromPerson === 'string' && fromPerson !== '' ? fromPerson : null;
}

/** Which identifier a flag buckets on for an aggregation (docs/compatibility.md#sdk-3.3, #sdk-3.12). */
function bucketingValue(flag: CompiledFlag, aggregation: number | null, st: RequestState, useOverrides: boolean): string {
  if (aggregation !== null) return st.groupKey(aggregation) ?? '';
  if (flag.deviceBucketing && st.deviceId !== null) return st.deviceId;
  const overrides = st.request.hashKeyOverrides;
  if (useOverrides && overrides && hasOwn(overrides, flag.key)) return overrides[flag.key];
  if (flag.ensureContinuity) {
    const anon = st.request.anonDistinctId;
    if (anon !== undefined && anon !== null) return anon;
  }
  return st.request.distinctId;
}

function payloadFor(flag: CompiledFlag, variant: string | null): unknown {
  const payloads = flag.payloads;
  if (!payloads) return undefined;
  const key = variant ?? 'true';
  return hasOwn(payloads, key) ? payloads[key] : undefined;
}

// Slots of the per-flag outcome table (CompiledFlag.outcomes): one reason object per slot and
// condition index, created on first use and shared by every later answer. Slots 1–4 are the
// candidate priorities above.
const SLOT_OUT_OF_ROLLOUT = OUT_OF_ROLLOUT_BOUND;
const SLOT_CONDITION_MATCH = CONDITION_MATCH;
const SLOT_GROUPS_NOT_EVALUATED = 5;
const SLOT_SUPER_CONDITION = 6;
const SLOT_HOLDOUT = 7;
const SLOT_MISSING_DEPENDENCY = 8;
const SLOT_COHORT_NOT_FOUND = 9;
const SLOT_COHORT_PARSE_ERROR = 10;
/** Slots of the evaluation errors a request can impose (EvaluationRequest.failedFlags), one per code. */
const errorSlots = new Map<string, number>();
const errorSlot = (code: string): number => {
  let slot = errorSlots.get(code);
  if (slot === undefined) errorSlots.set(code, (slot = SLOT_COHORT_PARSE_ERROR + 1 + errorSlots.size));
  return slot;
};

function outcomesFor(flag: CompiledFlag, slot: number, conditionIndex: number | null, code: string, description: string): FlagOutcomes {
  const i = slot * (flag.conditions.length + 1) + (conditionIndex === null ? 0 : conditionIndex + 1);
  return (flag.outcomes[i] ??= { reason: Object.freeze({ code, conditionIndex, description }), off: undefined, on: undefined, variants: undefined });
}

/**
 * The flag's result for an outcome, value and variant. A result depends on nothing else (the
 * payload follows from the variant), so each is created once and the frozen object is shared by
 * every answer: no allocation per flag and request, and renderers can cache its bytes by identity.
 * `attachPayload`: whether the stored payload of the value goes with it.
 */
function result(flag: CompiledFlag, enabled: boolean, variant: string | null, o: FlagOutcomes, attachPayload: boolean, failed = false): FlagEvaluation {
  if (variant === null) {
    if (enabled) return (o.on ??= newResult(flag, true, null, o, attachPayload, failed));
    return (o.off ??= newResult(flag, false, null, o, attachPayload, failed));
  }
  const variants = (o.variants ??= new Map());
  let r = variants.get(variant);
  if (!r) variants.set(variant, (r = newResult(flag, enabled, variant, o, attachPayload, failed)));
  return r;
}

function newResult(flag: CompiledFlag, enabled: boolean, variant: string | null, o: FlagOutcomes, attachPayload: boolean, failed: boolean): FlagEvaluation {
  const r: FlagEvaluation = {
    key: flag.key,
    id: flag.id,
    version: flag.version,
    enabled,
    variant,
    payload: attachPayload ? payloadFor(flag, variant) : undefined,
    reason: o.reason,
  };
  if (failed) r.failed = true;
  Object.defineProperty(r, RESULT_MEMO, { value: {} satisfies ResultMemo });
  return Object.freeze(r);
}

/** Property filters (AND, stored order), then cohort filters, then the rollout. */
function conditionMatch(flag: CompiledFlag, cond: CompiledCondition, aggregation: number | null, st: RequestState): number {
  const filters = cond.filters;
  const memo = st.memo;
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i];
    let props: Properties;
    switch (f.source) {
      case Source.Person:
        props = st.person;
        break;
      case Source.Group:
        props = st.groupProperties(f.groupIndex ?? aggregation);
        break;
      case Source.Aggregation:
        props = aggregation === null ? st.person : st.groupProperties(aggregation);
        break;
      case Source.Flag: {
        const value = st.values[f.dependency];
        const expected = f.expected;
        const ok = expected === true ? value !== undefined && value !== false : expected === false ? value === false : value === expected;
        if (!ok) return NO_CONDITION_MATCH;
        continue;
      }
      default:
        return NO_CONDITION_MATCH;
    }
    let answer = memo[f.memo];
    if (answer === 0) memo[f.memo] = answer = f.match(props, st) ? 1 : 2;
    if (answer !== 1) return NO_CONDITION_MATCH;
  }
  const cohortFilters = cond.cohortFilters;
  if (cohortFilters.length > 0) {
    const cohorts = st.cohorts();
    for (let i = 0; i < cohortFilters.length; i++) {
      const cf = cohortFilters[i];
      if (cf.cohortId === undefined) throw new CohortFilterParseError();
      if (!cohorts.matches(cf.cohortId, cf.operator)) return NO_CONDITION_MATCH;
    }
  }
  const rollout = cond.rollout;
  if (rollout === 100) return CONDITION_MATCH;
  const h = flagHash(flag.key, bucketingValue(flag, aggregation, st, true));
  return h <= rollout / 100 ? CONDITION_MATCH : OUT_OF_ROLLOUT_BOUND;
}

class CohortFilterParseError extends Error {}

function matchingVariant(flag: CompiledFlag, aggregation: number | null, st: RequestState): string | null {
  const variants = flag.variants;
  if (variants.length === 0) return null;
  const h = flagHash(flag.key, bucketingValue(flag, aggregation, st, true), 'variant');
  for (let i = 0; i < variants.length; i++) {
    if (h < variants[i].upper) return variants[i].key;
  }
  return null;
}

function evaluateFlag(flag: CompiledFlag, st: RequestState): FlagEvaluation {
  // 1. Early-access gates (person-level, even on group flags).
  if (flag.featureEnrollment) {
    if (hasOwn(st.person, flag.enrollmentKey)) {
      const v = st.person[flag.enrollmentKey];
      // The server attaches the "true" payload whatever the gate's answer.
      return result(flag, v === true || v === 'true', null, outcomesFor(flag, SLOT_SUPER_CONDITION, 0, 'super_condition_value', 'Super condition value'), true);
    }
  } else if (flag.superGroup && flag.superGroup.keys.some((k) => hasOwn(st.person, k))) {
    const matched = conditionMatch(flag, flag.superGroup.condition, null, st) === CONDITION_MATCH;
    return result(flag, matched, null, outcomesFor(flag, SLOT_SUPER_CONDITION, 0, 'super_condition_value', 'Super condition value'), true);
  }

  // 2. Holdout, bucketed on the flag-level aggregation without stored hash-key overrides.
  const holdout = flag.holdout;
  if (holdout) {
    const pct = holdout.percentage;
    if (!(pct < 100 && holdoutHash(bucketingValue(flag, flag.aggregation, st, false)) > pct / 100)) {
      const variant = `holdout-${String(holdout.id)}`;
      return result(flag, true, variant, outcomesFor(flag, SLOT_HOLDOUT, null, 'holdout_condition_value', 'Holdout condition value'), true);
    }
  }

  // 3. Conditions in stored order; the best candidate reason wins when nothing matches.
  let best = NO_GROUP_TYPE;
  let bestIndex: number | null = null;
  let skippedGroupCondition = false;
  const conditions = flag.conditions;
  for (let i = 0; i < conditions.length; i++) {
    const cond = conditions[i];
    const aggregation = cond.aggregation;
    let outcome: number;
    if (aggregation === null) {
      if (flag.deviceBucketing && st.deviceId === null) {
        if (best <= OUT_OF_ROLLOUT_BOUND) {
          best = OUT_OF_ROLLOUT_BOUND;
          bestIndex = i;
        }
        continue;
      }
    } else if (st.groupKey(aggregation) === null) {
      skippedGroupCondition = true;
      if (best <= NO_GROUP_TYPE) {
        best = NO_GROUP_TYPE;
        bestIndex = i;
      }
      continue;
    }
    outcome = conditionMatch(flag, cond, aggregation, st);
    if (best <= outcome) {
      best = outcome;
      bestIndex = i;
    }
    if (outcome === CONDITION_MATCH) {
      const variant = cond.variant ?? matchingVariant(flag, aggregation, st);
      return result(flag, true, variant, outcomesFor(flag, SLOT_CONDITION_MATCH, i, 'condition_match', cond.description), true);
    }
    if (outcome === OUT_OF_ROLLOUT_BOUND && flag.earlyExit) {
      return result(flag, false, null, outcomesFor(flag, SLOT_OUT_OF_ROLLOUT, i, 'out_of_rollout_bound', 'Out of rollout bound'), false);
    }
  }
  const outcomes =
    best === NO_CONDITION_MATCH && skippedGroupCondition
      ? outcomesFor(flag, SLOT_GROUPS_NOT_EVALUATED, bestIndex, CODES[best], GROUPS_NOT_EVALUATED)
      : outcomesFor(flag, best, bestIndex, CODES[best], DESCRIPTIONS[best]);
  return result(flag, false, null, outcomes, false);
}

function missingDependency(flag: CompiledFlag): FlagEvaluation {
  return result(
    flag,
    false,
    null,
    outcomesFor(flag, SLOT_MISSING_DEPENDENCY, null, 'missing_dependency', 'Flag cannot be evaluated due to missing dependency'),
    false,
  );
}

function failure(flag: CompiledFlag, slot: number, code: string, description: string): FlagEvaluation {
  return result(flag, false, null, outcomesFor(flag, slot, null, code, description), false, true);
}

/** Skip rules of docs/compatibility.md#sdk-3.2 (inactive, survey-only, runtime, evaluation contexts). */
function isSkipped(flag: CompiledFlag, request: EvaluationRequest): boolean {
  if (!flag.active) return true;
  if (request.onlySurveyFlags && !flag.isSurveyFlag) return true;
  if (flag.runtime !== 'all' && request.runtime !== 'all' && flag.runtime !== request.runtime) return true;
  const contexts = request.evaluationContexts;
  if (contexts && contexts.length > 0 && flag.tags.length > 0) {
    if (!flag.tags.some((t) => contexts.includes(t))) return true;
  }
  return false;
}

/** One flag of the request: evaluated, or failed as the request or the snapshot imposes. */
function evaluateOne(flag: CompiledFlag, st: RequestState, request: EvaluationRequest): FlagEvaluation {
  const imposed = request.failedFlags?.get(flag.key);
  if (flag.brokenDependencies) return missingDependency(flag);
  if (imposed) return failure(flag, errorSlot(imposed.code), imposed.code, imposed.description);
  try {
    return evaluateFlag(flag, st);
  } catch (error) {
    if (error instanceof CohortNotFoundError) return failure(flag, SLOT_COHORT_NOT_FOUND, 'dependency_not_found_cohort', 'Cohort dependency not found');
    if (error instanceof CohortFilterParseError)
      return failure(flag, SLOT_COHORT_PARSE_ERROR, 'cohort_filters_parsing_error', 'Failed to parse cohort filters');
    throw error;
  }
}

/**
 * Evaluate every applicable flag of the project for one request. Skipped flags (inactive,
 * filtered by runtime, contexts or survey mode, or not requested) are omitted from the answer
 * but count as `false` for flags that depend on them. The answer keeps the project's flag order.
 * With `flagKeys`, only the requested flags and their dependencies are looked at, so the cost
 * follows what is asked, not the project's size.
 */
export function evaluateFlags(project: CompiledProject, request: EvaluationRequest): FlagEvaluation[] {
  const flags = project.flags;
  if (request.flagKeys) return evaluateRequested(project, request, requestedClosure(project, request.flagKeys));
  const st = new RequestState(project, request);
  const results: (FlagEvaluation | undefined)[] = new Array(flags.length);
  const skipped = new Uint8Array(flags.length);

  for (let i = 0; i < flags.length; i++) {
    if (isSkipped(flags[i], request)) {
      skipped[i] = 1;
      st.values[i] = false;
    }
  }

  const order = project.evaluationOrder;
  let evaluated = 0;
  for (let o = 0; o < order.length; o++) {
    const i = order[o];
    if (skipped[i]) continue;
    const evaluation = evaluateOne(flags[i], st, request);
    results[i] = evaluation;
    evaluated++;
    st.values[i] = evaluation.failed ? undefined : evaluation.enabled ? (evaluation.variant ?? true) : false;
  }

  if (evaluated === flags.length) return results as FlagEvaluation[];
  const out: FlagEvaluation[] = [];
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (r) out.push(r);
  }
  return out;
}

/** evaluateFlags for a request naming its flags: `closure` in evaluation order. */
function evaluateRequested(project: CompiledProject, request: EvaluationRequest, closure: readonly number[]): FlagEvaluation[] {
  const st = new RequestState(project, request, borrowValues<FlagValue>(project));
  const results: FlagEvaluation[] = [];
  // Each result's flag index, to put the answer in the project's order.
  const at: number[] = [];
  try {
    for (let c = 0; c < closure.length; c++) {
      const i = closure[c];
      const flag = project.flags[i];
      if (isSkipped(flag, request)) {
        st.values[i] = false;
        continue;
      }
      const evaluation = evaluateOne(flag, st, request);
      results.push(evaluation);
      at.push(i);
      st.values[i] = evaluation.failed ? undefined : evaluation.enabled ? (evaluation.variant ?? true) : false;
    }
  } finally {
    returnValues(project, st.values, closure);
  }
  return inFlagOrder(results, at);
}

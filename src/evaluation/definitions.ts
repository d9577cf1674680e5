// Builds the local-evaluation definitions payload ({flags, group_type_mapping, cohorts}) as PostHog serves it.
import { cohortRootGroup } from './cohorts.js';
import { cohortIds as directCohortIds } from './dependencies.js';
import { clearExcessLevels, cohortProperties, flat, toDict } from './property-trees.js';
import type { CohortDefinition, FlagDefinition, GroupTypeDefinition } from './types.js';
import { isPlainObject, parseIntegerId } from './values.js';

export interface BuildDefinitionsInput {
  flags: readonly FlagDefinition[];
  cohorts: readonly CohortDefinition[];
  groupTypes: readonly GroupTypeDefinition[];
  /** `?send_cohorts`: ship cohort trees instead of expanding simple cohorts into conditions. */
  sendCohorts: boolean;
  /** Fallback `team_id` for flags (flags carry their own projectId). */
  projectId?: number;
}

export interface DefinitionsFlag {
  id: number;
  team_id: number;
  name: string;
  key: string;
  filters: Record<string, unknown>;
  deleted: boolean;
  active: boolean;
  ensure_experience_continuity: boolean;
  has_encrypted_payloads: boolean;
  version: number | null;
  evaluation_runtime: string;
  bucketing_identifier: string;
  evaluation_tags: string[];
  /** The same list under its 2026 name: newer SDKs read this one. */
  evaluation_contexts: string[];
}

export interface DefinitionsPayload {
  flags: DefinitionsFlag[];
  group_type_mapping: Record<string, string>;
  cohorts: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Cohort references of flags, with transitive cohort-on-cohort dependencies.

function nestedCohortIds(cohort: CohortDefinition): number[] {
  const ids: number[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
    } else if (isPlainObject(node)) {
      if (node.type === 'cohort') {
        const id = parseIntegerId(node.value);
        if (id !== undefined) ids.push(id);
      }
      if (Array.isArray(node.values)) node.values.forEach(walk);
    }
  };
  walk(cohortRootGroup(cohort.filters));
  return ids;
}

/**
 * `FeatureFlag.get_cohort_ids` over the dynamic, non-deleted cohorts: direct references that
 * exist plus every cohort they reach. Static cohorts are left out (PostHog never loads them here).
 */
function flagCohortIds(filters: unknown, cohorts: Map<number, CohortDefinition>): number[] {
  const result = new Set<number>();
  const stack: number[] = [];
  for (const id of directCohortIds(filters)) {
    if (cohorts.has(id) && !result.has(id)) {
      result.add(id);
      stack.push(id);
    }
  }
  while (stack.length > 0) {
    for (const dep of nestedCohortIds(cohorts.get(stack.pop()!)!)) {
      if (cohorts.has(dep) && !result.has(dep)) {
        result.add(dep);
        stack.push(dep);
      }
    }
  }
  return [...result];
}

/**
 * `transform_cohort_filters_for_easy_evaluation`: when a flag references exactly one cohort made
 * only of person properties without negation, replace the cohort condition with equivalent
 * person-property conditions (one per OR'ed branch). Any variant override, a cohort condition
 * that shares its group with other filters, or a tree deeper than OR-of-ANDs keeps the
 * conditions unchanged. Like PostHog, the expanded groups use the rollout of the flag's last
 * condition and are appended after the untouched conditions.
 */
function expandSingleCohort(conditions: unknown[], cohortCount: number, cohorts: Map<number, CohortDefinition>): unknown[] {
  if (cohortCount !== 1) return conditions;
  let rollout: unknown = null;
  let cohort: CohortDefinition | undefined;
  const parsed: unknown[] = [];
  for (const condition of conditions) {
    const c = isPlainObject(condition) ? condition : {};
    if (c.variant) return conditions;
    let isCohortCondition = false;
    const props = Array.isArray(c.properties) ? c.properties : [];
    rollout = c.rollout_percentage ?? null;
    for (const prop of props) {
      if (!isPlainObject(prop) || prop.type !== 'cohort') continue;
      isCohortCondition = true;
      const id = parseIntegerId(prop.value);
      if (id === undefined) return conditions;
      if (id) {
        if (props.length > 1) return conditions;
        cohort = cohorts.get(id);
        if (!cohort) return conditions;
      }
    }
    if (!isCohortCondition) parsed.push(condition);
  }
  if (!cohort) return conditions;
  const properties = cohortProperties(cohort);
  if (!properties) return conditions;
  const all = flat(properties);
  if (all.length === 0) return conditions;
  if (!all.every((p) => p.dict.type === 'person')) return conditions;
  if (all.some((p) => p.dict.negation === true)) return conditions;

  const target = clearExcessLevels(properties);
  if (target.kind === 'property') {
    parsed.push({ properties: [toDict(target)], rollout_percentage: rollout });
  } else if (target.values[0]?.kind === 'property') {
    if (!target.values.every((v) => v.kind === 'property')) return conditions;
    if (target.type === 'AND') {
      parsed.push({ properties: target.values.map(toDict), rollout_percentage: rollout });
    } else {
      for (const prop of target.values) parsed.push({ properties: [toDict(prop)], rollout_percentage: rollout });
    }
  } else {
    // Nested groups must be an OR of ANDs; no De Morgan rewriting of an AND of ORs.
    if (target.type === 'AND') return conditions;
    for (const group of target.values) {
      if (
        group.kind !== 'group' ||
        group.values.length === 0 ||
        group.values[0].kind !== 'property' ||
        !group.values.every((v) => v.kind === 'property') ||
        (group.type === 'OR' && group.values.length > 1)
      ) {
        return conditions;
      }
      parsed.push({ properties: group.values.map(toDict), rollout_percentage: rollout });
    }
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Flag dependency rewrite: stored flag ids become keys, plus the chain to evaluate first.

export function flagProperties(filters: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const groups = Array.isArray(filters.groups) ? filters.groups : [];
  for (const group of groups) {
    if (!isPlainObject(group) || !Array.isArray(group.properties)) continue;
    for (const prop of group.properties) {
      if (isPlainObject(prop) && prop.type === 'flag') out.push(prop);
    }
  }
  return out;
}

/** PostHog's `_DependencyChainBuilder`: DFS post-order, `[]` on a cycle or a missing flag. */
export class ChainBuilder {
  private readonly memo = new Map<string, string[]>();

  /**
   * `has`: whether a served flag has this key; `dependencyKeys`: the (rewritten) keys of its flag
   * conditions, in order.
   */
  constructor(
    private readonly has: (key: string) => boolean,
    private readonly dependencyKeys: (key: string) => string[],
  ) {}

  build(key: string): string[] {
    const cached = this.memo.get(key);
    if (cached) return cached;
    let chain: string[] = [];
    if (!this.dependencyKeys(key).includes(key)) {
      const visited = new Set<string>();
      const inProgress = new Set<string>();
      const out: string[] = [];
      if (this.visit(key, visited, inProgress, out)) chain = out;
    }
    this.memo.set(key, chain);
    return chain;
  }

  private visit(key: string, visited: Set<string>, inProgress: Set<string>, out: string[]): boolean {
    if (inProgress.has(key)) return false;
    if (visited.has(key)) return true;
    inProgress.add(key);
    if (!this.has(key)) return false;
    for (const dep of this.dependencyKeys(key)) {
      if (dep === key) continue; // a dependency's own self-reference is skipped, as upstream
      if (!this.has(dep) || !this.visit(dep, visited, inProgress, out)) return false;
    }
    inProgress.delete(key);
    visited.add(key);
    out.push(key);
    return true;
  }
}

/** Copy filters deep enough that rewriting condition sets never touches the caller's objects. */
function copyFilters(filters: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...filters };
  if (Array.isArray(filters.groups)) {
    copy.groups = filters.groups.map((g) => {
      if (!isPlainObject(g)) return g;
      const group: Record<string, unknown> = { ...g };
      if (Array.isArray(g.properties)) group.properties = g.properties.map((p) => (isPlainObject(p) ? { ...p } : p));
      return group;
    });
  }
  return copy;
}

/** The non-deleted dynamic cohorts: the only ones definitions ship or expand. */
export function liveDynamicCohorts(cohorts: readonly CohortDefinition[]): Map<number, CohortDefinition> {
  const live = new Map<number, CohortDefinition>();
  for (const c of cohorts) if (!c.deleted && !c.isStatic) live.set(c.id, c);
  return live;
}

/** Whether a flag is served in the definitions (deleted and remote-configuration flags are not). */
export const servedInDefinitions = (flag: FlagDefinition): boolean => !flag.deleted && !flag.isRemoteConfiguration;

/** The order of flags in the definitions: by key, then id, as PostHog orders them. */
export const definitionsOrder = (a: { key: string; id: number }, b: { key: string; id: number }): number =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : a.id - b.id;

/**
 * One flag's entry before its flag conditions are rewritten (`rewriteFlagConditions`), and the
 * cohorts it reaches (what `send_cohorts` ships for it).
 */
export function definitionsEntry(
  flag: FlagDefinition,
  liveCohorts: Map<number, CohortDefinition>,
  sendCohorts: boolean,
  projectId?: number,
): { entry: DefinitionsFlag; cohortIds: number[] } {
  const source = isPlainObject(flag.filters) ? flag.filters : {};
  const filters = copyFilters(source);
  const referenced = flagCohortIds(source, liveCohorts);
  if (!sendCohorts && referenced.length === 1) {
    const groups = Array.isArray(filters.groups) ? filters.groups : [];
    filters.groups = expandSingleCohort(groups, referenced.length, liveCohorts);
  }
  const entry: DefinitionsFlag = {
    id: flag.id,
    team_id: flag.projectId ?? projectId,
    name: flag.name,
    key: flag.key,
    filters,
    deleted: false,
    active: flag.active,
    ensure_experience_continuity: flag.ensureExperienceContinuity,
    has_encrypted_payloads: flag.hasEncryptedPayloads,
    version: flag.version,
    evaluation_runtime: flag.evaluationRuntime,
    bucketing_identifier: flag.bucketingIdentifier,
    evaluation_tags: [...flag.evaluationTags],
    evaluation_contexts: [...flag.evaluationTags],
  };
  return { entry, cohortIds: referenced };
}

/** The flag conditions' new keys (stored flag ids become keys) and their dependency chains, in order. */
export function flagConditionRewrites(
  filters: Record<string, unknown>,
  keyOfId: (ref: string) => string | undefined,
  chains: ChainBuilder,
): Array<[string, string[]]> {
  return flagProperties(filters).map((prop) => {
    const ref = String(prop.key ?? '');
    const key = keyOfId(ref) ?? ref;
    return [key, chains.build(key)];
  });
}

/** Applies `flagConditionRewrites` to an entry made by `definitionsEntry` (whose filters are its own copy). */
export function rewriteFlagConditions(entry: DefinitionsFlag, rewrites: Array<[string, string[]]>): void {
  flagProperties(entry.filters).forEach((prop, i) => {
    prop.key = rewrites[i][0];
    prop.dependency_chain = rewrites[i][1];
  });
}

/** The `cohorts` object of `send_cohorts`: the property trees of the given live dynamic cohorts. */
export function cohortsSection(ids: Iterable<number>, liveCohorts: Map<number, CohortDefinition>): Record<string, unknown> {
  const cohorts: Record<string, unknown> = {};
  for (const id of ids) {
    const key = String(id);
    if (key in cohorts) continue;
    const properties = cohortProperties(liveCohorts.get(id)!);
    if (properties) cohorts[key] = toDict(properties);
  }
  return cohorts;
}

export function groupTypeMapping(groupTypes: readonly GroupTypeDefinition[]): Record<string, string> {
  const mapping: Record<string, string> = {};
  for (const g of [...groupTypes].sort((a, b) => a.groupTypeIndex - b.groupTypeIndex)) mapping[String(g.groupTypeIndex)] = g.groupType;
  return mapping;
}

/**
 * The `/flags/definitions` (local_evaluation) body. Deleted and remote-configuration flags are
 * left out; inactive flags are sent with `active: false`. Flags are ordered by key, as PostHog
 * orders them, so the serialized payload (and its ETag) is stable.
 */
export function buildDefinitions(input: BuildDefinitionsInput): DefinitionsPayload {
  const liveCohorts = liveDynamicCohorts(input.cohorts);
  const selected = input.flags.filter(servedInDefinitions).sort(definitionsOrder);

  const reached: number[] = [];
  const entries: DefinitionsFlag[] = selected.map((flag) => {
    const { entry, cohortIds } = definitionsEntry(flag, liveCohorts, input.sendCohorts, input.projectId);
    if (input.sendCohorts) reached.push(...cohortIds);
    return entry;
  });

  // Dependency keys are rewritten first, then chains are computed over the rewritten keys.
  const idToKey = new Map(selected.map((f) => [String(f.id), f.key]));
  const depsByKey = new Map(entries.map((e) => [e.key, flagProperties(e.filters).map((p) => idToKey.get(String(p.key ?? '')) ?? String(p.key ?? ''))]));
  const chains = new ChainBuilder(
    (key) => depsByKey.has(key),
    (key) => depsByKey.get(key) ?? [],
  );
  for (const entry of entries) {
    if (flagProperties(entry.filters).length > 0)
      rewriteFlagConditions(
        entry,
        flagConditionRewrites(entry.filters, (ref) => idToKey.get(ref), chains),
      );
  }

  return { flags: entries, group_type_mapping: groupTypeMapping(input.groupTypes), cohorts: input.sendCohorts ? cohortsSection(reached, liveCohorts) : {} };
}

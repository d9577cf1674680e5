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

function flagProperties(filters: Record<string, unknown>): Record<string, unknown>[] {
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
class ChainBuilder {
  private readonly memo = new Map<string, string[]>();

  constructor(private readonly byKey: Map<string, Record<string, unknown>>) {}

  private dependencyKeys(key: string): string[] {
    const flag = this.byKey.get(key);
    return flag ? flagProperties(flag).map((p) => String(p.key)) : [];
  }

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
    if (!this.byKey.has(key)) return false;
    for (const dep of this.dependencyKeys(key)) {
      if (dep === key) continue; // a dependency's own self-reference is skipped, as upstream
      if (!this.byKey.has(dep) || !this.visit(dep, visited, inProgress, out)) return false;
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

/**
 * The `/flags/definitions` (local_evaluation) body. Deleted and remote-configuration flags are
 * left out; inactive flags are sent with `active: false`. Flags are ordered by key, as PostHog
 * orders them, so the serialized payload (and its ETag) is stable.
 */
export function buildDefinitions(input: BuildDefinitionsInput): DefinitionsPayload {
  const liveCohorts = new Map<number, CohortDefinition>();
  for (const c of input.cohorts) if (!c.deleted && !c.isStatic) liveCohorts.set(c.id, c);

  const selected = input.flags.filter((f) => !f.deleted && !f.isRemoteConfiguration).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id - b.id));

  const cohorts: Record<string, unknown> = {};
  const idToKey = new Map<string, string>();
  const entries: DefinitionsFlag[] = selected.map((flag) => {
    const source = isPlainObject(flag.filters) ? flag.filters : {};
    const filters = copyFilters(source);
    const referenced = flagCohortIds(source, liveCohorts);
    if (!input.sendCohorts && referenced.length === 1) {
      const groups = Array.isArray(filters.groups) ? filters.groups : [];
      filters.groups = expandSingleCohort(groups, referenced.length, liveCohorts);
    }
    if (input.sendCohorts) {
      for (const id of referenced) {
        const key = String(id);
        if (key in cohorts) continue;
        const properties = cohortProperties(liveCohorts.get(id)!);
        if (properties) cohorts[key] = toDict(properties);
      }
    }
    idToKey.set(String(flag.id), flag.key);
    return {
      id: flag.id,
      team_id: flag.projectId ?? input.projectId,
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
  });

  // Rewrite dependency keys first, then compute chains over the rewritten keys.
  const targets = new Set<string>();
  for (const entry of entries) {
    for (const prop of flagProperties(entry.filters)) {
      const ref = String(prop.key ?? '');
      prop.key = idToKey.get(ref) ?? ref;
      targets.add(prop.key as string);
    }
  }
  if (targets.size > 0) {
    const builder = new ChainBuilder(new Map(entries.map((e) => [e.key, e.filters])));
    for (const entry of entries) {
      for (const prop of flagProperties(entry.filters)) prop.dependency_chain = builder.build(String(prop.key));
    }
  }

  const group_type_mapping: Record<string, string> = {};
  for (const g of [...input.groupTypes].sort((a, b) => a.groupTypeIndex - b.groupTypeIndex)) {
    group_type_mapping[String(g.groupTypeIndex)] = g.groupType;
  }

  return { flags: entries, group_type_mapping, cohorts };
}

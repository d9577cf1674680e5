// Builds the local-evaluation definitions payload ({flags, group_type_mapping, cohorts}) as PostHog serves it.
import { cohortRootGroup } from './cohorts.js';
import { cohortIds as directCohortIds } from './dependencies.js';
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
// Cohort property trees as Django's Property / PropertyGroup parse and serialize them.

interface PyProperty {
  kind: 'property';
  dict: Record<string, unknown>;
}

interface PyGroup {
  kind: 'group';
  type: 'AND' | 'OR';
  values: PyNode[];
}

type PyNode = PyProperty | PyGroup;

class Unparsable extends Error {}

// Attribute order of Django's Property; `to_dict` keeps the non-null ones in this order.
const PROPERTY_FIELDS = [
  'key', 'operator', 'type', 'group_type_index', 'event_type', 'operator_value', 'time_value',
  'time_interval', 'total_periods', 'min_periods', 'seq_event_type', 'seq_event', 'seq_time_value',
  'seq_time_interval', 'negation', 'value',
] as const;

/** Django's `Property(**params)`; null when the constructor would raise (the property is dropped). */
function parseProperty(params: Record<string, unknown>): PyProperty | null {
  if (!('key' in params)) return null;
  const operator = params.operator ?? null;
  let value = params.value ?? null;
  if (value === null) {
    if (operator !== 'is_set' && operator !== 'is_not_set') return null;
    value = operator;
  }
  const type = params.type ? params.type : 'event';
  if (type === 'group' && (params.group_type_index === undefined || params.group_type_index === null)) return null;
  const fields: Record<string, unknown> = { ...params, operator, type, value };
  if (params.negation !== undefined && params.negation !== null) {
    fields.negation = params.negation === true || String(params.negation).toLowerCase() === 'true' || params.negation === 1;
  }
  const dict: Record<string, unknown> = {};
  for (const name of PROPERTY_FIELDS) {
    const v = fields[name];
    if (v !== undefined && v !== null) dict[name] = v;
  }
  return { kind: 'property', dict };
}

function parseGroup(value: unknown): PyGroup {
  if (!isPlainObject(value) || !('type' in value) || !('values' in value)) return { kind: 'group', type: 'AND', values: [] };
  const type = String(value.type).toUpperCase();
  if (type !== 'AND' && type !== 'OR') throw new Unparsable();
  return { kind: 'group', type, values: parseList(value.values) };
}

function parseList(list: unknown): PyNode[] {
  if (!Array.isArray(list) || list.length === 0) return [];
  let groups = false;
  let properties = false;
  for (const item of list) {
    if (isPlainObject(item) && 'type' in item && 'values' in item) groups = true;
    else if (isPlainObject(item) && 'key' in item) properties = true;
    else groups = true;
  }
  if (groups && properties) throw new Unparsable();
  if (groups) return list.map(parseGroup);
  return list.map((p) => parseProperty(p as Record<string, unknown>)).filter((p): p is PyProperty => p !== null);
}

/** `cohort.properties`, or null when Django cannot parse it. */
function cohortProperties(cohort: CohortDefinition): PyGroup | null {
  const root = cohortRootGroup(cohort.filters);
  try {
    if (isPlainObject(root) && 'type' in root && 'values' in root) return parseGroup(root);
    if (Array.isArray(root)) return { kind: 'group', type: 'AND', values: parseList(root) };
    return { kind: 'group', type: 'AND', values: [] };
  } catch (error) {
    if (error instanceof Unparsable) return null;
    throw error;
  }
}

function toDict(node: PyNode): Record<string, unknown> {
  if (node.kind === 'property') return { ...node.dict };
  if (node.values.length === 0) return {};
  return { type: node.type, values: node.values.map(toDict) };
}

function flat(node: PyNode): PyProperty[] {
  return node.kind === 'property' ? [node] : node.values.flatMap(flat);
}

/** Django's `clear_excess_levels`: collapse single-child groups (keeping one level under a parent). */
function clearExcessLevels(node: PyNode, skip = false): PyNode {
  if (node.kind === 'property') return node;
  if (node.values.length === 1) {
    if (skip) return { ...node, values: node.values.map((v) => clearExcessLevels(v)) };
    return clearExcessLevels(node.values[0]);
  }
  return { ...node, values: node.values.map((v) => clearExcessLevels(v, true)) };
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
function expandSingleCohort(
  conditions: unknown[],
  cohortCount: number,
  cohorts: Map<number, CohortDefinition>,
): unknown[] {
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

  const selected = input.flags
    .filter((f) => !f.deleted && !f.isRemoteConfiguration)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id - b.id));

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

// Cohort property trees as Django's Property / PropertyGroup parse and serialize them (what the
// definitions payload sends and what single-cohort expansion rewrites).
import { cohortRootGroup } from './cohorts.js';
import type { CohortDefinition } from './types.js';
import { isPlainObject } from './values.js';

export interface PyProperty {
  kind: 'property';
  dict: Record<string, unknown>;
}

export interface PyGroup {
  kind: 'group';
  type: 'AND' | 'OR';
  values: PyNode[];
}

export type PyNode = PyProperty | PyGroup;

class Unparsable extends Error {}

// Attribute order of Django's Property; `to_dict` keeps the non-null ones in this order.
const PROPERTY_FIELDS = [
  'key',
  'operator',
  'type',
  'group_type_index',
  'event_type',
  'operator_value',
  'time_value',
  'time_interval',
  'total_periods',
  'min_periods',
  'seq_event_type',
  'seq_event',
  'seq_time_value',
  'seq_time_interval',
  'negation',
  'value',
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
export function cohortProperties(cohort: CohortDefinition): PyGroup | null {
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

export function toDict(node: PyNode): Record<string, unknown> {
  if (node.kind === 'property') return { ...node.dict };
  if (node.values.length === 0) return {};
  return { type: node.type, values: node.values.map(toDict) };
}

export function flat(node: PyNode): PyProperty[] {
  return node.kind === 'property' ? [node] : node.values.flatMap(flat);
}

/** Django's `clear_excess_levels`: collapse single-child groups (keeping one level under a parent). */
export function clearExcessLevels(node: PyNode, skip = false): PyNode {
  if (node.kind === 'property') return node;
  if (node.values.length === 1) {
    if (skip) return { ...node, values: node.values.map((v) => clearExcessLevels(v)) };
    return clearExcessLevels(node.values[0]);
  }
  return { ...node, values: node.values.map((v) => clearExcessLevels(v, true)) };
}

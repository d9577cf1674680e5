// Cohorts as the console reads them, and the cohort editor's form: AND/OR groups of person-property
// and cohort conditions, converted from and to the API's `filters.properties` tree.
import { api, cohortsPath, query } from '../api.ts';
import type { FeatureFlag, Page, PropertyType, UserBasic } from '../types.ts';
import { uid, type FormProperty } from '../flag/model.ts';
import { operatorInfo, valueProblem } from '../flag/operators.ts';

export interface CohortFull {
  id: number;
  name: string;
  description: string;
  deleted: boolean;
  filters: { properties?: unknown } & Record<string, unknown>;
  is_static: boolean;
  count: number | null;
  created_by: UserBasic | null;
  created_at: string | null;
}

export interface CohortPerson {
  id: string;
  uuid: string;
  name: string;
  distinct_ids: string[];
  properties: Record<string, unknown>;
  created_at: string;
}

export interface CohortPersonsPage {
  results: CohortPerson[];
  next: string | null;
  previous: string | null;
}

export type Match = 'AND' | 'OR';

/** A condition of the editor; `negation` is kept for person filters the API returned with it. */
export interface CohortProperty extends FormProperty {
  negation: boolean;
}

export interface CohortGroup {
  uid: string;
  type: Match;
  properties: CohortProperty[];
}

export interface CohortForm {
  name: string;
  description: string;
  isStatic: boolean;
  match: Match;
  groups: CohortGroup[];
  /** Criteria the editor cannot show (behavioral filters, deeper nesting): kept unchanged, not editable. */
  unsupported: boolean;
}

export const COHORT_FILTER_TYPES: Array<[PropertyType, string]> = [
  ['person', 'Person property'],
  ['cohort', 'Cohort'],
];

export function newCohortProperty(type: PropertyType = 'person'): CohortProperty {
  return {
    uid: uid(),
    type,
    key: type === 'cohort' ? 'id' : '',
    operator: type === 'cohort' ? 'in' : 'exact',
    value: type === 'person' ? [] : '',
    negation: false,
  };
}

export const newCohortGroup = (): CohortGroup => ({ uid: uid(), type: 'AND', properties: [newCohortProperty()] });

export const emptyCohortForm = (): CohortForm => ({ name: '', description: '', isStatic: false, match: 'OR', groups: [newCohortGroup()], unsupported: false });

type Json = Record<string, unknown>;
const isDict = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const isGroup = (v: unknown): v is { type: Match; values: unknown[] } => isDict(v) && (v.type === 'AND' || v.type === 'OR') && Array.isArray(v.values);

class Unsupported extends Error {}

function propertyFromApi(raw: unknown): CohortProperty {
  if (!isDict(raw)) throw new Unsupported();
  if (raw.type === 'cohort') {
    return { uid: uid(), type: 'cohort', key: 'id', operator: raw.negation === true ? 'not_in' : 'in', value: String(raw.value ?? ''), negation: false };
  }
  if (raw.type !== 'person') throw new Unsupported();
  const info = operatorInfo('person', typeof raw.operator === 'string' ? raw.operator : undefined);
  const v = raw.value;
  let value: string | string[];
  if (info.kind === 'list') value = Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)];
  else if (info.kind === 'none') value = '';
  else value = Array.isArray(v) ? String(v[0] ?? '') : v === undefined || v === null ? '' : String(v);
  return { uid: uid(), type: 'person', key: String(raw.key ?? ''), operator: info.value, value, negation: raw.negation === true };
}

export function formFromCohort(cohort: CohortFull): CohortForm {
  const base = { name: cohort.name, description: cohort.description ?? '', isStatic: cohort.is_static };
  const root = cohort.filters?.properties;
  if (cohort.is_static || !isGroup(root) || root.values.length === 0)
    return { ...base, match: 'OR', groups: cohort.is_static ? [] : [newCohortGroup()], unsupported: false };
  try {
    const groups = root.values.map((value): CohortGroup => {
      // A condition directly under the root becomes a group of its own: the same meaning.
      if (!isGroup(value)) return { uid: uid(), type: 'AND', properties: [propertyFromApi(value)] };
      return { uid: uid(), type: value.type, properties: value.values.map(propertyFromApi) };
    });
    return { ...base, match: root.type, groups, unsupported: false };
  } catch (error) {
    if (!(error instanceof Unsupported)) throw error;
    return { ...base, match: root.type, groups: [], unsupported: true };
  }
}

function propertyToApi(p: CohortProperty): Json {
  if (p.type === 'cohort') return { type: 'cohort', key: 'id', value: Number(p.value), negation: p.operator === 'not_in' };
  const info = operatorInfo('person', p.operator);
  const value = info.kind === 'list' ? (p.value as string[]).slice() : info.kind === 'none' ? p.operator : String(p.value).trim();
  return { type: 'person', key: p.key.trim(), operator: p.operator, value, negation: p.negation };
}

/** `filters` for a dynamic cohort's write. */
export function filtersFromForm(form: CohortForm): Json {
  return {
    properties: {
      type: form.match,
      values: form.groups.map((g) => ({ type: g.type, values: g.properties.map(propertyToApi) })),
    },
  };
}

/** What stops a dynamic cohort's criteria from being saved, in words. */
export function criteriaProblems(form: CohortForm): string[] {
  if (form.isStatic || form.unsupported) return [];
  const problems: string[] = [];
  if (!form.groups.length) problems.push('Add at least one group of conditions.');
  form.groups.forEach((g, i) => {
    if (!g.properties.length) problems.push(`Group ${i + 1} has no conditions.`);
    for (const p of g.properties) {
      if (p.type === 'person' && !p.key.trim()) problems.push(`Group ${i + 1}: a condition has no property.`);
      else if (valueProblem(operatorInfo(p.type, p.operator).kind, p.operator, p.value))
        problems.push(`Group ${i + 1}: a condition's value is missing or invalid.`);
    }
  });
  return problems;
}

/** Distinct ids pasted one per line (or separated by commas), blanks and repeats dropped. */
export function parseDistinctIds(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\n,]/)
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

/** Every non-deleted cohort of the project (for nested-cohort choices), newest first. */
export async function loadAllCohorts(projectId: number, signal?: AbortSignal): Promise<CohortFull[]> {
  const all: CohortFull[] = [];
  for (let offset = 0; offset < 2000; offset += 500) {
    const page = await api.get<Page<CohortFull>>(cohortsPath(projectId) + query({ limit: 500, offset }), { signal });
    all.push(...page.results);
    if (!page.next) break;
  }
  return all;
}

/**
 * Flags with a condition on this cohort, or on a cohort whose criteria include it (at any depth):
 * the flags that keep it from being deleted.
 */
export function flagsUsingCohort(cohortId: number, flags: FeatureFlag[], cohorts: CohortFull[]): FeatureFlag[] {
  const reaching = new Set([cohortId]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of cohorts) {
      if (!reaching.has(c.id) && referencedCohorts(c.filters).some((id) => reaching.has(id))) {
        reaching.add(c.id);
        grew = true;
      }
    }
  }
  return flags.filter((f) => (f.filters?.groups ?? []).some((g) => (g.properties ?? []).some((p) => p.type === 'cohort' && reaching.has(Number(p.value)))));
}

/** Cohort ids named anywhere in a cohort's criteria. */
export function referencedCohorts(filters: unknown): number[] {
  const out: number[] = [];
  const walk = (node: unknown): void => {
    if (isGroup(node)) node.values.forEach(walk);
    else if (isDict(node) && node.type === 'cohort') out.push(Number(node.value));
  };
  if (isDict(filters)) walk(filters.properties);
  return out;
}

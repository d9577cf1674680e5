// The flag editor's form state, converted from and to the API's flag representation.
import { api, flagsPath, query } from '../api.ts';
import type { ConditionGroup, FeatureFlag, Filters, Page, PropertyFilter, PropertyType } from '../types.ts';
import { operatorInfo } from './operators.ts';

let uidCounter = 0;
export const uid = () => `u${++uidCounter}`;

export interface FormProperty {
  uid: string;
  type: PropertyType;
  key: string;
  operator: string;
  /** A list for equality operators, text otherwise. */
  value: string | string[];
}

export interface FormGroup {
  uid: string;
  properties: FormProperty[];
  rollout: string;
  variant: string;
  description: string;
}

export interface FormVariant {
  uid: string;
  key: string;
  name: string;
  rollout: string;
  payload: string;
}

export interface FlagForm {
  key: string;
  name: string;
  tags: string[];
  active: boolean;
  multivariate: boolean;
  variants: FormVariant[];
  booleanPayload: string;
  groups: FormGroup[];
  /** '' for persons, else a group type index. */
  aggregation: string;
  persist: boolean;
  runtime: 'server' | 'client' | 'all';
  evaluationTags: string[];
  remoteConfig: boolean;
}

export const newProperty = (type: PropertyType = 'person'): FormProperty => ({
  uid: uid(),
  type,
  key: type === 'cohort' ? 'id' : '',
  operator: type === 'cohort' ? 'in' : type === 'flag' ? 'flag_evaluates_to' : 'exact',
  value: type === 'person' || type === 'group' ? [] : type === 'flag' ? 'true' : '',
});

export const newGroup = (): FormGroup => ({ uid: uid(), properties: [], rollout: '100', variant: '', description: '' });

export const newVariant = (key = '', rollout = '0'): FormVariant => ({ uid: uid(), key, name: '', rollout, payload: '' });

export function emptyForm(): FlagForm {
  return {
    key: '',
    name: '',
    tags: [],
    active: true,
    multivariate: false,
    variants: [newVariant('control', '50'), newVariant('test', '50')],
    booleanPayload: '',
    groups: [newGroup()],
    aggregation: '',
    persist: false,
    runtime: 'all',
    evaluationTags: [],
    remoteConfig: false,
  };
}

/** A stored payload (JSON text, or a scalar) as editable JSON text. */
export function payloadText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

function propertyFromApi(p: PropertyFilter): FormProperty {
  const type = (['person', 'cohort', 'flag', 'group'].includes(p.type) ? p.type : 'person') as PropertyType;
  const info = operatorInfo(type, p.operator);
  let value: string | string[];
  if (info.kind === 'list') value = Array.isArray(p.value) ? p.value.map(String) : p.value === undefined || p.value === null ? [] : [String(p.value)];
  else if (info.kind === 'none') value = '';
  else value = Array.isArray(p.value) ? String(p.value[0] ?? '') : p.value === undefined || p.value === null ? '' : String(p.value);
  return { uid: uid(), type, key: p.key ?? '', operator: info.value, value };
}

export function formFromFlag(flag: FeatureFlag): FlagForm {
  const f = flag.filters ?? {};
  const variants = f.multivariate?.variants ?? [];
  const payloads = f.payloads ?? {};
  return {
    key: flag.key,
    name: flag.name ?? '',
    tags: flag.tags ?? [],
    active: flag.active,
    multivariate: variants.length > 0,
    variants: variants.length
      ? variants.map((v) => ({ uid: uid(), key: v.key, name: v.name ?? '', rollout: String(v.rollout_percentage ?? 0), payload: payloadText(payloads[v.key]) }))
      : emptyForm().variants,
    booleanPayload: variants.length ? '' : payloadText(payloads['true']),
    groups: (f.groups ?? []).map((g) => ({
      uid: uid(),
      properties: (g.properties ?? []).map(propertyFromApi),
      rollout: g.rollout_percentage === null || g.rollout_percentage === undefined ? '100' : String(g.rollout_percentage),
      variant: g.variant ?? '',
      description: g.description ?? '',
    })),
    aggregation: f.aggregation_group_type_index === null || f.aggregation_group_type_index === undefined ? '' : String(f.aggregation_group_type_index),
    persist: Boolean(flag.ensure_experience_continuity),
    runtime: flag.evaluation_runtime ?? 'all',
    evaluationTags: flag.evaluation_tags ?? [],
    remoteConfig: Boolean(flag.is_remote_configuration),
  };
}

function propertyToApi(p: FormProperty, groupTypeIndex: number | null): PropertyFilter {
  const info = operatorInfo(p.type, p.operator);
  if (p.type === 'cohort') return { key: 'id', type: 'cohort', operator: p.operator, value: Number(p.value) };
  if (p.type === 'flag') {
    const v = String(p.value);
    return { key: p.key, type: 'flag', operator: 'flag_evaluates_to', value: v === 'true' ? true : v === 'false' ? false : v };
  }
  const out: PropertyFilter = { key: p.key.trim(), type: p.type, operator: p.operator };
  if (info.kind === 'list') out.value = (p.value as string[]).slice();
  else if (info.kind === 'none') out.value = p.operator;
  else out.value = String(p.value).trim();
  if (p.type === 'group') out.group_type_index = groupTypeIndex;
  return out;
}

/** Payload JSON text as the API stores it (JSON text); empty means none. */
const payloadValue = (text: string) => text.trim();

/** A condition set's filters as the API takes them (person filters become group filters in group mode). */
export function groupProperties(form: FlagForm, g: FormGroup): PropertyFilter[] {
  const groupIndex = form.aggregation === '' ? null : Number(form.aggregation);
  return g.properties.map((p) => propertyToApi(groupIndex === null ? p : { ...p, type: p.type === 'person' ? 'group' : p.type }, groupIndex));
}

/** The write body for POST/PATCH: every field the editor covers; other filter keys kept as they were. */
export function bodyFromForm(form: FlagForm, original?: FeatureFlag): Record<string, unknown> {
  const groupIndex = form.aggregation === '' ? null : Number(form.aggregation);
  const groups: ConditionGroup[] = form.groups.map((g) => {
    const out: ConditionGroup = {
      properties: groupProperties(form, g),
      rollout_percentage: g.rollout.trim() === '' ? null : Number(g.rollout),
    };
    if (form.multivariate && g.variant) out.variant = g.variant;
    else out.variant = null;
    if (g.description.trim()) out.description = g.description.trim();
    return out;
  });
  const payloads: Record<string, string> = {};
  if (form.multivariate) {
    for (const v of form.variants) if (payloadValue(v.payload)) payloads[v.key] = payloadValue(v.payload);
  } else if (payloadValue(form.booleanPayload)) payloads['true'] = payloadValue(form.booleanPayload);
  const filters: Filters = {
    ...(original?.filters ?? {}),
    groups,
    multivariate: form.multivariate
      ? { variants: form.variants.map((v) => ({ key: v.key.trim(), name: v.name.trim() || undefined, rollout_percentage: Number(v.rollout) })) }
      : null,
    payloads,
    aggregation_group_type_index: groupIndex,
  };
  return {
    key: form.key.trim(),
    name: form.name,
    tags: form.tags,
    active: form.active,
    filters,
    ensure_experience_continuity: form.persist,
    evaluation_runtime: form.runtime,
    evaluation_tags: form.evaluationTags,
    is_remote_configuration: form.remoteConfig,
  };
}

export const variantSum = (form: FlagForm) => form.variants.reduce((sum, v) => sum + (Number(v.rollout) || 0), 0);

/** Splits 100 % across the variants as evenly as whole numbers allow. */
export function distributeEvenly(variants: FormVariant[]): FormVariant[] {
  const n = variants.length;
  const base = Math.floor(100 / n);
  return variants.map((v, i) => ({ ...v, rollout: String(base + (i < 100 - base * n ? 1 : 0)) }));
}

/** Every non-deleted flag of the project (for tag suggestions, dependencies and dependents). */
export async function loadAllFlags(projectId: number, signal?: AbortSignal): Promise<FeatureFlag[]> {
  const all: FeatureFlag[] = [];
  for (let offset = 0; offset < 5000; offset += 500) {
    const page = await api.get<Page<FeatureFlag>>(flagsPath(projectId) + query({ limit: 500, offset }), { signal });
    all.push(...page.results);
    if (!page.next) break;
  }
  return all;
}

/** Flags with a condition on `flagId` (what the dependent-flags endpoint would answer). */
export function dependentsOf(flagId: number, flags: FeatureFlag[]): FeatureFlag[] {
  return flags.filter(
    (f) => f.id !== flagId && (f.filters?.groups ?? []).some((g) => (g.properties ?? []).some((p) => p.type === 'flag' && String(p.key) === String(flagId))),
  );
}

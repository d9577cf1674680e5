// Property operators the API accepts, by property type, and the kind of value each one takes.

export type ValueKind = 'list' | 'text' | 'regex' | 'number' | 'none' | 'date' | 'semver' | 'cohort' | 'flag';

export interface OperatorInfo {
  value: string;
  label: string;
  kind: ValueKind;
}

export const PROPERTY_OPERATORS: OperatorInfo[] = [
  { value: 'exact', label: 'equals', kind: 'list' },
  { value: 'is_not', label: "doesn't equal", kind: 'list' },
  { value: 'icontains', label: 'contains', kind: 'text' },
  { value: 'not_icontains', label: "doesn't contain", kind: 'text' },
  { value: 'regex', label: 'matches regex', kind: 'regex' },
  { value: 'not_regex', label: "doesn't match regex", kind: 'regex' },
  { value: 'gt', label: 'greater than', kind: 'number' },
  { value: 'gte', label: 'greater than or equal to', kind: 'number' },
  { value: 'lt', label: 'less than', kind: 'number' },
  { value: 'lte', label: 'less than or equal to', kind: 'number' },
  { value: 'is_set', label: 'is set', kind: 'none' },
  { value: 'is_not_set', label: 'is not set', kind: 'none' },
  { value: 'is_date_exact', label: 'is on date', kind: 'date' },
  { value: 'is_date_before', label: 'is before', kind: 'date' },
  { value: 'is_date_after', label: 'is after', kind: 'date' },
  { value: 'semver_eq', label: 'version =', kind: 'semver' },
  { value: 'semver_neq', label: 'version ≠', kind: 'semver' },
  { value: 'semver_gt', label: 'version >', kind: 'semver' },
  { value: 'semver_gte', label: 'version ≥', kind: 'semver' },
  { value: 'semver_lt', label: 'version <', kind: 'semver' },
  { value: 'semver_lte', label: 'version ≤', kind: 'semver' },
  { value: 'semver_tilde', label: 'version ~ (same minor)', kind: 'semver' },
  { value: 'semver_caret', label: 'version ^ (compatible)', kind: 'semver' },
  { value: 'semver_wildcard', label: 'version matches wildcard', kind: 'semver' },
];

/** Person-property operators the evaluator knows that only the cohort API takes (the flag API refuses them). */
export const COHORT_ONLY_OPERATORS: OperatorInfo[] = [
  { value: 'starts_with', label: 'starts with', kind: 'text' },
  { value: 'not_starts_with', label: "doesn't start with", kind: 'text' },
  { value: 'ends_with', label: 'ends with', kind: 'text' },
  { value: 'not_ends_with', label: "doesn't end with", kind: 'text' },
  { value: 'icontains_multi', label: 'contains any of', kind: 'list' },
  { value: 'not_icontains_multi', label: 'contains none of', kind: 'list' },
  { value: 'between', label: 'is between (two numbers)', kind: 'list' },
  { value: 'not_between', label: 'is not between (two numbers)', kind: 'list' },
];

/** The person-property operators of the cohort editor. */
export const COHORT_PROPERTY_OPERATORS: OperatorInfo[] = [...PROPERTY_OPERATORS, ...COHORT_ONLY_OPERATORS];

export const COHORT_OPERATORS: OperatorInfo[] = [
  { value: 'in', label: 'is in', kind: 'cohort' },
  { value: 'not_in', label: 'is not in', kind: 'cohort' },
];

export const FLAG_OPERATORS: OperatorInfo[] = [{ value: 'flag_evaluates_to', label: 'evaluates to', kind: 'flag' }];

export function operatorsFor(type: string): OperatorInfo[] {
  if (type === 'cohort') return COHORT_OPERATORS;
  if (type === 'flag') return FLAG_OPERATORS;
  return PROPERTY_OPERATORS;
}

export function operatorInfo(type: string, operator: string | undefined): OperatorInfo {
  const list = operatorsFor(type);
  const wanted = operator ?? 'exact';
  return list.find((o) => o.value === wanted) ?? (type === 'person' ? COHORT_ONLY_OPERATORS.find((o) => o.value === wanted) : undefined) ?? list[0];
}

const SEMVER = /^v?\d+(\.\d+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const SEMVER_WILDCARD = /^v?\d+(\.(\d+|\*|x)){0,2}$/i;
const RELATIVE_DATE = /^-?\d+[hdwmy]$/;

/** The message shown under a value the API would refuse, or null. */
export function valueProblem(kind: ValueKind, operator: string, value: string | string[]): string | null {
  if (kind === 'none') return null;
  if (kind === 'list' && (operator === 'between' || operator === 'not_between')) {
    const bounds = (value as string[]).map(Number);
    return bounds.length === 2 && bounds.every(Number.isFinite) && bounds[0] <= bounds[1] ? null : 'Enter two numbers: the lowest, then the highest.';
  }
  if (kind === 'list') return (value as string[]).length ? null : 'Add at least one value.';
  const text = String(value).trim();
  if (!text) return 'Enter a value.';
  switch (kind) {
    case 'number':
      return Number.isFinite(Number(text)) ? null : 'Enter a number.';
    case 'regex':
      try {
        new RegExp(text);
        return null;
      } catch {
        return 'This is not a valid regular expression.';
      }
    case 'semver':
      if (operator === 'semver_wildcard') return SEMVER_WILDCARD.test(text) ? null : 'Use a version with a wildcard, like 1.2.* or 2.*.';
      return SEMVER.test(text) ? null : 'Use a semantic version, like 1.4.2.';
    case 'date':
      return RELATIVE_DATE.test(text) || !Number.isNaN(Date.parse(text)) ? null : 'Use a date (2025-01-31) or a relative time (-30d).';
    default:
      return null;
  }
}

// Persons as the persons API returns them, and a flag's value for one person with its reason.

export interface Person {
  id: number;
  uuid: string;
  name: string;
  distinct_ids: string[];
  properties: Record<string, unknown>;
  created_at: string;
}

export interface PersonsPage {
  results: Person[];
  next: string | null;
  previous: string | null;
}

/** GET …/feature_flags/evaluation_reasons/: flag key → value and why. */
export type EvaluationReasons = Record<string, { value: boolean | string; evaluation: { reason: string; condition_index: number | null } }>;

const REASONS: Record<string, string> = {
  condition_match: 'Matches condition set',
  no_condition_match: 'Matches no condition set',
  out_of_rollout_bound: 'Outside the rollout of condition set',
  no_group_type: 'No group given for this group flag',
  holdout_condition_value: 'In the holdout group',
  super_condition_value: 'Early-access override',
  disabled: 'Flag disabled',
  flag_disabled: 'Flag disabled',
  missing_dependency: 'A flag it depends on is missing',
  dependency_not_found_cohort: 'A cohort it uses is missing',
  unknown: 'Could not be evaluated',
};

/** A reason in words; condition sets are numbered from 1 as the flag page shows them. */
export function reasonText(reason: string, conditionIndex: number | null): string {
  const text = REASONS[reason] ?? reason.replace(/_/g, ' ');
  return conditionIndex !== null && (reason === 'condition_match' || reason === 'out_of_rollout_bound') ? `${text} ${conditionIndex + 1}` : text;
}

/** A property value as text: strings as they are, everything else as JSON. */
export function propertyText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

// The flags of `npm run bench:persons` (bench/persons.ts): 50 flags, of which 10 read stored person
// properties (the ones bench/lib/capture.ts seeds), 2 read static cohorts and 38 need nothing
// stored (rollouts and variants).

type Json = Record<string, unknown>;

const person = (key: string, value: unknown, operator = 'exact'): Json => ({ key, value, operator, type: 'person' });

export const PERSON_FLAGS = 10;
export const COHORT_FLAGS = 2;
export const TOTAL_FLAGS = 50;

/** The flag whose value the freshness measurement flips: enabled exactly when `plan` is `pro`. */
export const PLAN_FLAG = 'stored-00';

export const personFlagKey = (i: number) => `stored-${String(i).padStart(2, '0')}`;

/** Body of `POST …/feature_flags/` for the i-th flag; `cohorts` are the two static cohort ids. */
export function personsFlagBody(i: number, cohorts: [number, number]): Json {
  let key: string;
  let filters: Json;
  if (i < PERSON_FLAGS) {
    key = personFlagKey(i);
    const conditions: Json[][] = [
      [person('plan', 'pro')],
      [person('country', ['US', 'CA'])],
      [person('email', 'corp.example', 'icontains')],
      [person('age', '40', 'gt')],
      [person('app_version', '2.0.0', 'semver_gte')],
      [person('sessions', '100', 'lt'), person('plan', ['pro', 'enterprise'])],
      [person('email', '^user[0-9]+@example\\.com$', 'regex')],
      [person('country', 'DE', 'is_not')],
      [person('plan', 'enterprise'), person('age', '30', 'gte')],
      [person('first_seen_plan', 'is_set', 'is_set')],
    ];
    filters = { groups: [{ properties: conditions[i], rollout_percentage: i === 0 ? 100 : 50 + i * 5 }] };
    if (i === 8) {
      filters.multivariate = {
        variants: [
          { key: 'control', rollout_percentage: 50 },
          { key: 'test', rollout_percentage: 50 },
        ],
      };
    }
  } else if (i < PERSON_FLAGS + COHORT_FLAGS) {
    key = `cohort-${i - PERSON_FLAGS}`;
    filters = { groups: [{ properties: [{ key: 'id', type: 'cohort', value: cohorts[i - PERSON_FLAGS] }], rollout_percentage: 100 }] };
  } else {
    key = `rollout-${String(i).padStart(2, '0')}`;
    filters = { groups: [{ properties: [], rollout_percentage: (i * 37) % 101 }] };
    if (i % 5 === 0) {
      filters.multivariate = {
        variants: [
          { key: 'a', rollout_percentage: 34 },
          { key: 'b', rollout_percentage: 33 },
          { key: 'c', rollout_percentage: 33 },
        ],
      };
    }
  }
  return { key, name: `Persons benchmark flag ${i}`, active: true, filters };
}

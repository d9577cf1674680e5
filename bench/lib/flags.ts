// Realistic flag sets for the benchmark: mostly person-property conditions (exact, icontains, regex,
// gt/lt, semver, dates), some multivariate flags with payloads, some rollout-only flags and a few
// group flags; and a /flags request body whose properties those conditions read.

type Json = Record<string, unknown>;

const person = (key: string, value: unknown, operator = 'exact'): Json => ({ key, value, operator, type: 'person' });
const company = (key: string, value: unknown, operator = 'exact'): Json => ({ key, value, operator, type: 'group', group_type_index: 0 });

/** The group type every benchmark project registers before its flags (index 0). */
export const GROUP_TYPE = 'company';

/** Body of `POST /api/projects/:id/feature_flags/` for the i-th flag of a set. */
export const flagKey = (i: number, prefix: string): string => `${prefix}-${String(i).padStart(4, '0')}`;

export function flagBody(i: number, prefix: string): Json {
  const key = flagKey(i, prefix);
  const name = `Benchmark flag ${i}`;
  const kind = i % 20;
  let filters: Json;
  switch (kind) {
    case 0:
    case 1:
    case 2:
      filters = { groups: [{ properties: [person('email', '@example.com', 'icontains')], rollout_percentage: 50 }] };
      break;
    case 3:
    case 4:
      filters = {
        groups: [
          { properties: [person('plan', ['pro', 'enterprise']), person('country', 'US')], rollout_percentage: 100 },
          { properties: [], rollout_percentage: 10 },
        ],
      };
      break;
    case 5:
    case 6:
      filters = { groups: [{ properties: [person('email', '^[a-z]+\\.[a-z]+@example\\.(com|org)$', 'regex')], rollout_percentage: 80 }] };
      break;
    case 7:
      filters = { groups: [{ properties: [person('app_version', '2.0.0', 'semver_gte')], rollout_percentage: 100 }] };
      break;
    case 8:
      filters = {
        groups: [
          { properties: [person('signup_date', '2030-01-01', 'is_date_before'), person('signup_date', '-90d', 'is_date_after')], rollout_percentage: 100 },
        ],
      };
      break;
    case 9:
      filters = { groups: [{ properties: [person('age', '18', 'gt')], rollout_percentage: 100 }], payloads: { true: '{"banner":"adult"}' } };
      break;
    case 10:
    case 11:
      filters = {
        groups: [{ properties: [person('plan', 'pro')], rollout_percentage: 100 }],
        multivariate: {
          variants: [
            { key: 'control', rollout_percentage: 50 },
            { key: 'test', rollout_percentage: 50 },
          ],
        },
        payloads: { control: '{"color":"blue"}', test: '{"color":"green","size":2}' },
      };
      break;
    case 12:
    case 13:
      filters = { groups: [{ properties: [], rollout_percentage: 30 }] };
      break;
    case 14:
      filters = {
        groups: [{ properties: [], rollout_percentage: 100 }],
        multivariate: {
          variants: [
            { key: 'a', rollout_percentage: 34 },
            { key: 'b', rollout_percentage: 33 },
            { key: 'c', rollout_percentage: 33 },
          ],
        },
        payloads: { a: '"alpha"', b: '"beta"', c: '{"items":[1,2,3]}' },
      };
      break;
    case 15:
      filters = { groups: [{ properties: [person('email', 'spam', 'not_icontains'), person('country', 'XX', 'is_not')], rollout_percentage: 60 }] };
      break;
    case 16:
      filters = { groups: [{ properties: [person('beta', 'is_set', 'is_set'), person('beta', ['true'])], rollout_percentage: 100 }] };
      break;
    case 17:
      filters = { aggregation_group_type_index: 0, groups: [{ properties: [company('tier', 'enterprise')], rollout_percentage: 100 }] };
      break;
    case 18:
      filters = { groups: [{ properties: [person('sessions', '100', 'lt'), person('app_version', '2.1.0', 'semver_caret')], rollout_percentage: 90 }] };
      break;
    default:
      filters = {
        groups: [{ properties: [person('country', ['US', 'CA', 'GB'])], rollout_percentage: 100 }],
        payloads: { true: '{"currency":"USD","limits":{"seats":25}}' },
      };
  }
  return { key, name, active: true, filters };
}

/**
 * Distinct `/flags` request bodies (distinct ids differ, properties are those the flags read);
 * `flagKeys` adds `flag_keys_to_evaluate`.
 */
export function flagsRequestBodies(token: string, count: number, flagKeys?: string[]): string[] {
  const signup = new Date(Date.now() - 5 * 86_400_000).toISOString();
  const bodies: string[] = [];
  for (let i = 0; i < count; i++) {
    bodies.push(
      JSON.stringify({
        token,
        distinct_id: `user-${i}-${(i * 2654435761) % 4294967296}`,
        groups: { [GROUP_TYPE]: `acme-${i % 17}` },
        person_properties: {
          email: i % 3 === 0 ? `jane.doe${i}@example.com` : `jane.doe@example.${i % 2 ? 'org' : 'com'}`,
          plan: ['free', 'pro', 'enterprise'][i % 3],
          country: ['US', 'us', 'CA', 'DE'][i % 4],
          app_version: ['2.3.1', '1.9.0', '2.1.4'][i % 3],
          signup_date: signup,
          age: 18 + (i % 40),
          sessions: i % 150,
          beta: i % 2 ? 'true' : 'false',
          $browser: 'Chrome',
          $os: 'Mac OS X',
          $current_url: 'https://app.example.com/dashboard',
        },
        group_properties: { [GROUP_TYPE]: { tier: i % 4 ? 'enterprise' : 'startup', seats: 40 } },
        ...(flagKeys ? { flag_keys_to_evaluate: flagKeys } : {}),
      }),
    );
  }
  return bodies;
}

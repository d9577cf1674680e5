// The flags and people the OpenFeature tests share, and /flags's answer for a person in the values
// OFREP gives (docs/compatibility.md#ofrep-4): the variant, else true, or false when off.
import { expect } from 'vitest';
import { PROJECT_TOKEN, type TestApp } from './app.ts';
import { createFlag, createGroupType, person, type Json } from './sdk.ts';

/** Person properties, groups and group properties, as an OpenFeature evaluation context carries them. */
export interface Someone {
  targetingKey: string;
  plan?: string;
  groups?: Record<string, string>;
  groupProperties?: Record<string, Json>;
}

export const PEOPLE: Someone[] = [
  { targetingKey: 'alice', plan: 'pro', groups: { company: 'acme' }, groupProperties: { company: { tier: 'pro' } } },
  { targetingKey: 'bob', plan: 'free' },
  { targetingKey: 'carol' },
  { targetingKey: 'dave', plan: 'pro', groups: { company: 'initech' }, groupProperties: { company: { tier: 'free' } } },
  { targetingKey: 'erin', plan: 'pro' },
  { targetingKey: 'frank' },
];

/** Boolean flags (always-on, pro-only, half, company-pro, inactive) and one multivariate flag (variants). */
export async function createOpenFeatureFlags(t: TestApp): Promise<Record<string, Json>> {
  await createGroupType(t, 'company');
  const all100 = { groups: [{ properties: [], rollout_percentage: 100 }] };
  const flags: Record<string, Json> = {};
  flags.on = await createFlag(t, { key: 'always-on', filters: { ...all100, payloads: { true: { hello: 'world' } } } });
  flags.pro = await createFlag(t, { key: 'pro-only', filters: { groups: [{ properties: [person('plan', 'pro')], rollout_percentage: 100 }] } });
  flags.half = await createFlag(t, { key: 'half', filters: { groups: [{ properties: [], rollout_percentage: 50 }] } });
  flags.variants = await createFlag(t, {
    key: 'variants',
    filters: {
      ...all100,
      multivariate: {
        variants: [
          { key: 'control', rollout_percentage: 34 },
          { key: 'test', rollout_percentage: 33 },
          { key: 'third', rollout_percentage: 33 },
        ],
      },
    },
  });
  flags.group = await createFlag(t, {
    key: 'company-pro',
    filters: {
      aggregation_group_type_index: 0,
      groups: [{ properties: [{ key: 'tier', value: 'pro', operator: 'exact', type: 'group', group_type_index: 0 }] }],
    },
  });
  flags.inactive = await createFlag(t, { key: 'inactive', active: false, filters: all100 });
  return flags;
}

export const BOOLEAN_FLAGS = ['always-on', 'pro-only', 'half', 'company-pro'];

/** The context OpenFeature sends for this person. */
export function contextOf(someone: Someone): Json {
  const { targetingKey, plan, groups, groupProperties } = someone;
  return { targetingKey, ...(plan ? { plan } : {}), ...(groups ? { groups } : {}), ...(groupProperties ? { groupProperties } : {}) };
}

/** /flags for the same person: key → value, and key → metadata.payload. */
export async function flagsAnswer(t: TestApp, someone: Someone): Promise<{ values: Record<string, unknown>; payloads: Record<string, unknown> }> {
  const res = await t.http.post('/flags?v=2').send({
    token: PROJECT_TOKEN,
    distinct_id: someone.targetingKey,
    person_properties: someone.plan ? { plan: someone.plan } : {},
    groups: someone.groups,
    group_properties: someone.groupProperties,
  });
  expect(res.status).toBe(200);
  const flags = Object.values(res.body.flags as Record<string, Json>);
  return {
    values: Object.fromEntries(flags.map((f) => [f.key, f.enabled ? (f.variant ?? true) : false])),
    payloads: Object.fromEntries(flags.map((f) => [f.key, f.metadata.payload])),
  };
}

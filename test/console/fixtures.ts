// Flags, a cohort and usage events for the console's pages to show (created through the API).
import crypto from 'node:crypto';
import { expect } from 'vitest';
import { PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';

export interface Seeded {
  checkout: { id: number; key: string };
  banner: { id: number; key: string };
  cohortId: number;
}

export async function seedFlags(t: TestApp, now = new Date()): Promise<Seeded> {
  const cohort = await t.api('post', '/api/projects/1/cohorts/').send({
    name: 'Beta testers',
    filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [{ key: 'beta', type: 'person', value: ['yes'], operator: 'exact' }] }] } },
  });
  expect(cohort.status).toBe(201);
  const checkout = await t.api('post', '/api/projects/1/feature_flags/').send({
    key: 'new-checkout',
    name: 'The redesigned checkout flow',
    tags: ['checkout', 'web'],
    filters: {
      groups: [
        { properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@example.com' }], rollout_percentage: 100 },
        { properties: [], rollout_percentage: 25 },
      ],
      multivariate: {
        variants: [
          { key: 'control', rollout_percentage: 50 },
          { key: 'redesign', rollout_percentage: 50 },
        ],
      },
      payloads: { redesign: '{"color": "blue"}' },
    },
  });
  expect(checkout.status).toBe(201);
  // One edit, so the flag's history shows a field-level change.
  const edited = await t
    .api('patch', `/api/projects/1/feature_flags/${checkout.body.id}/`)
    .send({ name: 'The redesigned checkout flow, now on mobile too', tags: ['checkout', 'web', 'mobile'] });
  expect(edited.status).toBe(200);
  const banner = await t.api('post', '/api/projects/1/feature_flags/').send({
    key: 'promo-banner',
    name: 'Spring promotion banner',
    tags: ['marketing'],
    filters: {
      groups: [{ properties: [{ key: 'id', type: 'cohort', operator: 'in', value: cohort.body.id }], rollout_percentage: 50 }],
      payloads: { true: '{"text": "20% off"}' },
    },
  });
  expect(banner.status).toBe(201);
  const dependent = await t.api('post', '/api/projects/1/feature_flags/').send({
    key: 'checkout-upsell',
    filters: {
      groups: [{ properties: [{ key: String(checkout.body.id), type: 'flag', operator: 'flag_evaluates_to', value: 'redesign' }], rollout_percentage: 100 }],
    },
  });
  expect(dependent.status).toBe(201);
  const old = await t
    .api('post', '/api/projects/1/feature_flags/')
    .send({ key: 'legacy-search', active: false, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
  expect(old.status).toBe(201);
  // Calls over the last days so the usage chart has lines.
  const batch = [];
  for (let d = 0; d < 20; d++) {
    for (let i = 0; i < 2 + (d % 5); i++) {
      batch.push({
        event: '$feature_flag_called',
        distinct_id: `user-${i}`,
        uuid: crypto.randomUUID(),
        timestamp: new Date(now.getTime() - d * 86_400_000).toISOString(),
        properties: { $feature_flag: 'new-checkout', $feature_flag_response: i % 2 ? 'redesign' : 'control' },
      });
    }
  }
  expect((await t.http.post('/batch/').send({ api_key: PROJECT_TOKEN, batch })).status).toBe(200);
  return { checkout: { id: checkout.body.id, key: 'new-checkout' }, banner: { id: banner.body.id, key: 'promo-banner' }, cohortId: cohort.body.id };
}

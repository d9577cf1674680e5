// The flag tools in Debian's Chromium: bulk-deleting stale flags on the Clean-up page (checked
// through the API: soft-deleted, with activity), My flags for the signed-in user, the Activity
// page's scope filter, and the editor's blast radius against the API's own count. Each test makes
// its own data; they share one signed-in page.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_EMAIL, createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { hasChromium, launchBrowser, newContext, SKIP_MESSAGE } from '../helpers/browser.ts';
import { setPasswordByEmail } from '../../src/access/sign-in/accounts.ts';
import { createProject } from '../../src/access/organizations/admin.ts';

if (!hasChromium) console.warn(`console flag tools: ${SKIP_MESSAGE}`);

const PASSWORD = 'correct horse battery';
type Json = Record<string, any>;

let t: TestApp;
let browser: Browser;
let context: BrowserContext & { foreignRequests: string[] };
let page: Page;

async function apiFlag(base: string, body: Json): Promise<Json> {
  const res = await t.api('post', `${base}/`).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function capture(batch: Json[]): Promise<void> {
  const res = await t.http.post('/batch/').send({ api_key: PROJECT_TOKEN, batch: batch.map((e) => ({ uuid: crypto.randomUUID(), ...e })) });
  expect(res.status, res.text).toBe(200);
}

// The console's flows run on the embedded database only: what they check is the browser's side;
// the API beneath them runs on PostgreSQL in its own tests (CI time, docs/architecture.md#console).
const ON_POSTGRES = Boolean(process.env.DATABASE_URL);
describe.skipIf(!hasChromium || ON_POSTGRES)('the flag tools in a browser', () => {
  beforeAll(async () => {
    t = await createTestApp();
    await setPasswordByEmail(t.ctx, ADMIN_EMAIL, PASSWORD);
    browser = await launchBrowser();
    context = await newContext(browser, t.baseUrl);
    const login = await context.request.post('/api/login/', { data: { email: ADMIN_EMAIL, password: PASSWORD } });
    expect(login.status()).toBe(200);
    page = await context.newPage();
  }, 120_000);
  afterAll(async () => {
    expect(context?.foreignRequests ?? []).toEqual([]);
    await browser?.close();
    await t?.close();
  });

  it('bulk-deletes three stale flags from the Clean-up page, soft and with activity', async () => {
    const project = await createProject(t.ctx, { name: 'Clean-up project' });
    const base = `/api/projects/${project.id}/feature_flags`;
    const stale = [];
    for (const key of ['old-banner', 'old-search', 'old-pricing']) stale.push(await apiFlag(base, { key, filters: { groups: [{ rollout_percentage: 100 }] } }));
    const fresh = await apiFlag(base, { key: 'fresh-flag', filters: { groups: [{ rollout_percentage: 100 }] } });
    // Forty days old and fully rolled out: stale by the list's rule.
    await t.sql(`update feature_flags set created_at = now() - interval '40 days' where id = any($1::int[])`, [stale.map((f) => f.id)]);

    await page.goto(`/project/${project.id}/cleanup`);
    const table = page.locator('.cleanup-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(3);
    await page.getByRole('button', { name: 'Select all on this page' }).click();
    await page.getByRole('button', { name: 'Delete selected' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Delete 3 flags?' }).waitFor();
    for (const key of ['old-banner', 'old-search', 'old-pricing']) await dialog.getByText(key, { exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Delete 3' }).click();
    await page.getByText('Deleted 3 flags').waitFor();
    await page.getByText('No stale flags').waitFor();

    for (const flag of stale) {
      const res = await t.api('get', `${base}/${flag.id}/`);
      expect(res.body.deleted, flag.key).toBe(true);
      const activity = await t.api('get', `${base}/${flag.id}/activity`);
      expect(activity.body.results[0]).toMatchObject({ activity: 'deleted', user: { email: ADMIN_EMAIL }, detail: { name: flag.key } });
    }
    expect((await t.api('get', `${base}/${fresh.id}/`)).body.deleted).toBe(false);
  }, 60_000);

  it('shows per-flag refusals on the Clean-up page', async () => {
    const project = await createProject(t.ctx, { name: 'Clean-up refusals' });
    const base = `/api/projects/${project.id}/feature_flags`;
    const used = await apiFlag(base, { key: 'used-base', filters: { groups: [{ rollout_percentage: 100 }] } });
    await apiFlag(base, {
      key: 'uses-base',
      filters: { groups: [{ properties: [{ key: String(used.id), type: 'flag', operator: 'flag_evaluates_to', value: true }], rollout_percentage: 100 }] },
    });
    await t.sql(`update feature_flags set created_at = now() - interval '40 days' where id = $1`, [used.id]);
    await page.goto(`/project/${project.id}/cleanup`);
    await page.getByLabel('Select used-base').check();
    await page.getByRole('button', { name: 'Delete selected' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete 1' }).click();
    const refusal = page.locator('.cleanup-errors li');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('used-base: Cannot delete because other flags depend on it: uses-base');
    expect((await t.api('get', `${base}/${used.id}/`)).body.deleted).toBe(false);
  }, 60_000);

  it("My flags shows the signed-in user's values", async () => {
    const [{ distinct_id: me }] = await t.sql<{ distinct_id: string }>('select distinct_id from users where email = $1', [ADMIN_EMAIL]);
    await capture([{ event: '$set', distinct_id: me, properties: { $set: { plan: 'pro' } } }]);
    const base = '/api/projects/1/feature_flags';
    await apiFlag(base, {
      key: 'pro-features',
      filters: { groups: [{ properties: [{ key: 'plan', type: 'person', value: ['pro'] }], rollout_percentage: 100 }] },
    });
    await apiFlag(base, {
      key: 'free-features',
      filters: { groups: [{ properties: [{ key: 'plan', type: 'person', value: ['free'] }], rollout_percentage: 100 }] },
    });
    await apiFlag(base, {
      key: 'theme',
      filters: { groups: [{ rollout_percentage: 100 }], multivariate: { variants: [{ key: 'dark', rollout_percentage: 100 }] } },
    });
    const api = (await t.api('get', `${base}/my_flags`)).body as Json[];
    await page.goto('/project/1/my-flags');
    await page.locator('.my-flags-table').waitFor();
    for (const [key, shown] of [
      ['pro-features', 'true'],
      ['free-features', 'false'],
      ['theme', 'dark'],
    ]) {
      expect(api.find((e) => e.feature_flag.key === key)?.value).toBe(shown === 'true' ? true : shown === 'false' ? false : shown);
      expect(await page.locator(`tr[data-flag-key="${key}"] .cell-switch`).textContent(), key).toBe(shown);
    }
    await page.getByText(me).waitFor();
  }, 60_000);

  it('the Activity page filters by scope', async () => {
    const cohort = await t.api('post', '/api/projects/1/cohorts/').send({ name: 'Activity cohort', is_static: true, distinct_ids: [] });
    expect(cohort.status).toBe(201);
    await apiFlag('/api/projects/1/feature_flags', { key: 'activity-flag', filters: { groups: [{ rollout_percentage: 10 }] } });
    await page.goto('/project/1/activity');
    const timeline = page.locator('.timeline');
    await timeline.getByText('created the cohort Activity cohort').waitFor();
    await timeline.getByText('created the flag activity-flag').waitFor();
    await page.getByLabel('What changed').selectOption('Cohort');
    await page.waitForURL(/scope=Cohort/);
    await page.locator('.timeline').getByText('created the cohort Activity cohort').waitFor();
    await page.waitForFunction(() => !(globalThis as any).document.querySelector('.is-refreshing'));
    const text = await page.locator('.timeline').textContent();
    expect(text).not.toContain('the flag');
    const api = await t.api('get', '/api/projects/1/advanced_activity_logs/?scopes=Cohort');
    expect(await page.locator('.timeline-item').count()).toBe(Math.min(20, api.body.count));
  }, 60_000);

  it("the editor shows each condition set's blast radius, as the API counts it", async () => {
    await capture([
      { event: '$set', distinct_id: 'radius-1', properties: { $set: { country: 'FR' } } },
      { event: '$set', distinct_id: 'radius-2', properties: { $set: { country: 'FR' } } },
      { event: '$set', distinct_id: 'radius-3', properties: { $set: { country: 'DE' } } },
    ]);
    const flag = await apiFlag('/api/projects/1/feature_flags', {
      key: 'french-launch',
      filters: { groups: [{ properties: [{ key: 'country', type: 'person', operator: 'exact', value: ['FR'] }], rollout_percentage: 50 }] },
    });
    const api = await t.api('post', '/api/projects/1/feature_flags/user_blast_radius').send({
      condition: { properties: [{ key: 'country', type: 'person', operator: 'exact', value: ['FR'] }] },
    });
    expect(api.body.users_affected).toBe(2);
    const { users_affected: n, total_users: m } = api.body;
    await page.goto(`/project/1/flags/${flag.id}/edit`);
    const radius = page.locator('.blast-radius[data-state=idle]').first();
    await radius.getByText(`Affects ${n} of ${m} persons`).waitFor();
    expect(await radius.textContent()).toContain(`(${((n / m) * 100).toFixed(n / m >= 0.1 ? 0 : 1)} %), about 1 at 50 % rollout`);
  }, 60_000);
});

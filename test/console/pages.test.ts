// Every console page in Debian's Chromium: no serious or critical accessibility violations (axe-core,
// light and dark), no request to another host, and screenshots at 1440 px (light) and 390 px (dark)
// saved to test-output/console/ and checked for content (a blank or unstyled page fails).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import crypto from 'node:crypto';
import { ADMIN_EMAIL, createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { hasChromium, launchBrowser, newContext, SKIP_MESSAGE } from '../helpers/browser.ts';
import { createSetupToken, setPasswordByEmail } from '../../src/access/sign-in/accounts.ts';
import { createProject, createUser } from '../../src/access/organizations/admin.ts';
import { seedFlags, type Seeded } from './fixtures.ts';
import { checkPage } from './page-check.ts';

if (!hasChromium) console.warn(`console pages: ${SKIP_MESSAGE}`);

const PASSWORD = 'correct horse battery';

let t: TestApp;
let browser: Browser;
let signedIn: BrowserContext & { foreignRequests: string[] };
let signedOut: BrowserContext & { foreignRequests: string[] };
let page: Page;
let anonymous: Page;
let seeded: Seeded;
let emptyProjectId: number;
let resetPath: string;

/** Waits until the page shows its content (no loading state), then checks and photographs it. */
const check = checkPage;

// The walk checks what the browser renders (accessibility, screenshots), which does not depend on
// the database: it runs on the embedded one only, and the console's flows run on both.
describe.skipIf(!hasChromium || Boolean(process.env.DATABASE_URL))('every console page', () => {
  beforeAll(async () => {
    t = await createTestApp();
    seeded = await seedFlags(t);
    await setPasswordByEmail(t.ctx, ADMIN_EMAIL, PASSWORD);
    emptyProjectId = (await createProject(t.ctx, { name: 'Mobile app' })).id;
    const invited = await createUser(t.ctx, { email: 'new-admin@example.com', level: 'member' });
    resetPath = `/reset/${invited.uuid}/${await createSetupToken(t.ctx, t.ctx.db, invited)}`;
    browser = await launchBrowser();
    signedOut = await newContext(browser, t.baseUrl);
    anonymous = await signedOut.newPage();
    signedIn = await newContext(browser, t.baseUrl);
    const login = await signedIn.request.post('/api/login/', { data: { email: ADMIN_EMAIL, password: PASSWORD } });
    expect(login.status()).toBe(200);
    page = await signedIn.newPage();
  }, 120_000);
  afterAll(async () => {
    expect(signedIn?.foreignRequests ?? []).toEqual([]);
    expect(signedOut?.foreignRequests ?? []).toEqual([]);
    await browser?.close();
    await t?.close();
  });

  it('sign-in pages', async () => {
    await anonymous.goto('/login');
    await check(anonymous, 'login', 'form button[type=submit]');
    await anonymous.goto(resetPath);
    await check(anonymous, 'reset', 'text=Set password and sign in');
    await anonymous.goto('/reset/00000000-0000-0000-0000-000000000000/not-a-token');
    await check(anonymous, 'reset-invalid', 'text=This link does not work');
    await anonymous.goto('/signup/00000000-0000-0000-0000-000000000000');
    await check(anonymous, 'signup-invalid', 'text=This invite link does not work');
    const invite = await t.api('post', '/api/organizations/@current/invites/').send({ target_email: 'invitee@example.com', level: 1, first_name: 'Ivy' });
    expect(invite.status).toBe(201);
    await anonymous.goto(`/signup/${invite.body.id}`);
    await check(anonymous, 'signup', 'text=Create account');
  }, 150_000);

  it('flags list: with flags, filtered to nothing, and an empty project', async () => {
    await page.goto('/project/1/flags');
    await check(page, 'flags', '.flags-table');
    await page.goto('/project/1/flags?search=zzz-nothing');
    await check(page, 'flags-no-match', 'text=No flags match these filters');
    await page.goto(`/project/${emptyProjectId}/flags`);
    await check(page, 'flags-empty', 'text=No feature flags yet');
  }, 150_000);

  it("a flag's pages", async () => {
    const base = `/project/1/flags/${seeded.checkout.id}`;
    await page.goto(base);
    await check(page, 'flag-overview', '.condition-summary');
    await page.goto(`${base}?tab=usage`);
    await check(page, 'flag-usage', '.chart svg');
    await page.goto(`${base}?tab=history`);
    await check(page, 'flag-history', '.timeline');
    await page.goto(`${base}?tab=dependents`);
    await check(page, 'flag-dependents', 'text=checkout-upsell');
    await page.goto(`${base}?tab=test`);
    await page.getByLabel('Distinct id').fill('user-1');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await check(page, 'flag-test', '[data-testid=test-value]');
    await page.goto(`${base}?tab=code`);
    await check(page, 'flag-code', '.code-block');
    await page.goto(`/project/1/flags/${seeded.banner.id}`);
    await check(page, 'flag-cohort', '.condition-summary');
  }, 150_000);

  it('the editor: a new flag, an existing one, and one with errors', async () => {
    await page.goto('/project/1/flags/new');
    await check(page, 'editor-new', 'form.editor');
    await page.goto(`/project/1/flags/${seeded.checkout.id}/edit`);
    await check(page, 'editor-edit', '.variant-list');
    await page.goto('/project/1/flags/new');
    await page.getByLabel('Key').fill('bad key!');
    await page.getByLabel('Multiple variants').check();
    await page.getByLabel('Split').first().fill('10');
    await page.getByRole('button', { name: 'Create flag' }).click();
    await check(page, 'editor-errors', '.footer-problems');
  }, 150_000);

  it('cohorts and people: lists, a cohort of each kind, the cohort editor, a person', async () => {
    const capture = await t.http.post('/batch/').send({
      api_key: PROJECT_TOKEN,
      batch: [
        { event: '$set', distinct_id: 'ada', uuid: crypto.randomUUID(), properties: { $set: { email: 'ada@example.com', beta: 'yes', plan: 'pro' } } },
        { event: '$set', distinct_id: 'grace', uuid: crypto.randomUUID(), properties: { $set: { email: 'grace@example.com', beta: 'no' } } },
      ],
    });
    expect(capture.status).toBe(200);
    const fixed = await t.api('post', '/api/projects/1/cohorts/').send({ name: 'Design partners', is_static: true, distinct_ids: ['ada', 'grace'] });
    expect(fixed.status).toBe(201);
    const ada = (await t.api('get', '/api/projects/1/persons/?distinct_id=ada')).body.results[0];

    await page.goto('/project/1/cohorts');
    await check(page, 'cohorts', 'text=Design partners');
    await page.goto('/project/1/cohorts?search=zzz-nothing');
    await check(page, 'cohorts-no-match', 'text=No cohorts match');
    await page.goto(`/project/${emptyProjectId}/cohorts`);
    await check(page, 'cohorts-empty', 'text=No cohorts yet');
    await page.goto(`/project/1/cohorts/${seeded.cohortId}`);
    await check(page, 'cohort-dynamic', '.cards-table >> text=ada@example.com');
    await page.locator('text=promo-banner').waitFor();
    await page.goto(`/project/1/cohorts/${fixed.body.id}`);
    await check(page, 'cohort-static', '.cards-table >> text=grace@example.com');
    await page.goto(`/project/1/cohorts/${seeded.cohortId}/edit`);
    await check(page, 'cohort-edit', '.property-row');
    await page.goto('/project/1/cohorts/new');
    await page.getByRole('button', { name: 'Create cohort' }).click();
    await check(page, 'cohort-errors', '.footer-problems');
    await page.getByLabel(/^Static/).check();
    await check(page, 'cohort-new-static', 'text=Upload a CSV file');

    await page.goto('/project/1/persons');
    await check(page, 'persons', 'text=grace@example.com');
    await page.goto('/project/1/persons?search=zzz-nothing');
    await check(page, 'persons-no-match', 'text=Nobody matches');
    await page.goto(`/project/1/persons/${ada.uuid}`);
    await check(page, 'person', '[data-flag=promo-banner]');
  });

  it('flag tools: clean-up, my flags and activity', async () => {
    const stale = await createProject(t.ctx, { name: 'Stale flags' });
    const ids: number[] = [];
    for (const key of ['winter-sale', 'old-onboarding', 'beta-search']) {
      const res = await t
        .api('post', `/api/projects/${stale.id}/feature_flags/`)
        .send({ key, name: `The ${key} flag`, filters: { groups: [{ rollout_percentage: 100 }] } });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    await t.sql(`update feature_flags set created_at = now() - interval '45 days' where id = any($1::int[])`, [ids]);
    await t.sql(`update feature_flags set last_called_at = now() - interval '38 days' where id = $1`, [ids[0]]);
    await page.goto(`/project/${stale.id}/cleanup`);
    await page.getByLabel('Select winter-sale').check();
    await check(page, 'cleanup', '.cleanup-table');
    await page.goto(`/project/${emptyProjectId}/cleanup`);
    await check(page, 'cleanup-empty', 'text=No stale flags');
    await page.goto('/project/1/my-flags');
    await check(page, 'my-flags', '.my-flags-table');
    await page.goto('/project/1/activity');
    await check(page, 'activity', '.timeline');
    await page.goto('/project/1/activity?scope=Cohort&from=2001-01-01&to=2001-01-02');
    await check(page, 'activity-no-match', 'text=Nothing matches these filters');
  }, 150_000);

  it('access (members, invites, roles), personal API keys and project settings', async () => {
    const role = await t.api('post', '/api/organizations/@current/roles/').send({ name: 'Support', feature_flags_access_level: 37 });
    expect(role.status).toBe(201);
    await t
      .api('post', '/api/personal_api_keys/')
      .send({ label: 'Read flags', scopes: ['feature_flag:read', 'activity_log:read'], scoped_teams: [1] })
      .expect(201);
    await page.goto('/settings/members');
    await check(page, 'members', '.members-table');
    await page.goto('/settings/access');
    await check(page, 'access', '[data-testid=role-Support]');
    await page.goto('/settings/keys');
    await check(page, 'keys', '.keys-table');
    await page.getByLabel('Selected scopes').check();
    await check(page, 'keys-scopes', '.scope-grid');
    await page.goto('/project/1/settings');
    await check(page, 'project-settings', '[data-testid=secret-token]');
    await page.goto(`/project/1/flags/${seeded.checkout.id}?tab=access`);
    await check(page, 'flag-access', 'text=Not shared with any role');
    await page.goto('/settings/nothing-here');
    await check(page, 'not-found', 'text=This page does not exist');
  }, 150_000);
});

// Every console page in Debian's Chromium: no serious or critical accessibility violations (axe-core,
// light and dark), no request to another host, and a screenshot at 1440 and 390 px wide in light and
// dark saved to test-output/console/ and checked for content (a blank or unstyled page fails).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_EMAIL, createTestApp, type TestApp } from '../helpers/app.ts';
import { hasChromium, launchBrowser, newContext, pngContent, screenshot, seriousViolations, SKIP_MESSAGE } from '../helpers/browser.ts';
import { createSetupToken, setPasswordByEmail } from '../../src/access/sign-in/accounts.ts';
import { createProject, createUser } from '../../src/access/organizations/admin.ts';
import { seedFlags, type Seeded } from './fixtures.ts';

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
async function check(p: Page, name: string, ready: string): Promise<void> {
  await p.locator(ready).first().waitFor();
  await p.waitForFunction(() => !(globalThis as unknown as { document: { querySelector: (s: string) => unknown } }).document.querySelector('.state-loading'));
  for (const scheme of ['light', 'dark'] as const) {
    await p.setViewportSize({ width: 1440, height: 900 });
    await p.emulateMedia({ colorScheme: scheme });
    // Every rule in light; in dark only the colours change, so only contrast is checked again.
    const violations = await seriousViolations(p, scheme === 'dark' ? { only: ['color-contrast'] } : {});
    expect(violations, `${name} (${scheme}): ${JSON.stringify(violations, null, 1)}`).toEqual([]);
  }
  for (const width of [1440, 390]) {
    for (const scheme of ['light', 'dark'] as const) {
      const file = await screenshot(p, name, width, scheme);
      const content = pngContent(file);
      expect(content.width, file).toBe(width);
      // Text, borders and controls: a page with only a background scores near 0.
      expect(content.inkShare, file).toBeGreaterThan(0.003);
      expect(content.colours, file).toBeGreaterThan(30);
    }
  }
  // Nothing overflows sideways on a phone.
  await p.setViewportSize({ width: 390, height: 900 });
  const overflow = await p.evaluate(() => {
    const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
    return d.scrollWidth - d.clientWidth;
  });
  expect(overflow, `${name} is wider than a 390 px screen`).toBeLessThanOrEqual(0);
  await p.setViewportSize({ width: 1440, height: 900 });
  await p.emulateMedia({ colorScheme: 'light' });
}

describe.skipIf(!hasChromium)('every console page', () => {
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

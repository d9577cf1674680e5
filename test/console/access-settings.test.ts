// Access, personal API keys and project settings in Debian's Chromium (docs/compatibility.md#api-8.3
// to #api-8.5): an invited member who may edit only the flag shared with their role, and sees why
// the others are read-only; a key created, rolled and revoked in the console and used as curl would;
// the secret token rotated in the console while a real posthog-node keeps evaluating locally on the
// backup until the backup is deleted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_EMAIL, PROJECT_TOKEN, SECRET_TOKEN, createTestApp, type TestApp } from '../helpers/app.ts';
import { hasChromium, launchBrowser, newContext, SKIP_MESSAGE } from '../helpers/browser.ts';
import { createFlag, eventually, sdkClient } from '../helpers/sdk.ts';
import { setPasswordByEmail } from '../../src/access/sign-in/accounts.ts';
import { userWithPassword } from '../helpers/session.ts';
import { checkPage } from './page-check.ts';

if (!hasChromium) console.warn(`console access and settings: ${SKIP_MESSAGE}`);

const PASSWORD = 'correct horse battery';

let t: TestApp;
let browser: Browser;
let admin: BrowserContext & { foreignRequests: string[] };
let page: Page;

const curl = (path: string, key: string, init: RequestInit = {}) =>
  fetch(`${t.baseUrl}${path}`, { ...init, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) } });

async function confirm(p: Page, label: string): Promise<void> {
  await p.getByRole('dialog').getByRole('button', { name: label }).click();
  await p.getByRole('dialog').waitFor({ state: 'detached' });
}

// The console's flows run on the embedded database only: what they check is the browser's side;
// the API beneath them runs on PostgreSQL in its own tests (CI time, docs/architecture.md#console).
const ON_POSTGRES = Boolean(process.env.DATABASE_URL);
describe.skipIf(!hasChromium || ON_POSTGRES)('access and settings in the console', () => {
  beforeAll(async () => {
    t = await createTestApp();
    await setPasswordByEmail(t.ctx, ADMIN_EMAIL, PASSWORD);
    browser = await launchBrowser();
    admin = await newContext(browser, t.baseUrl);
    const login = await admin.request.post('/api/login/', { data: { email: ADMIN_EMAIL, password: PASSWORD } });
    expect(login.status()).toBe(200);
    page = await admin.newPage();
  }, 60_000);
  afterAll(async () => {
    expect(admin?.foreignRequests ?? []).toEqual([]);
    await browser?.close();
    await t?.close();
  });

  it('an invited member edits only the flag shared with their role, and is told why the others are read-only', async () => {
    const shared = await createFlag(t, { key: 'shared-with-editors', filters: { groups: [{ rollout_percentage: 100 }] } });
    const other = await createFlag(t, { key: 'admins-only', filters: { groups: [{ rollout_percentage: 100 }] } });

    // Invite, and the invitee signs up in a context of their own.
    await page.goto('/settings/access');
    await page.getByLabel('Email').fill('ria@example.com');
    await page.getByLabel('First name (optional)').fill('Ria');
    await page.getByRole('button', { name: 'Create invite link' }).click();
    const link = (await page.getByTestId('invite-link').textContent())!;
    const memberContext = await newContext(browser, t.baseUrl);
    const member = await memberContext.newPage();
    await member.goto(link);
    await member.getByLabel('Password').fill('a long enough password');
    await member.getByRole('button', { name: 'Create account' }).click();
    await member.waitForURL(/\/project\/1\/flags$/);

    // Members may only view flags; a role (itself "can only view") gets the one flag.
    await page.reload();
    await page.getByLabel('Members (not admins) and feature flags').selectOption('21');
    await page.getByLabel('Role name').fill('Editors');
    await page.getByRole('button', { name: 'Create role' }).click();
    await page.getByTestId('role-Editors').waitFor();
    await page.getByLabel('Add a member to Editors').selectOption({ label: 'Ria (ria@example.com)' });
    await page.getByRole('button', { name: 'Remove Ria from Editors' }).waitFor();
    await page.goto(`/project/1/flags/${shared.id}?tab=access`);
    await page.getByLabel('Share with a role').selectOption({ label: 'Editors' });
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    await page.getByRole('button', { name: 'Stop sharing with Editors' }).waitFor();

    // The member: the shared flag is editable, the other read-only with the reason.
    await member.goto(`/project/1/flags/${other.id}`);
    const reason = member.getByTestId('read-only-reason');
    await reason.getByText('This flag is not shared with any role; your roles are Editors.').waitFor();
    expect(await reason.textContent()).toContain('You can view this flag but not change it.');
    expect(await member.getByRole('button', { name: 'Edit' }).isDisabled()).toBe(true);
    expect(await member.getByRole('switch').isDisabled()).toBe(true);
    expect(await member.getByRole('button', { name: 'Delete' }).isDisabled()).toBe(true);
    await checkPage(member, 'flag-read-only', '[data-testid=read-only-reason] >> text=your roles are Editors');
    await member.goto(`/project/1/flags/${other.id}/edit`);
    await member.getByTestId('read-only-reason').waitFor();
    expect(await member.getByRole('button', { name: 'Save changes' }).isDisabled()).toBe(true);
    await member.goto(`/project/1/flags/${shared.id}`);
    await member.getByRole('link', { name: 'Edit' }).waitFor();
    expect(await member.getByTestId('read-only-reason').count()).toBe(0);
    expect(await member.getByRole('switch').isDisabled()).toBe(false);
    // What the API says matches what the page shows.
    const flags = (await member.evaluate(async () => (await fetch('/api/projects/1/feature_flags/?limit=100')).json())) as {
      results: Array<{ key: string; can_edit: boolean }>;
    };
    const editable = flags.results.filter((f) => f.can_edit).map((f) => f.key);
    expect(editable).toEqual(['shared-with-editors']);
    // The member's own Access page says what they may do.
    await member.goto('/settings/access');
    await member.getByTestId('flag-rights').getByText('the flags shared with your roles (Editors)').waitFor();
    await member.getByTestId('members-reason').waitFor();
    await checkPage(member, 'access-member', '[data-testid=flag-rights]');
    await member.goto('/project/1/settings');
    await member.getByTestId('tokens-reason').waitFor();
    expect(await member.getByRole('button', { name: 'Rotate secret token' }).isDisabled()).toBe(true);

    // Made an admin in the console, the member may edit every flag.
    await page.goto('/settings/access');
    await page.getByLabel('Level of Ria').selectOption({ label: 'Admin' });
    const riaLevel = async () =>
      (await t.api('get', '/api/organizations/@current/members/')).body.results.find((m: { user: { email: string } }) => m.user.email === 'ria@example.com')
        .level;
    expect(await eventually(async () => (await riaLevel()) === 8)).toBe(true);
    await member.goto(`/project/1/flags/${other.id}`);
    await member.getByRole('link', { name: 'Edit' }).waitFor();
    expect(await member.getByTestId('read-only-reason').count()).toBe(0);
    await memberContext.close();
  }, 90_000);

  it('a key created in the console works from curl, is rolled, and is refused once revoked', async () => {
    await page.goto('/settings/keys');
    await page.getByLabel('Label').fill('deploy script');
    await page.getByLabel('Selected scopes').check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const value = (await page.getByTestId('key-value').textContent())!;
    expect(value).toMatch(/^phx_/);
    const row = page.getByRole('row', { name: /deploy script/ });
    await row.getByText('feature flag: read').waitFor();
    expect((await curl('/api/projects/1/feature_flags/', value)).status).toBe(200);
    const write = await curl('/api/projects/1/feature_flags/', value, { method: 'POST', body: JSON.stringify({ key: 'from-curl' }) });
    expect(write.status).toBe(403);

    await page.getByRole('button', { name: 'Roll deploy script' }).click();
    await confirm(page, 'Roll key');
    await page.getByText('rolled: the old value no longer works').waitFor();
    const rolled = (await page.getByTestId('key-value').textContent())!;
    expect(rolled).not.toBe(value);
    expect((await curl('/api/projects/1/feature_flags/', value)).status).toBe(401);
    expect((await curl('/api/projects/1/feature_flags/', rolled)).status).toBe(200);

    await page.getByRole('button', { name: 'Revoke deploy script' }).click();
    await confirm(page, 'Revoke key');
    await row.waitFor({ state: 'detached' });
    const refused = await curl('/api/projects/1/feature_flags/', rolled);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'authentication_failed' });
  }, 60_000);

  it('rotating the secret token in the console: posthog-node keeps working on the backup until it is deleted', async () => {
    await createFlag(t, { key: 'before-rotation', filters: { groups: [{ rollout_percentage: 100 }] } });
    const sdk = sdkClient(t, { secretKey: SECRET_TOKEN, personalApiKey: undefined });
    try {
      const local = { onlyEvaluateLocally: true };
      expect(await sdk.client.waitForLocalEvaluationReady(10_000)).toBe(true);
      expect(await sdk.client.getFeatureFlag('before-rotation', 'u1', local)).toBe(true);

      await page.goto('/project/1/settings');
      expect(await page.getByTestId('secret-token').textContent()).toBe(SECRET_TOKEN);
      await page.getByRole('button', { name: 'Rotate secret token' }).click();
      await confirm(page, 'Rotate secret token');
      await page.getByTestId('secret-token-backup').getByText(SECRET_TOKEN).waitFor();
      const fresh = (await page.getByTestId('secret-token').textContent())!;
      expect(fresh).not.toBe(SECRET_TOKEN);
      await checkPage(page, 'project-settings', '[data-testid=secret-token-backup]');

      // The SDK, still on the old secret, loads definitions changed after the rotation.
      await createFlag(t, { key: 'after-rotation', filters: { groups: [{ rollout_percentage: 100 }] } });
      await sdk.client.reloadFeatureFlags();
      expect(await sdk.client.getFeatureFlag('after-rotation', 'u1', local)).toBe(true);
      expect(sdk.errors).toEqual([]);

      await page.getByRole('button', { name: 'Delete backup' }).click();
      await confirm(page, 'Delete backup');
      await page.getByTestId('secret-token-backup').waitFor({ state: 'detached' });
      await createFlag(t, { key: 'after-backup-deleted', filters: { groups: [{ rollout_percentage: 100 }] } });
      await sdk.client.reloadFeatureFlags();
      expect(await eventually(() => sdk.errors.length > 0)).toBe(true);
      expect(sdk.errors.map(String).join()).toMatch(/invalid/i);
      expect(await sdk.client.getFeatureFlag('after-backup-deleted', 'u1', local)).toBeUndefined();

      // A client given the new secret works, and so do browsers on the unchanged project token.
      const renewed = sdkClient(t, { secretKey: fresh, personalApiKey: undefined });
      try {
        expect(await renewed.client.waitForLocalEvaluationReady(10_000)).toBe(true);
        expect(await renewed.client.getFeatureFlag('after-backup-deleted', 'u1', local)).toBe(true);
      } finally {
        await renewed.client.shutdown();
      }
      expect((await fetch(`${t.baseUrl}/flags/?v=2`, { method: 'POST', body: JSON.stringify({ token: PROJECT_TOKEN, distinct_id: 'u1' }) })).status).toBe(200);
    } finally {
      await sdk.client.shutdown();
    }
  }, 60_000);

  it('a member creates an organization of their own, lands in its project, and switches back from the account menu', async () => {
    await userWithPassword(t, 'founder@example.com', PASSWORD, 'member');
    const context = await newContext(browser, t.baseUrl);
    try {
      expect((await context.request.post('/api/login/', { data: { email: 'founder@example.com', password: PASSWORD } })).status()).toBe(200);
      const p = await context.newPage();
      await p.goto('/project/1/settings');
      await p.getByTestId('create-project-reason').waitFor();
      await p.getByLabel('Organization name').fill('Side project');
      await p.getByRole('button', { name: 'Create organization' }).click();
      await p.locator('.org-name', { hasText: 'Side project' }).waitFor();
      expect(p.url()).toMatch(/\/project\/\d+\/settings$/);
      expect(p.url()).not.toMatch(/\/project\/1\//);
      await p.locator('.menu-trigger').click();
      await p.getByRole('button', { name: 'Switch to Default' }).click();
      await p.waitForURL(/\/project\/1\/flags$/);
      await p.locator('.org-name', { hasText: 'Default' }).waitFor();
    } finally {
      await context.close();
    }
  }, 60_000);
});

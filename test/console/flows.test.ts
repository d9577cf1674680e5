// The console in Debian's Chromium, end to end over a real socket: signing in, creating a
// multivariate flag with two condition sets and payloads, editing it, the version conflict between
// two browser contexts, toggling, soft delete and restore, its history, "test a user", CSRF and
// logout refusals. One browser for the file; each user gets a context.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_EMAIL, createTestApp, type TestApp } from '../helpers/app.ts';
import { hasChromium, launchBrowser, newContext, SKIP_MESSAGE } from '../helpers/browser.ts';
import { setPasswordByEmail } from '../../src/access/sign-in/accounts.ts';
import { createUser } from '../../src/access/organizations/admin.ts';

if (!hasChromium) console.warn(`console flows: ${SKIP_MESSAGE}`);

const PASSWORD = 'correct horse battery';
const EDITOR = 'editor@example.com';

let t: TestApp;
let browser: Browser;
let admin: BrowserContext & { foreignRequests: string[] };
/** The admin's signed-in page, shared by the tests that work on flags. */
let page: Page;

async function signIn(context: BrowserContext, email: string): Promise<Page> {
  const p = await context.newPage();
  await p.goto('/login');
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(PASSWORD);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForURL(/\/project\/1\/flags$/);
  return p;
}

const flagById = async (id: number) => (await t.api('get', `/api/projects/1/feature_flags/${id}/`)).body;

/** A flag made through the API; its id. */
async function apiFlag(body: Record<string, unknown>): Promise<number> {
  const res = await t.api('post', '/api/projects/1/feature_flags/').send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** What the page-creation test makes: two condition sets, two variants with payloads. */
const CHECKOUT_FILTERS = {
  groups: [
    { properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@example.com' }], rollout_percentage: 100, variant: null },
    { properties: [{ key: '$app_version', type: 'person', operator: 'semver_gte', value: '2.1.0' }], rollout_percentage: 30, variant: 'redesign' },
  ],
  multivariate: {
    variants: [
      { key: 'control', rollout_percentage: 70 },
      { key: 'redesign', rollout_percentage: 30 },
    ],
  },
  payloads: { control: { color: 'grey' }, redesign: { color: 'blue' } },
};

// The console's flows run on the embedded database only: what they check is the browser's side;
// the API beneath them runs on PostgreSQL in its own tests (CI time, docs/architecture.md#console).
const ON_POSTGRES = Boolean(process.env.DATABASE_URL);
describe.skipIf(!hasChromium || ON_POSTGRES)('the console in a browser', () => {
  beforeAll(async () => {
    t = await createTestApp();
    await setPasswordByEmail(t.ctx, ADMIN_EMAIL, PASSWORD);
    await createUser(t.ctx, { email: EDITOR, level: 'member', firstName: 'Eddie' });
    await setPasswordByEmail(t.ctx, EDITOR, PASSWORD);
    browser = await launchBrowser();
    admin = await newContext(browser, t.baseUrl);
    page = await signIn(admin, ADMIN_EMAIL);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('sends a signed-out visitor to the sign-in page and back, with the keyboard alone', async () => {
    const visitor = await newContext(browser, t.baseUrl);
    const page = await visitor.newPage();
    await page.goto('/project/1/flags?type=boolean');
    await page.waitForURL(/\/login\?next=/);
    // The email field has focus; Tab moves to the password; Enter submits.
    await page.keyboard.type(ADMIN_EMAIL);
    await page.keyboard.press('Tab');
    await page.keyboard.type('wrong password');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Invalid email or password.');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/project\/1\/flags\?type=boolean$/);
    await expect.poll(() => page.locator('.topbar').textContent()).toContain('Default');
    expect(await page.getByLabel('Project').inputValue()).toBe('1');
    // The list has loaded: the boolean flags other tests made, or the empty state of either kind.
    await page
      .getByRole('table')
      .or(page.getByRole('button', { name: 'Clear filters' }))
      .or(page.getByRole('link', { name: 'Create your first flag' }))
      .first()
      .waitFor();
    await visitor.close();
  }, 90_000);

  it('creates a multivariate flag with two condition sets and payloads, checking input as it is typed', async () => {
    await page.goto('/project/1/flags/new');
    const key = page.getByLabel('Key');
    await key.fill('new checkout');
    await expect.poll(() => page.getByText('Only letters, numbers, hyphens (-) & underscores (_) are allowed.').count()).toBe(1);
    await key.fill('new-checkout');
    await page.getByLabel('Description', { exact: true }).fill('The redesigned checkout');
    await page.getByLabel('Tags', { exact: true }).fill('checkout');
    await page.keyboard.press('Enter');
    await page.getByLabel('Multiple variants').check();
    await page.getByLabel('Variant 2 key').fill('redesign');
    const payload = page.getByLabel('Payload for redesign (optional JSON)');
    await payload.fill('{"color": blue}');
    await expect.poll(() => page.getByText("Invalid JSON: Unexpected token 'b'").count()).toBe(1);
    await payload.fill('{"color": "blue"}');
    await page.getByLabel('Payload for control (optional JSON)').fill('{"color": "grey"}');
    // Split 70/20 first: the total is shown as wrong and saving is refused in the page.
    await page.getByLabel('Split').first().fill('70');
    await page.getByLabel('Split').nth(1).fill('20');
    await expect.poll(() => page.locator('#variant-sum').textContent()).toContain('must total 100');
    await page.getByLabel('Split').nth(1).fill('30');

    const first = page.getByRole('region', { name: 'Condition set 1' });
    await first.getByRole('button', { name: '+ Add filter' }).click();
    await first.getByLabel('Property name').fill('email');
    await first.getByLabel('Operator').selectOption('icontains');
    await first.getByLabel('Value').fill('@example.com');
    await page.getByRole('button', { name: '+ Add condition set' }).click();
    const second = page.getByRole('region', { name: 'Condition set 2' });
    await second.getByRole('button', { name: '+ Add filter' }).click();
    await second.getByLabel('Property name').fill('$app_version');
    await second.getByLabel('Operator').selectOption('semver_gte');
    await second.getByLabel('Value').fill('2.x');
    await expect.poll(() => second.getByText('Use a semantic version, like 1.4.2.').count()).toBe(1);
    await second.getByLabel('Value').fill('2.1.0');
    await second.getByLabel('Roll out to').fill('30');
    await second.getByLabel('Variant for this set').selectOption('redesign');
    await page.getByRole('button', { name: 'Create flag' }).click();
    await page.waitForURL(/\/project\/1\/flags\/\d+$/);
    const flagId = Number(/flags\/(\d+)$/.exec(page.url())![1]);

    const flag = await flagById(flagId);
    expect(flag).toMatchObject({ key: 'new-checkout', name: 'The redesigned checkout', tags: ['checkout'], active: true, version: 1 });
    expect(flag.filters.multivariate.variants).toEqual([
      { key: 'control', rollout_percentage: 70 },
      { key: 'redesign', rollout_percentage: 30 },
    ]);
    expect(flag.filters.groups).toMatchObject([
      { properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@example.com' }], rollout_percentage: 100, variant: null },
      { properties: [{ key: '$app_version', type: 'person', operator: 'semver_gte', value: '2.1.0' }], rollout_percentage: 30, variant: 'redesign' },
    ]);
    expect(JSON.parse(flag.filters.payloads.redesign)).toEqual({ color: 'blue' });
    expect(JSON.parse(flag.filters.payloads.control)).toEqual({ color: 'grey' });
    await expect.poll(() => page.locator('.condition-summary').textContent()).toContain('@example.com');
  }, 90_000);

  it("puts the API's validation error next to the field its attr names", async () => {
    await apiFlag({ key: 'taken-key', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    await page.goto('/project/1/flags/new');
    await page.getByLabel('Key').fill('taken-key');
    await page.getByRole('button', { name: 'Create flag' }).click();
    const keyField = page.locator('.field', { has: page.getByLabel('Key') });
    await expect.poll(() => keyField.locator('.error-text').textContent()).toBe('There is already a feature flag with this key.');
    expect(await page.getByLabel('Key').getAttribute('aria-invalid')).toBe('true');
  }, 90_000);

  it('shows what changed when two people save the same flag, and re-applies on request', async () => {
    const flagId = await apiFlag({ key: 'edited-twice', filters: CHECKOUT_FILTERS });
    const editor = await newContext(browser, t.baseUrl);
    const other = await signIn(editor, EDITOR);
    await page.goto(`/project/1/flags/${flagId}/edit`);
    await other.goto(`/project/1/flags/${flagId}/edit`);
    await other.getByLabel('Description', { exact: true }).fill('Changed by the editor');
    await other.getByRole('button', { name: 'Save changes' }).click();
    await other.waitForURL(new RegExp(`/flags/${flagId}$`));

    await page.getByLabel('Description', { exact: true }).fill('Changed by the admin');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const dialog = page.getByRole('dialog', { name: 'This flag was changed while you were editing' });
    await dialog.waitFor();
    const text = await dialog.textContent();
    expect(text).toContain('Eddie saved version 2 after you opened version 1');
    expect(text).toContain('Changed by the editor');
    expect(text).toContain('Your changesDescription');
    expect((await flagById(flagId)).name).toBe('Changed by the editor');
    await dialog.getByRole('button', { name: 'Re-apply my changes' }).click();
    await page.waitForURL(new RegExp(`/flags/${flagId}$`));
    expect(await flagById(flagId)).toMatchObject({ name: 'Changed by the admin', version: 3 });
    await editor.close();
  }, 90_000);

  it('asks before disabling a flag, naming it, then disables it', async () => {
    const flagId = await apiFlag({ key: 'switched', filters: CHECKOUT_FILTERS });
    await page.goto('/project/1/flags?search=switched');
    await page.getByRole('switch', { name: 'Disable switched' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable this flag?' });
    expect(await dialog.textContent()).toContain('switched');
    await dialog.getByRole('button', { name: 'Disable switched' }).click();
    await page.getByRole('switch', { name: 'Enable switched' }).waitFor();
    expect((await flagById(flagId)).active).toBe(false);
    await page.getByRole('switch', { name: 'Enable switched' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Enable switched' }).click();
    await page.getByRole('switch', { name: 'Disable switched' }).waitFor();
    expect((await flagById(flagId)).active).toBe(true);
  }, 90_000);

  it('deletes the flag softly and restores it', async () => {
    const flagId = await apiFlag({ key: 'deleted-and-back', filters: CHECKOUT_FILTERS });
    await page.goto(`/project/1/flags/${flagId}`);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete deleted-and-back' }).click();
    await page.getByText('This flag is deleted').waitFor();
    expect((await flagById(flagId)).deleted).toBe(true);
    await page.getByRole('button', { name: 'Restore' }).click();
    await page.getByRole('button', { name: 'Delete', exact: true }).waitFor();
    expect((await flagById(flagId)).deleted).toBe(false);
  }, 90_000);

  it('reads the history with field-level before and after', async () => {
    const flagId = await apiFlag({ key: 'with-history', filters: CHECKOUT_FILTERS });
    for (const change of [{ name: 'Changed by the editor' }, { name: 'Changed by the admin' }, { deleted: true }, { deleted: false }]) {
      expect((await t.api('patch', `/api/projects/1/feature_flags/${flagId}/`).send(change)).status).toBe(200);
    }
    await page.goto(`/project/1/flags/${flagId}`);
    await page.getByRole('tab', { name: 'History' }).click();
    const history = page.locator('.timeline');
    await history.getByText('restored the flag').waitFor();
    const text = await history.textContent();
    for (const phrase of ['restored the flag', 'deleted the flag', 'updated the flag', 'created the flag']) expect(text).toContain(phrase);
    const nameChange = page.locator('.change', { hasText: 'Changed by the admin' }).first();
    expect(await nameChange.locator('.diff-before').textContent()).toBe('Changed by the editor');
    expect(await nameChange.locator('.diff-after').textContent()).toBe('Changed by the admin');
  }, 90_000);

  it('tests a user: the value and the reason for this flag', async () => {
    const flagId = await apiFlag({ key: 'tested', filters: CHECKOUT_FILTERS });
    await page.goto(`/project/1/flags/${flagId}`);
    await page.getByRole('tab', { name: 'Test a user' }).click();
    await page.getByLabel('Distinct id').fill('someone-1');
    await page.getByLabel('Person properties (JSON object)').fill('{"email": "ann@example.com"}');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await page.getByTestId('test-value').waitFor();
    expect(['control', 'redesign']).toContain(await page.getByTestId('test-value').textContent());
    expect(await page.getByTestId('test-reason').textContent()).toContain('condition_match');
    await page.getByLabel('Person properties (JSON object)').fill('{"email": "ann@elsewhere.org", "$app_version": "1.0.0"}');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await expect.poll(() => page.getByTestId('test-value').textContent()).toBe('false');
    expect(await page.getByTestId('test-reason').textContent()).toContain('no_condition_match');
    expect(admin.foreignRequests).toEqual([]);
  }, 90_000);

  it('refuses a write from the page without the CSRF header, and accepts it with the header', async () => {
    await page.goto('/project/1/flags');
    const attempt = (withToken: boolean) =>
      page.evaluate(async (withToken) => {
        const token = /csrftoken=([^;]+)/.exec((globalThis as unknown as { document: { cookie: string } }).document.cookie)?.[1] ?? '';
        const res = await fetch('/api/projects/1/feature_flags/', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', ...(withToken ? { 'X-CSRFToken': token } : {}) },
          body: JSON.stringify({ key: withToken ? 'csrf-ok' : 'csrf-refused' }),
        });
        return { status: res.status, body: await res.json() };
      }, withToken);
    expect(await attempt(false)).toEqual({
      status: 403,
      body: { type: 'authentication_error', code: 'permission_denied', detail: 'CSRF Failed: CSRF token missing.', attr: null },
    });
    expect((await attempt(true)).status).toBe(201);
    const keys = (await t.api('get', '/api/projects/1/feature_flags/?search=csrf').expect(200)).body.results.map((f: { key: string }) => f.key);
    expect(keys).toEqual(['csrf-ok']);
  }, 90_000);

  it('invites a member from the Members page; the invitee opens the link, chooses a password and is signed in', async () => {
    await page.goto('/settings/members');
    await page.getByLabel('Email').fill('newcomer@example.com');
    await page.getByLabel('First name (optional)').fill('Nina');
    await page.getByRole('button', { name: 'Create invite link' }).click();
    const link = (await page.getByTestId('invite-link').textContent())!;
    expect(link).toMatch(new RegExp(`^${t.baseUrl}/signup/[0-9a-f-]+$`));
    await page.getByRole('region', { name: 'Pending invites' }).getByText('newcomer@example.com').waitFor();

    const invitee = await newContext(browser, t.baseUrl);
    const p = await invitee.newPage();
    await p.goto(link);
    await p.getByRole('heading', { name: 'Join Default' }).waitFor();
    expect(await p.getByLabel('First name').inputValue()).toBe('Nina');
    await p.getByLabel('Password').fill('short');
    await p.getByRole('button', { name: 'Create account' }).click();
    await p.getByText('Use at least 8 characters.').first().waitFor();
    await p.getByLabel('Password').fill('a long enough password');
    await p.getByRole('button', { name: 'Create account' }).click();
    await p.waitForURL(/\/project\/1\/flags$/);
    expect(await p.locator('.menu-name').textContent()).toBe('Nina');
    // Used once: the link no longer works.
    await p.goto(link);
    await p.getByText('This invite link does not work').waitFor();
    await invitee.close();
  }, 90_000);

  it('ends the session on sign out: the old cookie is refused and the pages ask to sign in', async () => {
    // A session of its own: the other tests keep theirs.
    const leaving = await newContext(browser, t.baseUrl);
    const page = await signIn(leaving, ADMIN_EMAIL);
    const sessionid = (await leaving.cookies()).find((c) => c.name === 'sessionid')!.value;
    const before = await fetch(`${t.baseUrl}/api/users/@me/`, { headers: { cookie: `sessionid=${sessionid}` } });
    expect(before.status).toBe(200);
    await page.goto('/project/1/flags');
    await page.locator('.menu-trigger').click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login$/);
    const after = await fetch(`${t.baseUrl}/api/users/@me/`, { headers: { cookie: `sessionid=${sessionid}` } });
    expect(after.status).toBe(401);
    await page.goto('/project/1/flags');
    await page.waitForURL(/\/login\?next=/);
    await leaving.close();
  }, 90_000);
});

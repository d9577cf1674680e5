// Cohorts and people in Debian's Chromium, over a real socket: a dynamic cohort built in the
// console (two groups, a nested static cohort) and used by a flag made in the console, checked
// with /flags for persons in and out of it; a static cohort from an uploaded CSV and its members,
// then more from pasted distinct ids;
// the soft delete refused while a flag uses the cohort; looking a person up and reading their flag
// values with reasons; deleting a person. Each test makes the data it reads, so the order is free.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_EMAIL, createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { hasChromium, launchBrowser, newContext, SKIP_MESSAGE } from '../helpers/browser.ts';
import { setPasswordByEmail } from '../../src/access/sign-in/accounts.ts';

if (!hasChromium) console.warn(`console cohorts and people: ${SKIP_MESSAGE}`);

const PASSWORD = 'correct horse battery';
type Json = Record<string, any>;

let t: TestApp;
let browser: Browser;
let context: BrowserContext & { foreignRequests: string[] };
let page: Page;

async function capture(people: Array<[string, Json]>): Promise<void> {
  const batch = people.map(([distinct_id, $set]) => ({ event: '$set', distinct_id, uuid: crypto.randomUUID(), properties: { $set } }));
  expect((await t.http.post('/batch/').send({ api_key: PROJECT_TOKEN, batch })).status).toBe(200);
}

async function apiPost(path: string, body: Json): Promise<Json> {
  const res = await t.api('post', `/api/projects/1/${path}`).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** The value /flags (as an SDK asks) gives this distinct id for a flag. */
async function flagValue(distinctId: string, key: string): Promise<unknown> {
  const res = await t.http.post('/flags/?v=2').send({ api_key: PROJECT_TOKEN, distinct_id: distinctId });
  expect(res.status).toBe(200);
  const flag = res.body.flags[key];
  return flag.variant ?? flag.enabled;
}

// The console's flows run on the embedded database only: what they check is the browser's side;
// the API beneath them runs on PostgreSQL in its own tests (CI time, docs/architecture.md#console).
const ON_POSTGRES = Boolean(process.env.DATABASE_URL);
describe.skipIf(!hasChromium || ON_POSTGRES)('cohorts and people in the console', () => {
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

  it('builds a dynamic cohort with a nested static cohort, targets it from a flag, and /flags follows it', async () => {
    const vip = await apiPost('cohorts/', { name: 'VIP list', is_static: true, distinct_ids: ['vip-1'] });
    await capture([
      ['pro-acme', { plan: 'pro', email: 'ann@acme.com' }],
      ['free-acme', { plan: 'free', email: 'bob@acme.com' }],
      ['pro-other', { plan: 'pro', email: 'cy@other.org' }],
    ]);

    await page.goto('/project/1/cohorts');
    await page.getByRole('link', { name: 'New cohort' }).first().click();
    await page.getByLabel('Name', { exact: true }).fill('Acme pros');
    await page.getByLabel('Match all or any groups').selectOption('OR');
    const first = page.getByRole('region', { name: 'Group 1' });
    await first.getByLabel('Property name').fill('plan');
    await first.getByLabel('Values (press Enter after each)').fill('pro');
    await page.keyboard.press('Enter');
    await first.getByRole('button', { name: '+ Add condition' }).click();
    const email = first.getByRole('group', { name: 'Filter 2' });
    await email.getByLabel('Property name').fill('email');
    await email.getByLabel('Operator').selectOption('ends_with');
    await email.getByLabel('Value').fill('@acme.com');
    await page.getByRole('button', { name: '+ Add group' }).click();
    const second = page.getByRole('region', { name: 'Group 2' });
    await second.getByLabel('Filter on').selectOption('cohort');
    await second.getByLabel('Cohort').selectOption({ label: 'VIP list' });
    await page.getByRole('button', { name: 'Create cohort' }).click();
    await page.waitForURL(/\/project\/1\/cohorts\/\d+$/);
    const cohortId = Number(/cohorts\/(\d+)$/.exec(page.url())![1]);

    const stored = (await t.api('get', `/api/projects/1/cohorts/${cohortId}/`)).body;
    expect(stored).toMatchObject({ name: 'Acme pros', is_static: false });
    expect(stored.filters.properties).toMatchObject({
      type: 'OR',
      values: [
        {
          type: 'AND',
          values: [
            { type: 'person', key: 'plan', operator: 'exact', value: ['pro'] },
            { type: 'person', key: 'email', operator: 'ends_with', value: '@acme.com' },
          ],
        },
        { type: 'AND', values: [{ type: 'cohort', key: 'id', value: vip.id, negation: false }] },
      ],
    });
    // The members, from the cohort persons endpoint: the Acme pro and the VIP.
    const members = page.locator('.cards-table');
    await members.getByText('ann@acme.com').waitFor();
    await members.getByText('vip-1').first().waitFor();
    expect(await members.textContent()).not.toContain('bob@acme.com');

    await page.goto('/project/1/flags/new');
    await page.getByLabel('Key').fill('acme-pro-feature');
    const set = page.getByRole('region', { name: 'Condition set 1' });
    await set.getByRole('button', { name: '+ Add filter' }).click();
    await set.getByLabel('Filter on').selectOption('cohort');
    await set.getByLabel('Cohort').selectOption({ label: 'Acme pros' });
    await page.getByRole('button', { name: 'Create flag' }).click();
    await page.waitForURL(/\/project\/1\/flags\/\d+$/);

    expect(await flagValue('pro-acme', 'acme-pro-feature')).toBe(true);
    expect(await flagValue('vip-1', 'acme-pro-feature')).toBe(true);
    expect(await flagValue('free-acme', 'acme-pro-feature')).toBe(false);
    expect(await flagValue('pro-other', 'acme-pro-feature')).toBe(false);

    // The cohort page names the flag that uses it.
    await page.goto(`/project/1/cohorts/${cohortId}`);
    await page.getByRole('region', { name: 'Used by flags' }).getByRole('link', { name: 'acme-pro-feature' }).waitFor();
    // So does the static cohort nested in it: deleting it would change the flag too.
    await page.goto(`/project/1/cohorts/${vip.id}`);
    await page.getByRole('region', { name: 'Used by flags' }).getByRole('link', { name: 'acme-pro-feature' }).waitFor();
  }, 60_000);

  it('makes a static cohort from an uploaded CSV and lists its members', async () => {
    await page.goto('/project/1/cohorts/new');
    await page.getByLabel('Name', { exact: true }).fill('From a spreadsheet');
    await page.getByLabel(/^Static/).check();
    await page
      .getByLabel('CSV file', { exact: true })
      .setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from('distinct_id,plan\ncsv-ada,pro\ncsv-bo,free\n') });
    await page.getByRole('button', { name: 'Create cohort' }).click();
    await page.waitForURL(/\/project\/1\/cohorts\/\d+$/);
    const cohortId = Number(/cohorts\/(\d+)$/.exec(page.url())![1]);
    expect((await t.api('get', `/api/projects/1/cohorts/${cohortId}/`)).body).toMatchObject({ name: 'From a spreadsheet', is_static: true, count: 2 });
    const members = page.locator('.cards-table');
    await members.getByText('csv-ada').first().waitFor();
    await members.getByText('csv-bo').first().waitFor();
    await expect.poll(() => page.getByText('2 persons, newest first.').count()).toBe(1);

    // More persons, pasted as distinct ids while editing: the ones already in stay.
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Paste distinct ids').check();
    await page.getByLabel('Distinct ids', { exact: true }).fill('csv-cy\ncsv-dee, csv-ada');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(new RegExp(`/cohorts/${cohortId}$`));
    await expect.poll(() => page.getByText('4 persons, newest first.').count()).toBe(1);
    expect((await t.api('get', `/api/projects/1/cohorts/${cohortId}/`)).body.count).toBe(4);

    // A CSV the API refuses: its message shows beside the file field.
    await page.goto('/project/1/cohorts/new');
    await page.getByLabel('Name', { exact: true }).fill('Bad file');
    await page.getByLabel(/^Static/).check();
    await page.getByLabel('CSV file', { exact: true }).setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('name,plan\nAda,pro\n') });
    await page.getByRole('button', { name: 'Create cohort' }).click();
    const field = page.locator('.field', { has: page.getByLabel('CSV file', { exact: true }) });
    await expect
      .poll(() => field.locator('.error-text').textContent())
      .toContain('Multi-column CSV must contain at least one column with a supported ID header');
  }, 60_000);

  it("refuses to delete a cohort a flag uses, with the API's message, and deletes an unused one", async () => {
    const used = await apiPost('cohorts/', {
      name: 'Used cohort',
      filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [{ type: 'person', key: 'x', operator: 'exact', value: ['1'] }] }] } },
    });
    await apiPost('feature_flags/', {
      key: 'uses-cohort',
      filters: { groups: [{ properties: [{ type: 'cohort', key: 'id', value: used.id }], rollout_percentage: 100 }] },
    });
    await page.goto(`/project/1/cohorts/${used.id}`);
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this cohort?' });
    expect(await dialog.textContent()).toContain('Used cohort');
    await dialog.getByRole('button', { name: 'Delete Used cohort' }).click();
    await expect
      .poll(() => dialog.getByRole('alert').textContent())
      .toBe('This cohort is used in 1 active feature flag(s): uses-cohort. Please remove the cohort from these feature flags before deleting it.');
    expect((await t.api('get', `/api/projects/1/cohorts/${used.id}/`)).body.deleted).toBe(false);
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    const unused = await apiPost('cohorts/', { name: 'Unused cohort', is_static: true, distinct_ids: ['nobody-1'] });
    await page.goto(`/project/1/cohorts/${unused.id}`);
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete Unused cohort' }).click();
    await page.waitForURL(/\/project\/1\/cohorts$/);
    expect((await t.api('get', `/api/projects/1/cohorts/${unused.id}/`)).body.deleted).toBe(true);
  }, 60_000);

  it("looks a person up by distinct id and reads every flag's value with its reason", async () => {
    await capture([['lookup-person', { email: 'lou@lookup.test', plan: 'team' }]]);
    await apiPost('feature_flags/', {
      key: 'lookup-on',
      filters: { groups: [{ properties: [{ type: 'person', key: 'email', operator: 'icontains', value: '@lookup.test' }], rollout_percentage: 100 }] },
    });
    await apiPost('feature_flags/', {
      key: 'lookup-off',
      filters: { groups: [{ properties: [{ type: 'person', key: 'plan', operator: 'exact', value: ['enterprise'] }], rollout_percentage: 100 }] },
    });
    await page.goto('/project/1/persons');
    await page.getByLabel('Search people').fill('lookup-person');
    await page.waitForURL(/search=lookup-person/);
    await page.getByRole('link', { name: 'lou@lookup.test' }).click();
    await page.waitForURL(/\/project\/1\/persons\/[0-9a-f-]{36}$/);
    const on = page.locator('[data-flag=lookup-on]');
    await on.waitFor();
    expect(await on.textContent()).toContain('true');
    expect(await on.textContent()).toContain('Matches condition set 1');
    const off = page.locator('[data-flag=lookup-off]');
    expect(await off.textContent()).toContain('false');
    expect(await off.textContent()).toContain('Matches no condition set');
    const properties = page.getByRole('region', { name: 'Properties' });
    expect(await properties.textContent()).toContain('team');
  }, 60_000);

  it('deletes a person after a confirmation that says what goes with them', async () => {
    await capture([['doomed-1', { email: 'doomed@example.com' }]]);
    const cohort = await apiPost('cohorts/', { name: 'Doomed list', is_static: true, distinct_ids: ['doomed-1'] });
    const person = (await t.api('get', '/api/projects/1/persons/?distinct_id=doomed-1')).body.results[0];
    await page.goto(`/project/1/persons/${person.uuid}`);
    await page.getByRole('button', { name: 'Delete person' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this person?' });
    const text = await dialog.textContent();
    expect(text).toContain('its 1 distinct id (doomed-1)');
    expect(text).toContain('memberships of static cohorts');
    await dialog.getByRole('button', { name: 'Delete doomed@example.com' }).click();
    await page.waitForURL(/\/project\/1\/persons$/);
    expect((await t.api('get', `/api/projects/1/persons/${person.uuid}/`)).status).toBe(404);
    expect((await t.api('get', `/api/projects/1/cohorts/${cohort.id}/`)).body.count).toBe(0);
  }, 60_000);
});

import { afterAll, beforeAll, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/app.ts';
import { launchBrowser, newContext, screenshot, seriousViolations } from '../helpers/browser.ts';
import { seedFlags, type Seeded } from './fixtures.ts';

let t: TestApp;
let browser: Browser;
let seeded: Seeded;
beforeAll(async () => {
  t = await createTestApp();
  seeded = await seedFlags(t);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

it.skipIf(!process.env.PAGES)('screens', async () => {
  const context = await newContext(browser, t.baseUrl);
  await context.route('**/api/**', (route) => route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${ADMIN_KEY}` } }));
  const page = await context.newPage();
  page.on('console', (m) => console.log('console:', m.type(), m.text()));
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  const pages: Array<[string, string]> = (process.env.PAGES ?? 'flags:/project/1/flags').split(',').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as [string, string]);
  for (const [name, url] of pages) {
    await page.goto(url.replace('ID', String(seeded.checkout.id)));
    await page.waitForLoadState('networkidle');
    for (const [w, s] of [[1440, 'light'], [390, 'dark']] as const) await screenshot(page, name, w, s);
    const v = await seriousViolations(page);
    if (v.length) console.log(name, JSON.stringify(v, null, 1));
  }
  console.log('foreign', context.foreignRequests);
}, 120_000);

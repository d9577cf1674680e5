// The real OpenFeature web SDK with its OFREP web provider, in headless Chromium on a page of
// another origin (docs/compatibility.md#ofrep): the bulk evaluation for each person's context
// gives the values /flags gives, polling sends If-None-Match and gets 304 until a flag changes,
// and the browser's console stays free of errors (CORS, the exposed ETag).
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { hasChromium, launchBrowser, SKIP_MESSAGE } from '../helpers/browser.ts';
import { BOOLEAN_FLAGS, contextOf, createOpenFeatureFlags, flagsAnswer, PEOPLE } from '../helpers/openfeature.ts';
import { patchFlag, type Json } from '../helpers/sdk.ts';
import { ROOT } from '../helpers/readme.ts';

if (!hasChromium) console.warn(`OpenFeature web SDK in Chromium: ${SKIP_MESSAGE}`);

/** The page's script: the SDK and the provider bundled for the browser, driven from the test. */
const PAGE_SCRIPT = `
import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
window.changes = 0;
window.start = async (baseUrl, token, context, pollInterval) => {
  OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, () => { window.changes++; });
  await OpenFeature.setContext(context);
  await OpenFeature.setProviderAndWait(new OFREPWebProvider({
    baseUrl, headers: [['Authorization', 'Bearer ' + token]], cacheMode: 'disabled', pollInterval, changeDetection: 'polling',
  }));
};
window.read = async (context, booleans) => {
  if (context) await OpenFeature.setContext(context);
  const client = OpenFeature.getClient();
  const out = {};
  for (const key of booleans) out[key] = client.getBooleanDetails(key, false);
  out.variants = client.getStringDetails('variants', 'none');
  out.missing = client.getBooleanDetails('no-such-flag', true);
  return JSON.parse(JSON.stringify(out));
};
`;

let t: TestApp;
let flags: Record<string, Json>;

beforeAll(async () => {
  t = await createTestApp();
  flags = await createOpenFeatureFlags(t);
});
afterAll(async () => {
  await t?.close();
});

describe.skipIf(!hasChromium)('@openfeature/web-sdk with @openfeature/ofrep-web-provider in Chromium', { shuffle: false }, () => {
  // One page's life: the provider started by the first test is the one the later tests read and poll.
  let browser: Browser;
  let site: http.Server;
  let page: Page;
  const errors: string[] = [];
  const bulk: Array<{ status: number; ifNoneMatch?: string }> = [];

  beforeAll(async () => {
    const bundle = await esbuild.build({
      stdin: { contents: PAGE_SCRIPT, resolveDir: ROOT, loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      write: false,
      logLevel: 'silent',
    });
    const script = bundle.outputFiles[0].contents;
    const html = '<!doctype html><html lang="en"><head><title>OpenFeature</title><script type="module" src="/app.js"></script></head><body></body></html>';
    site = http.createServer((req, res) => {
      if (req.url === '/app.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      else res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    browser = await launchBrowser();
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('requestfailed', (request) => errors.push(`${request.url()}: ${request.failure()?.errorText}`));
    page.on('response', async (response) => {
      if (!response.url().endsWith('/ofrep/v1/evaluate/flags') || response.request().method() !== 'POST') return;
      bulk.push({
        status: response.status(),
        ifNoneMatch: await response
          .request()
          .headerValue('if-none-match')
          .then((v) => v ?? undefined),
      });
    });
    await page.goto(`http://127.0.0.1:${(site.address() as { port: number }).port}/`);
    await page.waitForFunction(() => 'start' in globalThis);
  });
  afterAll(async () => {
    await browser?.close();
    site?.close();
  });

  it('for each person the cached bulk evaluation gives /flags’s values, variants and metadata', async () => {
    await page.evaluate(
      ({ baseUrl, token, context }) => (globalThis as unknown as { start: (...a: unknown[]) => Promise<void> }).start(baseUrl, token, context, 300),
      {
        baseUrl: t.baseUrl,
        token: PROJECT_TOKEN,
        context: contextOf(PEOPLE[0]),
      },
    );
    for (const someone of PEOPLE) {
      const read = (await page.evaluate(
        ({ context, booleans }) => (globalThis as unknown as { read: (...a: unknown[]) => Promise<unknown> }).read(context, booleans),
        {
          context: contextOf(someone),
          booleans: BOOLEAN_FLAGS,
        },
      )) as Record<string, Json>;
      const expected = (await flagsAnswer(t, someone)).values;
      for (const key of BOOLEAN_FLAGS) {
        expect(read[key].errorCode, `${key} for ${someone.targetingKey}`).toBeUndefined();
        expect(read[key].value, `${key} for ${someone.targetingKey}`).toBe(expected[key]);
      }
      expect(read.variants).toMatchObject({ value: expected.variants, variant: expected.variants });
      expect(read.missing).toMatchObject({ value: true, errorCode: 'FLAG_NOT_FOUND' });
      expect(read['always-on'].flagMetadata).toMatchObject({ flagId: flags.on.id, payload: '{"hello": "world"}' });
    }
    expect(errors).toEqual([]);
  });

  it('polling sends the ETag back and gets 304; a changed flag gets 200 and the new value', async () => {
    // Wait for a poll answered 304: the browser could read the ETag and sent it back.
    await expect.poll(() => bulk.some((b) => b.status === 304 && b.ifNoneMatch), { timeout: 10_000 }).toBe(true);
    const last = PEOPLE.at(-1)!;
    expect((await flagsAnswer(t, last)).values['always-on']).toBe(true);
    const changesBefore = await page.evaluate(() => (globalThis as unknown as { changes: number }).changes);
    await patchFlag(t, flags.on.id, { active: false });
    // The provider's next poll brings the change (its counter may already count earlier context
    // switches, so wait for a new change, then for the value).
    await page.waitForFunction((before) => (globalThis as unknown as { changes: number }).changes > before, changesBefore);
    const readNow = async () =>
      (await page.evaluate(
        (booleans) => (globalThis as unknown as { read: (...a: unknown[]) => Promise<unknown> }).read(null, booleans),
        BOOLEAN_FLAGS,
      )) as Record<string, Json>;
    await expect.poll(async () => (await readNow())['always-on'].errorCode, { timeout: 10_000 }).toBe('FLAG_NOT_FOUND');
    const read = await readNow();
    // An inactive flag is left out of the bulk answer, as /flags leaves it out.
    expect(read['always-on']).toMatchObject({ value: false, errorCode: 'FLAG_NOT_FOUND' });
    const first304 = bulk.findIndex((b) => b.status === 304);
    expect(bulk.slice(first304 + 1).some((b) => b.status === 200)).toBe(true);
    expect(errors).toEqual([]);
  });
});

// Two more PostHog clients against flaghost, so that they keep working: @flags-sdk/posthog (the
// Flags SDK adapter, with its own posthog-node, and its provider data read from the management API)
// and posthog-js-lite in headless Chromium on a page of another origin. Each value is compared
// with /flags for the same person.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as esbuild from 'esbuild';
import type { Browser } from 'playwright-core';
import { createPostHogAdapter, getProviderData } from '@flags-sdk/posthog';
import { ADMIN_KEY, createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { hasChromium, launchBrowser, SKIP_MESSAGE } from '../helpers/browser.ts';
import { BOOLEAN_FLAGS, createOpenFeatureFlags, flagsAnswer, PEOPLE } from '../helpers/openfeature.ts';
import { ROOT } from '../helpers/readme.ts';
import type { Json } from '../helpers/sdk.ts';

if (!hasChromium) console.warn(`posthog-js-lite in Chromium: ${SKIP_MESSAGE}`);

let t: TestApp;
let flags: Record<string, Json>;

beforeAll(async () => {
  t = await createTestApp();
  flags = await createOpenFeatureFlags(t);
});
afterAll(async () => {
  await t?.close();
});

describe('@flags-sdk/posthog', () => {
  it('isFeatureEnabled, featureFlagValue and featureFlagPayload decide as /flags answers', async () => {
    const adapter = createPostHogAdapter({ postHogKey: PROJECT_TOKEN, postHogOptions: { host: t.baseUrl, flushAt: 1, flushInterval: 0 } });
    // The adapter's flags carry no person properties: only flags that need none are compared.
    for (const someone of PEOPLE) {
      const expected = (await flagsAnswer(t, { targetingKey: someone.targetingKey })).values;
      const entities = { distinctId: someone.targetingKey };
      const decide = <T>(adapterOf: { decide: (p: never) => T }, key: string, defaultValue: unknown) =>
        adapterOf.decide({ key, entities, defaultValue, headers: new Headers(), cookies: new Map() } as never);
      for (const key of ['always-on', 'half', 'pro-only']) {
        expect(await decide(adapter.isFeatureEnabled(), key, undefined), `${key} for ${someone.targetingKey}`).toBe(expected[key]);
      }
      expect(await decide(adapter.featureFlagValue(), 'variants', undefined)).toBe(expected.variants);
      expect(
        await decide(
          adapter.featureFlagPayload((payload) => payload),
          'always-on',
          undefined,
        ),
      ).toEqual({ hello: 'world' });
    }
  });

  it('getProviderData reads every flag from the management API with its options', async () => {
    const data = await getProviderData({ personalApiKey: ADMIN_KEY, projectId: '1', appHost: t.baseUrl });
    expect(data.hints).toEqual([]);
    expect(Object.keys(data.definitions).sort()).toEqual(
      Object.values(flags)
        .map((f) => f.key as string)
        .sort(),
    );
    expect(data.definitions['always-on']).toMatchObject({
      origin: `${t.baseUrl}/project/1/feature_flags/${flags.on.id}`,
      options: [{ value: { hello: 'world' }, label: 'true' }],
    });
    expect(data.definitions['pro-only'].options).toEqual([{ value: false }, { value: true }]);
    const refused = await getProviderData({ personalApiKey: 'phx_wrong', projectId: '1', appHost: t.baseUrl });
    expect(refused.hints).toEqual([expect.objectContaining({ text: 'Failed to fetch PostHog (Received 401 response)' })]);
  });
});

/** posthog-js-lite bundled for the page; `load` evaluates one person's flags. */
const PAGE_SCRIPT = `
import PostHog from 'posthog-js-lite';
window.load = async (token, host, distinctId, personProperties, groups, groupProperties, keys) => {
  const posthog = new PostHog(token, { host, persistence: 'memory', bootstrap: { distinctId }, preloadFeatureFlags: false });
  posthog.setPersonPropertiesForFlags(personProperties, false);
  for (const [type, key] of Object.entries(groups)) posthog.group(type, key);
  posthog.setGroupPropertiesForFlags(groupProperties);
  await posthog.reloadFeatureFlagsAsync();
  const out = {};
  for (const key of keys) out[key] = posthog.getFeatureFlag(key) ?? null;
  out.payload = posthog.getFeatureFlagPayload('always-on') ?? null;
  return out;
};
`;

describe.skipIf(!hasChromium)('posthog-js-lite in Chromium', () => {
  let browser: Browser;
  let site: http.Server;

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
    const html = '<!doctype html><html lang="en"><head><title>posthog-js-lite</title><script type="module" src="/app.js"></script></head><body></body></html>';
    site = http.createServer((req, res) => {
      if (req.url === '/app.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      else res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    site?.close();
  });

  it('each person gets /flags’s values and payload, and the console shows no error', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(`http://127.0.0.1:${(site.address() as { port: number }).port}/`);
      await page.waitForFunction(() => 'load' in globalThis);
      const keys = [...BOOLEAN_FLAGS, 'variants'];
      for (const someone of PEOPLE) {
        const args = [
          PROJECT_TOKEN,
          t.baseUrl,
          someone.targetingKey,
          someone.plan ? { plan: someone.plan } : {},
          someone.groups ?? {},
          someone.groupProperties ?? {},
          keys,
        ];
        const got = (await page.evaluate((a) => (globalThis as unknown as { load: (...x: unknown[]) => Promise<unknown> }).load(...a), args)) as Json;
        const expected = (await flagsAnswer(t, someone)).values;
        for (const key of keys) expect(got[key], `${key} for ${someone.targetingKey}`).toBe(expected[key]);
        expect(got.payload).toEqual({ hello: 'world' });
      }
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

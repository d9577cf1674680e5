// posthog-js with default options in headless Chromium, on a page of another origin: it loads its
// remote config, its flags and the surveys bundle from flaghost, and the browser's console stays
// free of errors (docs/compatibility.md#sdk-2.6). Also the /static/ answers over plain HTTP.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { hasChromium, launchBrowser, SKIP_MESSAGE } from '../helpers/browser.ts';
import { ROOT } from '../helpers/readme.ts';
import { createFlag } from '../helpers/sdk.ts';
import { ASSET_DIRS, sdkAssetRoutes, SERVED_EXTENSIONS } from '../../src/sdk/assets-routes.ts';
import { zodSerializerCompiler, zodValidatorCompiler } from '../../src/platform/http/openapi.ts';

const POSTHOG_JS_VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/posthog-js/package.json'), 'utf8')).version;
/** A desktop browser's user agent, as a visitor's page would have. */
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let t: TestApp;
if (!hasChromium) console.warn(`posthog-js in Chromium: ${SKIP_MESSAGE}`);

beforeAll(async () => {
  t = await createTestApp();
  await createFlag(t, { key: 'browser-flag', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
});
afterAll(async () => {
  await t?.close();
});

describe('/static/ over HTTP', () => {
  it('serves each bundle posthog-js ships, unversioned and versioned, readable cross-origin', async () => {
    for (const name of SERVED_EXTENSIONS) {
      const expected = fs.readFileSync(path.join(ROOT, 'node_modules/posthog-js/dist', `${name}.js`));
      for (const url of [`/static/${name}.js?v=${POSTHOG_JS_VERSION}`, `/static/${POSTHOG_JS_VERSION}/${name}.js`]) {
        const res = await t.http
          .get(url)
          .set('Origin', 'https://app.example.com')
          .buffer(true)
          .parse((r, done) => {
            const chunks: Buffer[] = [];
            r.on('data', (c: Buffer) => chunks.push(c));
            r.on('end', () => done(null, Buffer.concat(chunks)));
          });
        expect(res.status, url).toBe(200);
        expect(res.headers['content-type']).toBe('application/javascript; charset=utf-8');
        expect(res.headers['access-control-allow-origin']).toBe('*');
        expect(Buffer.compare(res.body as Buffer, expected), url).toBe(0);
      }
    }
  });

  it('the build copies the same bundles into dist/posthog-js, which serves them where posthog-js is not installed', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-assets-'));
    try {
      await promisify(execFile)(process.execPath, [path.join(ROOT, 'scripts/build-server.mjs'), '--outdir', out], { cwd: ROOT, timeout: 60_000 });
      expect(fs.readdirSync(path.join(out, 'posthog-js')).sort()).toEqual(SERVED_EXTENSIONS.map((name) => `${name}.js`).sort());
      expect(ASSET_DIRS.at(-1)).toBe(path.join(ROOT, 'dist', 'posthog-js'));
      const app = Fastify().setValidatorCompiler(zodValidatorCompiler).setSerializerCompiler(zodSerializerCompiler);
      await app.register(sdkAssetRoutes, { dirs: [path.join(out, 'no-node-modules'), path.join(out, 'posthog-js')] });
      try {
        const res = await app.inject({ method: 'GET', url: '/static/surveys.js?v=1' });
        expect(res.statusCode).toBe(200);
        expect(res.rawPayload.equals(fs.readFileSync(path.join(ROOT, 'node_modules/posthog-js/dist/surveys.js')))).toBe(true);
      } finally {
        await app.close();
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('bundles it does not serve, and other /static/ and /array/ paths: 404 in PostHog’s envelope, with CORS', async () => {
    for (const url of [
      '/static/recorder.js?v=1',
      '/static/toolbar.js',
      `/static/${POSTHOG_JS_VERSION}/posthog-recorder.js`,
      '/static/../package.json',
      '/static/a/b/c.js',
      `/array/${PROJECT_TOKEN}/array.js`,
    ]) {
      const res = await t.http.get(url).set('Origin', 'https://app.example.com');
      expect(res.status, url).toBe(404);
      expect(res.body, url).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null });
      expect(res.headers['access-control-allow-origin'], url).toBe('*');
    }
    expect((await t.http.post('/static/surveys.js')).status).toBe(405);
    // The remote config keeps its own routes.
    expect((await t.http.get(`/array/${PROJECT_TOKEN}/config`)).status).toBe(200);
  });
});

describe.skipIf(!hasChromium)('posthog-js in Chromium', () => {
  let browser: Browser;
  let site: http.Server;
  let siteUrl: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    const moduleJs = fs.readFileSync(path.join(ROOT, 'node_modules/posthog-js/dist/module.js'));
    const init = `posthog.init(${JSON.stringify(PROJECT_TOKEN)}, { api_host: ${JSON.stringify(t.baseUrl)} })`;
    const page = `<!doctype html><html lang="en"><head><title>posthog-js</title>
<script type="importmap">{"imports": {"posthog-js": "/posthog-js.mjs"}}</script>
<script type="module">import posthog from 'posthog-js'; window.posthog = posthog; ${init}; posthog.onFeatureFlags(() => { document.body.dataset.flag = String(posthog.isFeatureEnabled('browser-flag')) });</script>
</head><body></body></html>`;
    site = http.createServer((req, res) => {
      if (req.url === '/posthog-js.mjs') res.writeHead(200, { 'content-type': 'text/javascript' }).end(moduleJs);
      else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      else res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}/`;
  });
  afterAll(async () => {
    await browser?.close();
    site?.close();
  });

  it('default options: flags and the surveys bundle load, and the console shows no error', async () => {
    const context = await browser.newContext({ userAgent: USER_AGENT });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const foreign: string[] = [];
    const errors: string[] = [];
    const requested: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('requestfailed', (request) => errors.push(`${request.url()}: ${request.failure()?.errorText}`));
    page.on('request', (request) => {
      if (!request.url().startsWith(t.baseUrl) && !request.url().startsWith(siteUrl)) foreign.push(request.url());
    });
    page.on('response', (response) => {
      if (response.url().startsWith(t.baseUrl)) requested.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
    try {
      await page.goto(siteUrl);
      await page.waitForSelector('body[data-flag="true"]', { state: 'attached' });
      // The flags arrived and the surveys bundle ran (posthog-js then holds its survey manager):
      // everything posthog-js loads on a page load is done. (Headless Chromium's events are
      // dropped as a bot's, so no capture request is waited for.)
      await page.waitForFunction(() =>
        Boolean((globalThis as unknown as { posthog: { surveys: { _surveyManager?: unknown } } }).posthog.surveys._surveyManager),
      );
      expect(requested).toContain(`200 /static/${POSTHOG_JS_VERSION}/surveys.js`);
      expect(requested.some((r) => r.startsWith('200 /flags'))).toBe(true);
      expect(requested.filter((r) => !r.startsWith('200 '))).toEqual([]);
      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

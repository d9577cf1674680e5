// "Sign in with SSO" in Debian's Chromium: the sign-in page offers it when the server has an OpenID
// Connect provider, and a click goes through the provider (oidc-provider, started here with its
// development login and consent pages) back to the console, signed in.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Provider from 'oidc-provider';
import type { Browser } from 'playwright-core';
import { ADMIN_EMAIL, createTestApp, type TestApp } from '../helpers/app.ts';
import { hasChromium, launchBrowser, newContext, SKIP_MESSAGE } from '../helpers/browser.ts';

if (!hasChromium) console.warn(`console sign-on: ${SKIP_MESSAGE}`);

let t: TestApp;
let plain: TestApp;
let provider: Provider;
let issuerServer: http.Server;
let browser: Browser;

describe.skipIf(!hasChromium)('single sign-on in the browser', () => {
  beforeAll(async () => {
    issuerServer = http.createServer((req, res) => provider.callback()(req, res));
    await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
    t = await createTestApp({
      env: { FLAGHOST_OIDC_ISSUER: issuer, FLAGHOST_OIDC_CLIENT_ID: 'console-test', FLAGHOST_OIDC_CLIENT_SECRET: 'console-test-client-secret' },
    });
    provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'console-test',
          client_secret: 'console-test-client-secret',
          redirect_uris: [`${t.baseUrl}/complete/oidc/`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      findAccount: async (_ctx, sub) =>
        sub === 'admin' ? { accountId: sub, claims: async () => ({ sub, email: ADMIN_EMAIL, email_verified: true }) } : undefined,
      claims: { openid: ['sub'], email: ['email', 'email_verified'] },
      cookies: { keys: ['console-sso-test-key'] },
      features: { devInteractions: { enabled: true } },
    });
    plain = await createTestApp();
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await plain?.close();
    await new Promise((r) => issuerServer?.close(r));
  });

  it('offers SSO only when a provider is configured, and signs in through it', async () => {
    const without = await newContext(browser, plain.baseUrl);
    const bare = await without.newPage();
    await bare.goto('/login');
    await bare.getByRole('button', { name: 'Sign in' }).waitFor();
    await bare.waitForLoadState('networkidle');
    expect(await bare.getByRole('link', { name: 'Sign in with SSO' }).count()).toBe(0);
    await without.close();

    const context = await newContext(browser, t.baseUrl);
    const page = await context.newPage();
    await page.goto('/project/1/flags');
    await page.waitForURL(/\/login\?next=/);
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    // The provider's development login page, then its consent page.
    await page.locator('input[name=login]').fill('admin');
    await page.locator('input[name=password]').fill('any');
    await page.locator('button[type=submit]').click();
    await page.locator('button[type=submit]').click();
    await page.waitForURL(/\/project\/1\/flags$/);
    await page.locator('.menu-trigger').waitFor();
    expect(await page.locator('.menu-header').textContent()).toContain(ADMIN_EMAIL);
    await context.close();
  }, 90_000);
});

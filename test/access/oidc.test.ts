// Single sign-on against a real OpenID Connect provider (oidc-provider) started in the test: the
// test plays the browser, following redirects with an HTTP client and answering the provider's own
// login and consent interactions. Existing users are linked by verified email; new users from
// allowed domains are created at the configured level; others are refused.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Provider from 'oidc-provider';
import supertest from 'supertest';
import { ADMIN_EMAIL, createTestApp, type TestApp } from '../helpers/app.ts';

const accounts: Record<string, { email: string; email_verified: boolean; given_name?: string; family_name?: string }> = {
  admin: { email: ADMIN_EMAIL, email_verified: true },
  newcomer: { email: 'Newcomer@example.org', email_verified: true, given_name: 'New', family_name: 'Comer' },
  outsider: { email: 'someone@other.net', email_verified: true },
  unverified: { email: 'unverified@example.org', email_verified: false },
};

let t: TestApp;
let provider: Provider;
let issuerServer: http.Server;
let issuer: string;

/** One cookie jar per origin, as a browser keeps them. */
class Browser {
  private readonly jars = new Map<string, Map<string, string>>();

  private jar(url: URL) {
    let jar = this.jars.get(url.origin);
    if (!jar) this.jars.set(url.origin, (jar = new Map()));
    return jar;
  }

  cookie(url: string, name: string): string | undefined {
    return this.jar(new URL(url)).get(name);
  }

  async request(url: string, init: { method?: string; body?: string } = {}): Promise<Response> {
    const target = new URL(url);
    const jar = this.jar(target);
    const headers: Record<string, string> = { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (init.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(target, { method: init.method ?? 'GET', body: init.body, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || attrs.some((a) => /max-age=0\b/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a.trim()))) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  /**
   * Follows redirects from `url`, answering the provider's interaction pages as `account`, until a
   * response that is not a redirect to somewhere else than the app's `/` or `/login…`.
   */
  async signOn(start: string, account: string): Promise<{ final: string; res: Response }> {
    let url = start;
    for (let hop = 0; hop < 20; hop++) {
      const res = await this.request(url);
      if (res.status >= 300 && res.status < 400) {
        const next = new URL(res.headers.get('location')!, url).href;
        if (next.startsWith(t.baseUrl) && !next.startsWith(`${t.baseUrl}/complete/`) && !next.startsWith(`${t.baseUrl}/login/oidc`))
          return { final: next, res };
        url = next;
        continue;
      }
      const html = await res.text();
      const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
      if (res.status !== 200 || !prompt) throw new Error(`unexpected page ${res.status} at ${url}: ${html.slice(0, 300)}`);
      const submit = await this.request(url, { method: 'POST', body: new URLSearchParams({ prompt, login: account, password: 'irrelevant' }).toString() });
      expect([302, 303]).toContain(submit.status);
      url = new URL(submit.headers.get('location')!, url).href;
    }
    throw new Error('too many redirects');
  }
}

beforeAll(async () => {
  issuerServer = http.createServer((req, res) => provider.callback()(req, res));
  await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
  t = await createTestApp({
    env: {
      FLAGHOST_OIDC_ISSUER: issuer,
      FLAGHOST_OIDC_CLIENT_ID: 'flaghost-test',
      FLAGHOST_OIDC_CLIENT_SECRET: 'flaghost-test-client-secret',
      FLAGHOST_OIDC_ALLOWED_DOMAINS: 'example.org, example.com',
      FLAGHOST_OIDC_DEFAULT_LEVEL: 'admin',
    },
  });
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'flaghost-test',
        client_secret: 'flaghost-test-client-secret',
        redirect_uris: [`${t.baseUrl}/complete/oidc/`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    findAccount: async (_ctx, sub) => (accounts[sub] ? { accountId: sub, claims: async () => ({ sub, ...accounts[sub] }) } : undefined),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name'] },
    cookies: { keys: ['oidc-test-cookie-key'] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    features: { devInteractions: { enabled: true } },
  });
});
afterAll(async () => {
  await t?.close();
  await new Promise((r) => issuerServer?.close(r));
});

describe('single sign-on with OpenID Connect', () => {
  it('the preflight says OIDC is available', async () => {
    const res = await t.http.get('/_preflight/');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      initiated: true,
      cloud: false,
      realm: 'hosted',
      available_social_auth_providers: { oidc: true },
      email_service_available: false,
      site_url: t.baseUrl,
    });
  });

  it('an existing user signs on through the provider and lands on the console with a session', async () => {
    const browser = new Browser();
    const first = await browser.request(`${t.baseUrl}/login/oidc/`);
    expect(first.status).toBe(302);
    const location = new URL(first.headers.get('location')!);
    expect(location.origin).toBe(issuer);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('redirect_uri')).toBe(`${t.baseUrl}/complete/oidc/`);
    const { final } = await browser.signOn(location.href, 'admin');
    expect(final).toBe(`${t.baseUrl}/`);
    const sessionid = browser.cookie(t.baseUrl, 'sessionid');
    expect(sessionid).toBeDefined();
    expect(browser.cookie(t.baseUrl, 'oidc_flow')).toBeUndefined();
    const me = await supertest(t.app.server).get('/api/users/@me/').set('Cookie', `sessionid=${sessionid}`);
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(ADMIN_EMAIL);
  });

  it('a new person from an allowed domain is created at the configured level', async () => {
    const browser = new Browser();
    const { final } = await browser.signOn(`${t.baseUrl}/login/oidc/`, 'newcomer');
    expect(final).toBe(`${t.baseUrl}/`);
    const me = await supertest(t.app.server)
      .get('/api/users/@me/')
      .set('Cookie', `sessionid=${browser.cookie(t.baseUrl, 'sessionid')}`);
    expect(me.body).toMatchObject({ email: 'Newcomer@example.org', first_name: 'New', last_name: 'Comer', has_password: false });
    expect(me.body.organization.membership_level).toBe(8);
    // Signing on again links to the same user.
    const again = new Browser();
    await again.signOn(`${t.baseUrl}/login/oidc/`, 'newcomer');
    expect((await t.sql("select id from users where lower(email) = 'newcomer@example.org'")).length).toBe(1);
  });

  it('people from other domains, and unverified emails, are refused and no user is created', async () => {
    const outsider = await new Browser().signOn(`${t.baseUrl}/login/oidc/`, 'outsider');
    expect(outsider.final).toBe(`${t.baseUrl}/login?error_code=jit_not_enabled`);
    const unverified = await new Browser().signOn(`${t.baseUrl}/login/oidc/`, 'unverified');
    expect(unverified.final).toBe(`${t.baseUrl}/login?error_code=oidc_email_unverified`);
    expect((await t.sql("select id from users where email in ('someone@other.net', 'unverified@example.org')")).length).toBe(0);
  });

  it('a callback without the flow cookie, or with a state that does not match it, signs nobody in', async () => {
    const browser = new Browser();
    const first = await browser.request(`${t.baseUrl}/login/oidc/`);
    const location = new URL(first.headers.get('location')!);
    // Another browser (no flow cookie) brings the callback.
    let url = location.href;
    let callback: string | undefined;
    for (let hop = 0; hop < 20 && !callback; hop++) {
      const res = await browser.request(url);
      if (res.status >= 300 && res.status < 400) {
        const next = new URL(res.headers.get('location')!, url).href;
        if (next.startsWith(`${t.baseUrl}/complete/`)) callback = next;
        else url = next;
        continue;
      }
      const prompt = /name="prompt" value="(\w+)"/.exec(await res.text())![1];
      const submit = await browser.request(url, { method: 'POST', body: new URLSearchParams({ prompt, login: 'admin' }).toString() });
      url = new URL(submit.headers.get('location')!, url).href;
    }
    const stranger = await fetch(callback!, { redirect: 'manual' });
    expect(stranger.headers.get('location')).toBe('/login?error_code=oidc_failed');
    expect(stranger.headers.getSetCookie().some((c) => c.startsWith('sessionid='))).toBe(false);
    const tampered = new URL(callback!);
    tampered.searchParams.set('state', 'not-the-state');
    const wrongState = await browser.request(tampered.href);
    expect(wrongState.headers.get('location')).toBe('/login?error_code=oidc_failed');
    expect(browser.cookie(t.baseUrl, 'sessionid')).toBeUndefined();
  });
});

describe('without OIDC configured', () => {
  it('the preflight says so and /login/oidc/ goes back to the login page', async () => {
    const plain = await createTestApp();
    try {
      expect((await plain.http.get('/_preflight/')).body.available_social_auth_providers.oidc).toBe(false);
      const res = await plain.http.get('/login/oidc/');
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/login?error_code=improperly_configured_sso');
    } finally {
      await plain.close();
    }
  });
});

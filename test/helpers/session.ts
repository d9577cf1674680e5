// Console sessions in tests: a user with a password, signing in over HTTP, and requests that carry
// the session cookie, the CSRF header and a same-origin Origin as the console sends them.
import supertest from 'supertest';
import { expect } from 'vitest';
import type { TestApp } from './app.ts';
import { createUser } from '../../src/access/organizations/admin.ts';
import { setPasswordByEmail } from '../../src/access/sign-in/accounts.ts';
import type { MembershipLevelName } from '../../src/access/organizations/users-repository.ts';

export interface SignedIn {
  /** The Cookie header value (sessionid and csrftoken). */
  cookie: string;
  sessionid: string;
  csrftoken: string;
  setCookie: string[];
}

export async function userWithPassword(t: TestApp, email: string, password: string, level: MembershipLevelName = 'member', organizationId?: string) {
  const user = await createUser(t.ctx, { email, level, organizationId });
  await setPasswordByEmail(t.ctx, email, password);
  return user;
}

export function cookiesOf(setCookie: string[] | string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of [setCookie ?? []].flat()) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** POST /api/login on `baseUrl` (default: the test app); expects 200. */
export async function signIn(t: TestApp, email: string, password: string, baseUrl?: string): Promise<SignedIn> {
  const res = await supertest(baseUrl ?? t.app.server)
    .post('/api/login')
    .send({ email, password });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const setCookie = [res.headers['set-cookie'] ?? []].flat() as string[];
  const jar = cookiesOf(setCookie);
  return { cookie: `sessionid=${jar.sessionid}; csrftoken=${jar.csrftoken}`, sessionid: jar.sessionid, csrftoken: jar.csrftoken, setCookie };
}

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

/** A request as the console makes it: cookie, X-CSRFToken and its own Origin. */
export function asConsole(t: TestApp, s: SignedIn, method: Method, path: string, baseUrl?: string): supertest.Test {
  return supertest(baseUrl ?? t.app.server)
    [method](path)
    .set('Cookie', s.cookie)
    .set('X-CSRFToken', s.csrftoken)
    .set('Origin', baseUrl ?? t.baseUrl);
}

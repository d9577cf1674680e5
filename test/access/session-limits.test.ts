// Limits on console sign-in, with an injected clock: idle and absolute session expiry, and failed
// sign-ins limited per account and per client address (429 in PostHog's envelope).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { ADMIN_EMAIL, createTestApp, type TestApp } from '../helpers/app.ts';
import { signIn, userWithPassword } from '../helpers/session.ts';
import { setPasswordByEmail } from '../../src/access/sign-in/accounts.ts';

const MINUTE = 60_000;
const PASSWORD = 'correct-horse-1';
let clock = new Date('2030-01-01T00:00:00Z').getTime();
const advance = (ms: number) => (clock += ms);
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({
    now: () => new Date(clock),
    env: {
      FLAGHOST_SESSION_IDLE_HOURS: '1',
      FLAGHOST_SESSION_MAX_AGE_HOURS: '3',
      FLAGHOST_LOGIN_FAILURES_PER_ACCOUNT: '3',
      FLAGHOST_LOGIN_FAILURES_PER_ADDRESS: '5',
    },
  });
  await setPasswordByEmail(t.ctx, ADMIN_EMAIL, PASSWORD);
});
afterAll(async () => {
  await t?.close();
});

const me = (cookie: string) => supertest(t.app.server).get('/api/users/@me/').set('Cookie', cookie);
const login = (email: string, password: string, ip: string) => supertest(t.app.server).post('/api/login').set('X-Forwarded-For', ip).send({ email, password });

describe('session expiry', () => {
  it('a session unused for longer than the idle time ends; using it keeps it alive', async () => {
    const s = await signIn(t, ADMIN_EMAIL, PASSWORD);
    advance(50 * MINUTE);
    expect((await me(s.cookie)).status).toBe(200);
    advance(50 * MINUTE); // 100 minutes after sign-in, 50 after the last use
    expect((await me(s.cookie)).status).toBe(200);
    advance(61 * MINUTE);
    const res = await me(s.cookie);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('not_authenticated');
    // Refused sessions are deleted.
    expect((await t.sql('select id from sessions where idle_expires_at <= $1', [new Date(clock)])).length).toBe(0);
  });

  it('a session ends at its absolute expiry however active it is', async () => {
    const s = await signIn(t, ADMIN_EMAIL, PASSWORD);
    for (let i = 0; i < 5; i++) {
      advance(35 * MINUTE);
      expect((await me(s.cookie)).status).toBe(200);
    }
    advance(35 * MINUTE); // 3 h 30 after sign-in, 35 minutes after the last use
    expect((await me(s.cookie)).status).toBe(401);
  });
});

describe('failed sign-ins', () => {
  it('are limited per account: after 3 failures even the right password gets 429, from any address', async () => {
    await userWithPassword(t, 'target@example.com', PASSWORD);
    for (let i = 0; i < 3; i++) expect((await login('target@example.com', 'wrong-password', `10.0.0.${i + 1}`)).status).toBe(400);
    const blocked = await login('target@example.com', PASSWORD, '10.0.1.1');
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatchObject({ type: 'throttled_error', code: 'throttled', attr: null });
    expect(blocked.body.detail).toMatch(/^Request was throttled\. Expected available in \d+ seconds?\.$/);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Other accounts are not affected.
    expect((await login(ADMIN_EMAIL, PASSWORD, '10.0.1.1')).status).toBe(200);
    // The bucket refills: one more attempt an hour/3 later.
    advance(21 * MINUTE);
    expect((await login('target@example.com', PASSWORD, '10.0.1.1')).status).toBe(200);
  });

  it('are limited per address: 5 failures on any accounts block that address, not others', async () => {
    for (let i = 0; i < 5; i++) expect((await login(`unknown${i}@example.com`, 'wrong-password', '10.9.9.9')).status).toBe(400);
    expect((await login(ADMIN_EMAIL, PASSWORD, '10.9.9.9')).status).toBe(429);
    expect((await login(ADMIN_EMAIL, PASSWORD, '10.9.9.10')).status).toBe(200);
  });

  it('successful sign-ins do not count', async () => {
    for (let i = 0; i < 8; i++) expect((await login(ADMIN_EMAIL, PASSWORD, '10.7.7.7')).status).toBe(200);
  });
});

// The README's "Access control" curl block works as printed: run in bash (curl, jq) against a fresh
// server whose admin key is the one the README tells a reader to start with.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { readmeBlock, runReadmeShell } from '../helpers/readme.ts';
import { createUser } from '../../src/access/organizations/admin.ts';
import { hashKeyValue } from '../../src/access/tokens.ts';

let t: TestApp;
beforeAll(async () => {
  // The key the block uses: the one the README tells a reader to start the server with.
  const key = /^export KEY=(phx_\w+)$/m.exec(readmeBlock('access'))![1];
  t = await createTestApp();
  await t.sql("update personal_api_keys set secure_value = $1 where label = 'Initial key'", [hashKeyValue(key)]);
  t.app.services.authenticator.clear();
  await createUser(t.ctx, { email: 'dev@example.com', level: 'member' });
});
afterAll(async () => {
  await t?.close();
});

describe('README: Access control', () => {
  it('the curl block works as printed', async () => {
    const lines = await runReadmeShell('access', t.baseUrl);
    const [members, resourceAccess, membership, roleAccess, ci, count, keys, ...rest] = lines.map((l) => JSON.parse(l));
    expect(members.results.map((m: { user: { email: string } }) => m.user.email).sort()).toEqual(['admin@example.com', 'dev@example.com']);
    expect(resourceAccess).toMatchObject({ resource: 'feature flags', access_level: 21 });
    expect(membership.user.email).toBe('dev@example.com');
    expect(roleAccess).toMatchObject({
      feature_flag: { key: 'checkout-v2' },
      role: { name: 'Checkout team', members: [{ user: { email: 'dev@example.com' } }] },
    });
    expect(ci).toMatchObject({ value: expect.stringMatching(/^phx_/), scopes: ['feature_flag:read'], scoped_teams: [1] });
    expect(count).toEqual({ count: 1 });
    expect(keys.map((k: { label: string }) => k.label)).toEqual(['ci', 'Initial key']);
    expect(rest).toEqual([]); // DELETE answers 204 with no body
    expect((await t.api('get', '/api/projects/1/feature_flags/', ci.value)).status).toBe(401);
  });
});

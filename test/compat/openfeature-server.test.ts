// The real OpenFeature server SDK with its OFREP provider against flaghost (docs/compatibility.md#ofrep):
// every value, variant and payload equals /flags's for the same people, reasons and flag metadata
// come through, OFREP's errors reach the SDK as its error codes, and both ways to send the token work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenFeature, type Client } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { BOOLEAN_FLAGS, contextOf, createOpenFeatureFlags, flagsAnswer, PEOPLE } from '../helpers/openfeature.ts';
import type { Json } from '../helpers/sdk.ts';

let t: TestApp;
let flags: Record<string, Json>;
let client: Client;

/** A client of its own domain, so that each provider keeps its own configuration. */
async function clientWith(domain: string, headers: Array<[string, string]>): Promise<Client> {
  await OpenFeature.setProviderAndWait(domain, new OFREPProvider({ baseUrl: t.baseUrl, headers }));
  return OpenFeature.getClient(domain);
}

beforeAll(async () => {
  t = await createTestApp();
  flags = await createOpenFeatureFlags(t);
  client = await clientWith('bearer', [['Authorization', `Bearer ${PROJECT_TOKEN}`]]);
});
afterAll(async () => {
  await OpenFeature.close();
  await t?.close();
});

describe('@openfeature/server-sdk with @openfeature/ofrep-provider', () => {
  it('every boolean flag, for every person, has the value /flags gives, with its payload as metadata', async () => {
    for (const someone of PEOPLE) {
      const expected = await flagsAnswer(t, someone);
      for (const key of BOOLEAN_FLAGS) {
        const details = await client.getBooleanDetails(key, !expected.values[key], contextOf(someone));
        expect(details.errorCode, `${key} for ${someone.targetingKey}`).toBeUndefined();
        expect(details.value, `${key} for ${someone.targetingKey}`).toBe(expected.values[key]);
        expect(details.flagMetadata.flagId).toBe(flags[Object.keys(flags).find((k) => flags[k].key === key)!].id);
        expect(details.flagMetadata.payload).toBe(expected.payloads[key] ?? undefined);
      }
    }
  });

  it('the multivariate flag is a string: the same variant as /flags, SPLIT', async () => {
    const seen = new Set<unknown>();
    for (const someone of PEOPLE) {
      const expected = (await flagsAnswer(t, someone)).values.variants;
      const details = await client.getStringDetails('variants', 'none', contextOf(someone));
      expect(details).toMatchObject({ value: expected, variant: expected, reason: 'SPLIT' });
      seen.add(expected);
    }
    // The people fall into more than one variant: a provider that always gave one would fail.
    expect(seen.size).toBeGreaterThan(1);
  });

  it('reasons: STATIC, TARGETING_MATCH, DEFAULT and DISABLED reach the SDK', async () => {
    const alice = contextOf(PEOPLE[0]);
    expect((await client.getBooleanDetails('always-on', false, alice)).reason).toBe('STATIC');
    expect((await client.getBooleanDetails('pro-only', false, alice)).reason).toBe('TARGETING_MATCH');
    expect(await client.getBooleanDetails('pro-only', true, { targetingKey: 'bob', plan: 'free' })).toMatchObject({ value: false, reason: 'DEFAULT' });
    expect(await client.getBooleanDetails('inactive', true, alice)).toMatchObject({ value: false, reason: 'DISABLED' });
  });

  it('errors: an unknown flag is FLAG_NOT_FOUND, no targetingKey TARGETING_KEY_MISSING, a wrong type TYPE_MISMATCH; each gives the default', async () => {
    expect(await client.getBooleanDetails('no-such-flag', true, { targetingKey: 'alice' })).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
    expect(await client.getBooleanDetails('always-on', false, { plan: 'pro' })).toMatchObject({ value: false, errorCode: 'TARGETING_KEY_MISSING' });
    expect(await client.getStringDetails('always-on', 'fallback', { targetingKey: 'alice' })).toMatchObject({
      value: 'fallback',
      errorCode: 'TYPE_MISMATCH',
    });
  });

  it('the token as X-API-Key works; a wrong token gives the default with an error', async () => {
    const viaHeader = await clientWith('api-key', [['X-API-Key', PROJECT_TOKEN]]);
    expect(await viaHeader.getBooleanDetails('always-on', false, { targetingKey: 'alice' })).toMatchObject({ value: true, reason: 'STATIC' });
    const wrong = await clientWith('wrong', [['Authorization', 'Bearer phc_wrong']]);
    const details = await wrong.getBooleanDetails('always-on', false, { targetingKey: 'alice' });
    expect(details.value).toBe(false);
    // The provider turns the 401 into a general error (it has no error code of its own for it).
    expect(details).toMatchObject({ reason: 'ERROR', errorCode: 'GENERAL' });
  });
});

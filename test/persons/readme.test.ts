// The README's persons curl block works as printed: run in bash (curl, jq) against a fresh server
// holding the key and project token the README's first start sets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { runReadmeShell, useReadmeCredentials } from '../helpers/readme.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await useReadmeCredentials(t);
});
afterAll(async () => {
  await t?.close();
});

describe('README: People, usage and privacy', () => {
  it('the persons curl block captures, finds and deletes a person as printed', async () => {
    const [captured, found, ...rest] = (await runReadmeShell('persons', t.baseUrl)).map((l) => JSON.parse(l));
    expect(captured).toEqual({ status: 1 });
    expect(found.results).toHaveLength(1);
    expect(found.results[0]).toMatchObject({ name: 'ada@example.com', distinct_ids: ['anon-9f2c', 'user-123'], properties: { email: 'ada@example.com' } });
    expect(rest).toEqual([]); // DELETE answers 204 with no body
    expect(await t.sql('select (select count(*)::int from persons) as persons, (select count(*)::int from person_distinct_ids) as ids')).toEqual([
      { persons: 0, ids: 0 },
    ]);
  });
});

// executeNamed: a statement prepared once per connection, however many calls arrive at once
// (docs/architecture.md#stored-persons-on-flags).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../../helpers/app.ts';
import { executeNamed, rowsOf } from '../../../src/platform/db/sql.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

it('concurrent first calls of a named statement all answer, each with its own parameters', async () => {
  const values = Array.from({ length: 8 }, (_, i) => i * 7);
  const answers = await Promise.all(values.map((v) => executeNamed(t.ctx.db, 'flaghost_test_concurrent', sql`select ${v}::int as n`)));
  expect(answers.map((a) => (rowsOf(a) as Array<{ n: number }>)[0].n)).toEqual(values);
  // And later calls reuse it.
  expect((rowsOf(await executeNamed(t.ctx.db, 'flaghost_test_concurrent', sql`select ${99}::int as n`)) as Array<{ n: number }>)[0].n).toBe(99);
});

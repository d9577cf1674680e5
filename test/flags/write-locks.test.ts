// Flag writers take the project row before a flag row, so two writers that meet on a flag queue
// instead of deadlocking (docs/architecture.md#incremental-rebuilds). Meaningful on PostgreSQL,
// where transactions run side by side; PGlite runs them one after the other.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { findFlagForUpdate, updateFlag } from '../../src/flags/repository.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

it('a PATCH holding its flag and a writer that already touched another flag of the project both commit', async () => {
  const P = `/api/projects/${t.boot.project.id}/feature_flags`;
  const make = async (key: string) => (await t.api('post', `${P}/`).send({ key, filters: { groups: [{ rollout_percentage: 100 }] } })).body.id as number;
  const [a, b] = [await make('lock-a'), await make('lock-b')];
  let locked!: () => void;
  const firstLocked = new Promise<void>((r) => (locked = r));
  const first = t.ctx.db.transaction(async (tx) => {
    // As a PATCH does: the flag row locked, then written a little later.
    await findFlagForUpdate(tx as never, t.boot.project.id, a);
    locked();
    await new Promise((r) => setTimeout(r, 300));
    await updateFlag(tx as never, a, { name: 'first' });
  });
  await firstLocked;
  // Another writer changes flag b (its trigger locks the project row), then flag a.
  const second = t.ctx.db.transaction(async (tx) => {
    await tx.execute(sql`update feature_flags set name = 'second' where id = ${b}`);
    await tx.execute(sql`update feature_flags set name = 'second' where id = ${a}`);
  });
  await expect(Promise.all([first, second])).resolves.toBeDefined();
  const rows = await t.sql<{ id: number; name: string }>('select id, name from feature_flags where id = any($1) order by id', [[a, b]]);
  expect(rows.map((r) => r.name)).toEqual(['second', 'second']);
});

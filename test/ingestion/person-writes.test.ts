// The bulk person writes of ingestion (src/persons/repository.ts): new persons come back with
// their ids by uuid, with the properties, created_at and is_identified given; linking distinct
// ids counts only the new links and never moves an id someone else linked first (the ingestor
// retries its batch when the count falls short), across chunks of 1,000 rows too.
import crypto from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { insertPersons, linkDistinctIds } from '../../src/persons/repository.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

it('inserts persons from one parameter and returns each its own id', async () => {
  const rows = Array.from({ length: 2500 }, (_, i) => ({
    uuid: crypto.randomUUID() as string,
    properties: { n: i, quote: "it's", nested: { a: [1, 'two'] } },
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)),
    isIdentified: i % 2 === 0,
  }));
  const ids = await t.ctx.db.transaction((tx) => insertPersons(tx, 1, rows));
  expect(ids.size).toBe(rows.length);
  const stored = await t.sql<{ id: string; uuid: string; properties: Record<string, unknown>; created_at: Date; is_identified: boolean }>(
    `select id::text as id, uuid::text as uuid, properties, created_at, is_identified from persons where uuid = any($1::uuid[])`,
    [rows.map((r) => r.uuid)],
  );
  expect(stored).toHaveLength(rows.length);
  const byUuid = new Map(rows.map((r) => [r.uuid, r]));
  for (const s of stored) {
    const row = byUuid.get(s.uuid)!;
    expect(Number(s.id)).toBe(ids.get(s.uuid));
    expect(s.properties).toEqual(row.properties);
    expect(new Date(s.created_at).getTime()).toBe(row.createdAt.getTime());
    expect(s.is_identified).toBe(row.isIdentified);
  }
});

it('links distinct ids across chunks, counts only new links and leaves ids linked first where they are', async () => {
  const ids = await t.ctx.db.transaction((tx) =>
    insertPersons(
      tx,
      1,
      [crypto.randomUUID(), crypto.randomUUID()].map((uuid) => ({ uuid, properties: {}, createdAt: new Date(), isIdentified: false })),
    ),
  );
  const [first, second] = [...ids.values()];
  const taken = Array.from({ length: 300 }, (_, i) => `link-${i * 5}`);
  expect(
    await t.ctx.db.transaction((tx) =>
      linkDistinctIds(
        tx,
        1,
        taken.map((distinctId) => ({ distinctId, personId: first })),
      ),
    ),
  ).toBe(taken.length);

  const all = Array.from({ length: 1500 }, (_, i) => `link-${i}`);
  const linked = await t.ctx.db.transaction((tx) =>
    linkDistinctIds(
      tx,
      1,
      all.map((distinctId) => ({ distinctId, personId: second })),
    ),
  );
  expect(linked).toBe(all.length - taken.length);
  const owners = await t.sql<{ person_id: string; n: number }>(
    `select person_id::text as person_id, count(*)::int as n from person_distinct_ids where distinct_id like 'link-%' group by person_id order by 2`,
  );
  expect(owners).toEqual([
    { person_id: String(first), n: taken.length },
    { person_id: String(second), n: all.length - taken.length },
  ]);
});

// Personal API keys, looked up by their stored hash.
import { and, asc, count, eq } from 'drizzle-orm';
import type { Db } from '../../platform/db/index.ts';
import { personalApiKeys, users } from '../../platform/db/schema.ts';
import type { User } from '../organizations/users-repository.ts';

export type PersonalApiKey = typeof personalApiKeys.$inferSelect;

export async function findKeyWithUserByHash(db: Db, secureValue: string): Promise<{ key: PersonalApiKey; user: User } | undefined> {
  const [row] = await db
    .select({ key: personalApiKeys, user: users })
    .from(personalApiKeys)
    .innerJoin(users, eq(users.id, personalApiKeys.userId))
    .where(eq(personalApiKeys.secureValue, secureValue))
    .limit(1);
  return row;
}

export async function insertKey(db: Db, values: typeof personalApiKeys.$inferInsert): Promise<PersonalApiKey> {
  const [row] = await db.insert(personalApiKeys).values(values).returning();
  return row;
}

export async function listKeysOfUser(db: Db, userId: number): Promise<PersonalApiKey[]> {
  return db.select().from(personalApiKeys).where(eq(personalApiKeys.userId, userId)).orderBy(asc(personalApiKeys.createdAt));
}

export async function countKeysOfUser(db: Db, userId: number): Promise<number> {
  const [row] = await db.select({ n: count() }).from(personalApiKeys).where(eq(personalApiKeys.userId, userId));
  return Number(row.n);
}

export async function findKeyOfUser(db: Db, userId: number, id: string): Promise<PersonalApiKey | undefined> {
  const [row] = await db
    .select()
    .from(personalApiKeys)
    .where(and(eq(personalApiKeys.userId, userId), eq(personalApiKeys.id, id)))
    .limit(1);
  return row;
}

export async function findKeyById(db: Db, id: string): Promise<PersonalApiKey | undefined> {
  const [row] = await db.select().from(personalApiKeys).where(eq(personalApiKeys.id, id)).limit(1);
  return row;
}

export async function updateKey(db: Db, id: string, values: Partial<typeof personalApiKeys.$inferInsert>): Promise<PersonalApiKey | undefined> {
  const [row] = await db.update(personalApiKeys).set(values).where(eq(personalApiKeys.id, id)).returning();
  return row;
}

export async function deleteKey(db: Db, id: string): Promise<boolean> {
  const rows = await db.delete(personalApiKeys).where(eq(personalApiKeys.id, id)).returning({ id: personalApiKeys.id });
  return rows.length > 0;
}

export async function touchKeyLastUsed(db: Db, id: string, at: Date): Promise<void> {
  await db.update(personalApiKeys).set({ lastUsedAt: at }).where(eq(personalApiKeys.id, id));
}

/** Serializes key creation per user until the transaction ends (the 10-keys limit holds under races). */
export async function lockKeysOfUser(db: Db, userId: number): Promise<void> {
  await db.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
}

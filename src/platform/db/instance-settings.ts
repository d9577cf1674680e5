// Instance-wide settings rows (shared by every process on the database).
import { eq } from 'drizzle-orm';
import type { Db } from './index.ts';
import { instanceSettings } from './schema.ts';

export async function getSetting(db: Db, key: string): Promise<string | undefined> {
  const [row] = await db.select().from(instanceSettings).where(eq(instanceSettings.key, key)).limit(1);
  return row?.value;
}

/** Stores `value` unless the key already has one; returns the value now stored. */
export async function setSettingIfAbsent(db: Db, key: string, value: string): Promise<string> {
  await db.insert(instanceSettings).values({ key, value }).onConflictDoNothing();
  return (await getSetting(db, key))!;
}

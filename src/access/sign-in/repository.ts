// Sign-in rows: sessions, one-time password tokens, and users' password hashes.
import { and, eq, gt, lte, ne, or } from 'drizzle-orm';
import type { Db } from '../../platform/db/index.ts';
import { passwordResetTokens, sessions, users } from '../../platform/db/schema.ts';
import type { User } from '../organizations/users-repository.ts';

export type Session = typeof sessions.$inferSelect;

export async function insertSession(db: Db, values: typeof sessions.$inferInsert): Promise<Session> {
  const [row] = await db.insert(sessions).values(values).returning();
  return row;
}

export async function findSessionWithUser(db: Db, tokenHash: string): Promise<{ session: Session; user: User } | undefined> {
  const [row] = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.tokenHash, tokenHash))
    .limit(1);
  return row;
}

export async function touchSession(db: Db, id: number, lastSeenAt: Date, idleExpiresAt: Date): Promise<void> {
  await db.update(sessions).set({ lastSeenAt, idleExpiresAt }).where(eq(sessions.id, id));
}

export async function deleteSession(db: Db, id: number): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, id));
}

/** Ends every session of a user except `exceptId`; returns how many ended. */
export async function deleteSessionsOfUser(db: Db, userId: number, exceptId?: number): Promise<number> {
  const rows = await db
    .delete(sessions)
    .where(exceptId === undefined ? eq(sessions.userId, userId) : and(eq(sessions.userId, userId), ne(sessions.id, exceptId)))
    .returning({ id: sessions.id });
  return rows.length;
}

/** Housekeeping: sessions past either expiry, and spent set-up links. */
export async function deleteExpired(db: Db, now: Date): Promise<void> {
  await db.delete(sessions).where(or(lte(sessions.expiresAt, now), lte(sessions.idleExpiresAt, now)));
  await db.delete(passwordResetTokens).where(lte(passwordResetTokens.expiresAt, now));
}

export async function setPasswordHash(db: Db, userId: number, passwordHash: string | null): Promise<void> {
  await db.update(users).set({ passwordHash }).where(eq(users.id, userId));
}

export async function insertResetToken(db: Db, values: typeof passwordResetTokens.$inferInsert): Promise<void> {
  await db.insert(passwordResetTokens).values(values);
}

/** The active user a one-time token (still valid at `now`) belongs to. */
export async function findUserByResetToken(db: Db, userUuid: string, tokenHash: string, now: Date): Promise<User | undefined> {
  const [row] = await db
    .select({ user: users })
    .from(passwordResetTokens)
    .innerJoin(users, eq(users.id, passwordResetTokens.userId))
    .where(and(eq(users.uuid, userUuid), eq(passwordResetTokens.tokenHash, tokenHash), gt(passwordResetTokens.expiresAt, now), eq(users.isActive, true)))
    .limit(1);
  return row?.user;
}

/** Deletes a still-valid one-time token; returns its user id (undefined: unknown, used or expired). */
export async function consumeResetToken(db: Db, tokenHash: string, now: Date): Promise<number | undefined> {
  const [row] = await db
    .delete(passwordResetTokens)
    .where(and(eq(passwordResetTokens.tokenHash, tokenHash), gt(passwordResetTokens.expiresAt, now)))
    .returning({ userId: passwordResetTokens.userId });
  return row?.userId;
}

export async function deleteResetTokensOfUser(db: Db, userId: number): Promise<void> {
  await db.delete(passwordResetTokens).where(eq(passwordResetTokens.userId, userId));
}

export async function findUserByUuid(db: Db, uuid: string): Promise<User | undefined> {
  const [row] = await db.select().from(users).where(eq(users.uuid, uuid)).limit(1);
  return row;
}

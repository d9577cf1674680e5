// Console sign-in sessions, stored in the database so that every instance sees them: an opaque
// random cookie value (kept only as sha256), a CSRF token bound to it, idle and absolute expiry.
import crypto from 'node:crypto';
import type { Db } from '../../platform/db/index.ts';
import type { AppContext } from '../../platform/context.ts';
import type { User } from '../organizations/users-repository.ts';
import { hashKeyValue } from '../tokens.ts';
import { deleteSession, deleteSessionsOfUser, findSessionWithUser, insertSession, touchSession, type Session } from './repository.ts';

export type { Session };

/** A session's last-seen time is written at most this often (idle expiry is this coarse). */
export const TOUCH_RESOLUTION_MS = 60_000;

export interface NewSession {
  session: Session;
  /** The `sessionid` cookie value: shown to the browser once, stored only hashed. */
  token: string;
  /** The `csrftoken` cookie value the console echoes in `X-CSRFToken`. */
  csrfToken: string;
}

export const newToken = () => crypto.randomBytes(32).toString('base64url');

/** Starts a session for `user` (inside the caller's transaction when `db` is one). */
export async function startSession(ctx: AppContext, db: Db, user: User, client: { userAgent?: string; ip?: string }): Promise<NewSession> {
  const now = ctx.now();
  const { idleMs, maxAgeMs } = ctx.config.sessions;
  const token = newToken();
  const csrfToken = newToken();
  const expiresAt = new Date(now.getTime() + maxAgeMs);
  const session = await insertSession(db, {
    tokenHash: hashKeyValue(token),
    csrfTokenHash: hashKeyValue(csrfToken),
    userId: user.id,
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: new Date(Math.min(now.getTime() + idleMs, expiresAt.getTime())),
    expiresAt,
    userAgent: (client.userAgent ?? '').slice(0, 512),
    ip: (client.ip ?? '').slice(0, 64),
  });
  return { session, token, csrfToken };
}

/**
 * The live session behind a cookie value and its active user, or undefined. A session past its
 * idle or absolute expiry is deleted on sight; a live one is touched (at most once a minute),
 * which moves its idle expiry forward but never past the absolute one.
 */
export async function resolveSession(ctx: AppContext, token: string): Promise<{ session: Session; user: User } | undefined> {
  if (token.length > 256) return undefined;
  const found = await findSessionWithUser(ctx.db, hashKeyValue(token));
  if (!found) return undefined;
  const now = ctx.now().getTime();
  const { session, user } = found;
  if (session.expiresAt.getTime() <= now || session.idleExpiresAt.getTime() <= now) {
    // The session is refused either way; a row left behind is deleted on its next use.
    await deleteSession(ctx.db, session.id).catch((err) => ctx.log.warn({ err }, 'could not delete an expired session'));
    return undefined;
  }
  if (!user.isActive) return undefined;
  if (now - session.lastSeenAt.getTime() >= TOUCH_RESOLUTION_MS) {
    const idleExpiresAt = new Date(Math.min(now + ctx.config.sessions.idleMs, session.expiresAt.getTime()));
    await touchSession(ctx.db, session.id, new Date(now), idleExpiresAt);
    session.lastSeenAt = new Date(now);
    session.idleExpiresAt = idleExpiresAt;
  }
  return found;
}

/** Whether `csrfToken` is the one bound to this session. */
export function csrfTokenMatches(session: Session, csrfToken: string): boolean {
  const a = Buffer.from(hashKeyValue(csrfToken));
  const b = Buffer.from(session.csrfTokenHash);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export async function endSession(ctx: AppContext, session: Session): Promise<void> {
  await deleteSession(ctx.db, session.id);
}

/** A password change or deactivation: the user's other sessions end on every instance. */
export async function endSessionsOfUser(db: Db, userId: number, exceptSessionId?: number): Promise<number> {
  return deleteSessionsOfUser(db, userId, exceptSessionId);
}

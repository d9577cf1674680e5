// Signing in and passwords: password login with failed-attempt limits, password changes (which end
// the user's other sessions everywhere), and one-time set-password links (the first admin's).
import type { Db } from '../../platform/db/index.ts';
import type { Config, SessionConfig } from '../../platform/config.ts';
import { transact, type AppContext } from '../../platform/context.ts';
import { RateLimiter } from '../rate-limit.ts';
import { findUserByEmail, type User } from '../organizations/users-repository.ts';
import { ThrottledError, ValidationError } from '../../platform/errors.ts';
import { hashKeyValue } from '../tokens.ts';
import { checkNewPassword, hashPassword, verifyPassword } from './passwords.ts';
import { endSessionsOfUser, newToken, startSession, type NewSession } from './sessions.ts';
import {
  consumeResetToken,
  deleteExpired,
  findUserByUuid,
  deleteResetTokensOfUser,
  findUserByResetToken,
  insertResetToken,
  setPasswordHash,
} from './repository.ts';

export interface Client {
  userAgent?: string;
  ip?: string;
}

/** How long a set-password link works (Django's PASSWORD_RESET_TIMEOUT, which PostHog keeps). */
export const SETUP_LINK_TTL_MS = 24 * 3_600_000;

export const invalidCredentials = () => new ValidationError('Invalid email or password.', 'invalid_credentials');

/**
 * Failed sign-ins per account (email) and per client address, each a GCRA bucket of N an hour.
 * Only failures count; while either bucket is empty every attempt is refused with 429, even one
 * with the right password, so guessing cannot go on. Per instance, in memory.
 */
export class FailedLoginLimits {
  private readonly accounts: RateLimiter;
  private readonly addresses: RateLimiter;

  constructor(config: SessionConfig, clock: () => number) {
    this.accounts = new RateLimiter([{ limit: config.failuresPerAccount, periodMs: 3_600_000 }], undefined, clock);
    this.addresses = new RateLimiter([{ limit: config.failuresPerAddress, periodMs: 3_600_000 }], undefined, clock);
  }

  check(email: string, ip: string): void {
    const wait = Math.max(this.accounts.wait(email.toLowerCase()), this.addresses.wait(ip));
    if (wait > 0) throw new ThrottledError(wait);
  }

  recordFailure(email: string, ip: string): void {
    this.accounts.take(email.toLowerCase());
    this.addresses.take(ip);
  }
}

/** Email and password to a new session; unknown email and wrong password fail alike. */
export async function passwordLogin(ctx: AppContext, limits: FailedLoginLimits, email: string, password: string, client: Client): Promise<NewSession> {
  const ip = client.ip ?? '';
  limits.check(email, ip);
  const user = await findUserByEmail(ctx.db, email);
  // Runs the same hash work whether or not the user exists or has a password.
  const ok = await verifyPassword(password, user?.isActive ? user.passwordHash : undefined);
  if (!user || !user.isActive || !ok) {
    limits.recordFailure(email, ip);
    throw invalidCredentials();
  }
  return transact(ctx, async (tx) => {
    await deleteExpired(tx, ctx.now());
    return startSession(ctx, tx, user, client);
  });
}

/**
 * Sets a user's password inside `tx`: every session of the user ends (on every instance, as
 * sessions are read from the database) except `keepSessionId`, and unused set-password links die.
 */
export async function setPasswordIn(tx: Db, user: User, password: string, keepSessionId?: number): Promise<void> {
  checkNewPassword(password);
  await setPasswordHash(tx, user.id, await hashPassword(password));
  await deleteResetTokensOfUser(tx, user.id);
  await endSessionsOfUser(tx, user.id, keepSessionId);
}

export class UnknownUserError extends Error {}

/** The CLI's `users set-password`. */
export async function setPasswordByEmail(ctx: AppContext, email: string, password: string): Promise<User> {
  checkNewPassword(password);
  return transact(ctx, async (tx) => {
    const user = await findUserByEmail(tx, email);
    if (!user) throw new UnknownUserError(`No user with email ${email}.`);
    await setPasswordIn(tx, user, password);
    return user;
  });
}

/** PATCH /api/users/@me/ with `password`: PostHog's checks; the current session stays. */
export async function changeOwnPassword(
  ctx: AppContext,
  user: User,
  body: { password: string; current_password?: unknown },
  keepSessionId?: number,
): Promise<void> {
  if (user.passwordHash) {
    const current = typeof body.current_password === 'string' ? body.current_password : '';
    if (!current) throw new ValidationError('This field is required when updating your password.', 'required', 'current_password');
    if (!(await verifyPassword(current, user.passwordHash))) {
      throw new ValidationError('Your current password is incorrect.', 'incorrect_password', 'current_password');
    }
  }
  checkNewPassword(body.password);
  await transact(ctx, (tx) => setPasswordIn(tx, user, body.password, keepSessionId));
}

/** A one-time set-password link's token for `user`, valid 24 hours; only its hash is stored. */
export async function createSetupToken(ctx: AppContext, db: Db, user: User): Promise<string> {
  const token = newToken();
  const now = ctx.now();
  await insertResetToken(db, { userId: user.id, tokenHash: hashKeyValue(token), createdAt: now, expiresAt: new Date(now.getTime() + SETUP_LINK_TTL_MS) });
  return token;
}

/** The console page a set-password link opens: `<public URL>/reset/<user uuid>/<token>`. */
export function setupLinkUrl(config: Pick<Config, 'publicUrl' | 'host' | 'port'>, userUuid: string, token: string): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const base = config.publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
  return `${base}/reset/${userUuid}/${token}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const invalidToken = () => new ValidationError('This reset token is invalid or has expired.', 'invalid_token', 'token');

/** The user a set-password link is for; PostHog's 400 when the link is unknown, used or expired. */
export async function checkSetupToken(ctx: AppContext, userUuid: string, token: string | undefined): Promise<User> {
  if (!token) throw new ValidationError('This field is required.', 'required', 'token');
  if (!UUID.test(userUuid) || token.length > 256) throw invalidToken();
  const user = await findUserByResetToken(ctx.db, userUuid.toLowerCase(), hashKeyValue(token), ctx.now());
  if (!user) throw invalidToken();
  return user;
}

/** Uses a set-password link: sets the password (the link dies with it) and signs the user in. */
export async function completeSetup(ctx: AppContext, userUuid: string, token: string | undefined, password: string, client: Client): Promise<NewSession> {
  await checkSetupToken(ctx, userUuid, token);
  checkNewPassword(password);
  return transact(ctx, async (tx) => {
    // Consumed inside the transaction: of two concurrent uses of one link, one sets the password.
    const userId = await consumeResetToken(tx, hashKeyValue(token!), ctx.now());
    const user = userId === undefined ? undefined : await findUserByUuid(tx, userUuid.toLowerCase());
    if (!user || user.id !== userId || !user.isActive) throw invalidToken();
    await setPasswordIn(tx, user, password);
    return startSession(ctx, tx, user, client);
  });
}

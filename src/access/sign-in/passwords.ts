// Passwords: PostHog's validation rule (at least 8 characters) and scrypt hashing (node:crypto).
// A stored hash reads `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64), so the cost can rise later
// without invalidating older hashes.
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { ValidationError } from '../../platform/errors.ts';

const scrypt = promisify(crypto.scrypt) as (password: string, salt: Buffer, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;

/** Django's MinimumLengthValidator default, which PostHog uses. */
export const MIN_PASSWORD_LENGTH = 8;
/** Longer inputs are refused before any hashing: the work per request stays bounded. */
export const MAX_PASSWORD_LENGTH = 1024;

const COST = { N: 1 << 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
// scrypt needs 128 * N * r bytes; node's default ceiling (32 MiB) is exactly that, so allow headroom.
const maxmem = (N: number, r: number) => 256 * N * r;

/** Problems with a new password, in Django's words; empty when it is acceptable. */
export function passwordProblems(password: string): string[] {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return [`This password is too short. It must contain at least ${MIN_PASSWORD_LENGTH} characters.`];
  }
  if (password.length > MAX_PASSWORD_LENGTH) return [`This password is too long. It must contain at most ${MAX_PASSWORD_LENGTH} characters.`];
  return [];
}

/** Throws PostHog's 400 (`attr` password) when the new password is not acceptable. */
export function checkNewPassword(password: string, attr = 'password'): void {
  const [problem] = passwordProblems(password);
  if (problem) throw new ValidationError(problem, 'invalid', attr);
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const { N, r, p } = COST;
  const hash = await scrypt(password, salt, KEY_LENGTH, { N, r, p, maxmem: maxmem(N, r) });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

// Verifying against this costs as much as against a real hash: an unknown email and a wrong
// password take the same time.
let decoy: Promise<string> | undefined;

/** Whether `password` matches `stored`; null/undefined `stored` runs a decoy check and fails. */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  const parts = (stored ?? (await (decoy ??= hashPassword(crypto.randomBytes(16).toString('hex'))))).split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every(Number.isSafeInteger) || N > 1 << 20 || r > 32 || p > 16) return false;
  const expected = Buffer.from(parts[5], 'base64');
  const actual = await scrypt(password, Buffer.from(parts[4], 'base64'), expected.length, { N, r, p, maxmem: maxmem(N, r) });
  return stored != null && actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}

// Deterministic bucketing hashes shared by PostHog's server and SDKs (SDK spec §3.3).
import crypto from 'node:crypto';

// 15 hex digits = 60 bits. The literal is not exactly representable as a double; like
// upstream we divide by its double value (2^60), which reproduces the published vectors.
const LONG_SCALE = 0xfffffffffffffff;

type OneShotHash = (algorithm: string, data: string, outputEncoding: 'latin1') => string;
const oneShot: OneShotHash | undefined = (crypto as unknown as { hash?: OneShotHash }).hash;

/** The SHA-1 digest as a latin1 string: one character per byte, no hex to encode or parse. */
function sha1Bytes(input: string): string {
  // One-shot crypto.hash avoids allocating a Hash object (about twice as fast).
  if (oneShot) return oneShot('sha1', input, 'latin1');
  return crypto.createHash('sha1').update(input, 'utf8').digest('latin1' as 'hex');
}

/** `int(sha1(prefix + id + salt)[0:15], 16) / 0xFFFFFFFFFFFFFFF`, a float in [0, 1]. */
export function hash(prefix: string, id: string, salt = ''): number {
  const d = sha1Bytes(prefix + id + salt);
  // The first 15 hex digits are 60 bits: bytes 0–3, then bytes 4–6 and the high nibble of byte 7.
  const high = d.charCodeAt(0) * 0x1000000 + ((d.charCodeAt(1) << 16) | (d.charCodeAt(2) << 8) | d.charCodeAt(3));
  const low = (d.charCodeAt(4) << 20) | (d.charCodeAt(5) << 12) | (d.charCodeAt(6) << 4) | (d.charCodeAt(7) >>> 4);
  // One rounding to double, of the exact 60-bit integer, as parseInt (and Rust's `as f64`) does.
  return (high * 0x10000000 + low) / LONG_SCALE;
}

/**
 * Rollout (salt "") or variant (salt "variant") hash of a flag. The server answers 0.0 for an
 * empty bucketing value (always inside a rollout) where the SDKs would hash `"key."`.
 */
export function flagHash(flagKey: string, bucketingValue: string, salt = ''): number {
  if (bucketingValue === '') return 0;
  return hash(flagKey + '.', bucketingValue, salt);
}

/** Holdout hash: no flag key, no dot; the server hashes even an empty value. */
export function holdoutHash(bucketingValue: string): number {
  return hash('holdout-', bucketingValue, '');
}

// Deterministic bucketing hashes shared by PostHog's server and SDKs (docs/compatibility.md#sdk-3.3).
import { sha1First60Bits } from './sha1.js';

// 15 hex digits = 60 bits. The literal is not exactly representable as a double; like
// upstream we divide by its double value (2^60), which reproduces the published vectors.
// biome-ignore lint/correctness/noPrecisionLoss: intended, see above: the double value is the one upstream divides by
const LONG_SCALE = 0xfffffffffffffff;

/** `int(sha1(prefix + id + salt)[0:15], 16) / 0xFFFFFFFFFFFFFFF`, a float in [0, 1]. */
export function hash(prefix: string, id: string, salt = ''): number {
  return sha1First60Bits(prefix, id, salt) / LONG_SCALE;
}

/**
 * Rollout (salt "") or variant (salt "variant") hash of a flag. The server answers 0.0 for an
 * empty bucketing value (always inside a rollout) where the SDKs would hash `"key."`.
 */
export function flagHash(flagKey: string, bucketingValue: string, salt = ''): number {
  if (bucketingValue === '') return 0;
  return sha1First60Bits(flagKey, '.', bucketingValue, salt) / LONG_SCALE;
}

/** Holdout hash: no flag key, no dot; the server hashes even an empty value. */
export function holdoutHash(bucketingValue: string): number {
  return hash('holdout-', bucketingValue, '');
}

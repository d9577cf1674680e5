// The one place that reads PostgreSQL error codes; Drizzle wraps driver errors, so look in `cause` too.
import { ValidationError, type ApiError } from '../lib/errors.ts';

/** The first value of `field` along the error's `cause` chain that passes `accept`. */
function fromCauses(error: unknown, field: 'code' | 'constraint', accept: (v: string) => boolean): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const value = (current as Record<string, unknown>)[field];
    if (typeof value === 'string' && accept(value)) return value;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function pgErrorCode(error: unknown): string | undefined {
  return fromCauses(error, 'code', (v) => /^[0-9A-Z]{5}$/.test(v));
}

export const isUniqueViolation = (error: unknown): boolean => pgErrorCode(error) === '23505';
export const isSerializationFailure = (error: unknown): boolean => {
  const code = pgErrorCode(error);
  return code === '40001' || code === '40P01';
};

/**
 * Unique indexes whose violation means the client lost a race with a concurrent request that
 * passed the same check first: answered as the check itself answers when the requests come one
 * after the other.
 */
const RACED_CHECKS: Record<string, () => ApiError> = {
  feature_flags_project_key_idx: () => new ValidationError('There is already a feature flag with this key.', 'unique', 'key'),
};

/** The API error for a unique violation of an index in RACED_CHECKS, else undefined. */
export function racedCheckError(error: unknown): ApiError | undefined {
  if (!isUniqueViolation(error)) return undefined;
  const constraint = fromCauses(error, 'constraint', (v) => Object.hasOwn(RACED_CHECKS, v));
  return constraint ? RACED_CHECKS[constraint]() : undefined;
}

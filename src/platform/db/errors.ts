// The one place that reads PostgreSQL error codes; Drizzle wraps driver errors, so look in `cause` too.
import { ValidationError, type ApiError } from '../errors.ts';

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

/** The database did not answer (refused, cut, hung or known to be down): the request may be retried. */
export class DatabaseUnavailableError extends Error {
  readonly code = 'database_unavailable';
  constructor(message = 'database unavailable') {
    super(message);
    this.name = 'DatabaseUnavailableError';
  }
}

/** A client-side deadline expired before the database answered. */
export class DatabaseTimeoutError extends Error {
  readonly code = 'database_timeout';
  /** What timed out, in PostHog's words: `client_timeout`, `pool_timeout`, `query_canceled`. */
  constructor(
    readonly kind: string,
    message = `database timeout (${kind})`,
  ) {
    super(message);
    this.name = 'DatabaseTimeoutError';
  }
}

/** Socket-level failures: the server is not there (or went away mid-conversation). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOENT']);
/** node-postgres and pg-pool report a lost or timed-out connection with plain messages. */
const LOST_CONNECTION = /^(Connection terminated|Client has encountered a connection error|Client was closed)/;

export type DatabaseFailure = { kind: 'unavailable' } | { kind: 'timeout'; what: string };

/**
 * Whether an error means the database could not be reached or did not answer in time (as opposed
 * to a query the database refused): such requests get a 503 and may be retried. Drizzle wraps
 * driver errors, so causes are followed too.
 */
export function databaseFailure(error: unknown): DatabaseFailure | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    if (current instanceof DatabaseUnavailableError) return { kind: 'unavailable' };
    if (current instanceof DatabaseTimeoutError) return { kind: 'timeout', what: current.kind };
    const e = current as { code?: unknown; message?: unknown; severity?: unknown };
    const message = typeof e.message === 'string' ? e.message : '';
    if (typeof e.code === 'string') {
      // A SQLSTATE from the server (it has a severity) or a socket errno.
      if (e.severity !== undefined) {
        if (e.code === '57014') return { kind: 'timeout', what: 'query_canceled' };
        if (/^(08|57P)/.test(e.code) || e.code === '53300') return { kind: 'unavailable' };
      } else if (NETWORK_CODES.has(e.code)) {
        return { kind: 'unavailable' };
      }
    }
    if (message === 'Query read timeout') return { kind: 'timeout', what: 'client_timeout' };
    if (
      message === 'timeout exceeded when trying to connect' ||
      message === 'Connection terminated due to connection timeout' ||
      message === 'timeout expired'
    ) {
      return { kind: 'timeout', what: 'pool_timeout' };
    }
    if (LOST_CONNECTION.test(message)) return { kind: 'unavailable' };
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

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

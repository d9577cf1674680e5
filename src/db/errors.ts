// The one place that reads PostgreSQL error codes; Drizzle wraps driver errors, so look in `cause` too.

export function pgErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export const isUniqueViolation = (error: unknown): boolean => pgErrorCode(error) === '23505';
export const isSerializationFailure = (error: unknown): boolean => {
  const code = pgErrorCode(error);
  return code === '40001' || code === '40P01';
};

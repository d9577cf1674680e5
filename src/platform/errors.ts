// Typed API errors; the error plugin renders each as PostHog's envelope {type, code, detail, attr}.

export interface ErrorEnvelope {
  type: string;
  code: string;
  detail: string;
  attr: string | null;
}

export class ApiError extends Error {
  readonly statusCode: number;
  /** null renders an empty body (PostHog's bare 405/404 answers). */
  readonly body: unknown;
  readonly headers: Record<string, string>;

  constructor(statusCode: number, body: unknown, headers: Record<string, string> = {}) {
    super(typeof body === 'object' && body && 'detail' in body ? String((body as ErrorEnvelope).detail) : `HTTP ${statusCode}`);
    this.statusCode = statusCode;
    this.body = body;
    this.headers = headers;
  }
}

const envelope = (type: string, code: string, detail: string, attr: string | null = null): ErrorEnvelope => ({
  type,
  code,
  detail,
  attr,
});

export class ValidationError extends ApiError {
  readonly code: string;
  readonly attr: string | null;
  constructor(detail: string, code = 'invalid_input', attr: string | null = null) {
    super(400, envelope('validation_error', code, detail, attr));
    this.code = code;
    this.attr = attr;
  }
}

export class ParseError extends ApiError {
  constructor(detail: string) {
    super(400, envelope('invalid_request', 'parse_error', detail));
  }
}

export class NotAuthenticatedError extends ApiError {
  constructor(detail = 'Authentication credentials were not provided.') {
    super(401, envelope('authentication_error', 'not_authenticated', detail), { 'www-authenticate': 'Bearer' });
  }
}

export class AuthenticationFailedError extends ApiError {
  constructor(detail = 'Incorrect authentication credentials.') {
    super(401, envelope('authentication_error', 'authentication_failed', detail), { 'www-authenticate': 'Bearer' });
  }
}

export class PermissionDeniedError extends ApiError {
  constructor(detail = 'You do not have permission to perform this action.') {
    super(403, envelope('authentication_error', 'permission_denied', detail));
  }
}

export class NotFoundError extends ApiError {
  constructor(detail = 'Not found.') {
    super(404, envelope('invalid_request', 'not_found', detail));
  }
}

export class MethodNotAllowedError extends ApiError {
  constructor(method: string) {
    super(405, envelope('invalid_request', 'method_not_allowed', `Method "${method}" not allowed.`));
  }
}

export class ConflictError extends ApiError {
  constructor(detail: string) {
    super(409, envelope('server_error', 'conflict', detail));
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(limit: number, detail = `Request body exceeds the limit of ${limit} bytes.`) {
    super(413, envelope('invalid_request', 'request_too_large', detail));
  }
}

export class UnsupportedMediaTypeError extends ApiError {
  constructor(mediaType: string) {
    super(415, envelope('invalid_request', 'unsupported_media_type', `Unsupported media type "${mediaType}" in request.`));
  }
}

export class ThrottledError extends ApiError {
  constructor(retryAfterSeconds: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, envelope('throttled_error', 'throttled', `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.`), {
      'retry-after': String(seconds),
    });
  }
}

/**
 * 503: something the request needs (the database) cannot be reached or did not answer in time.
 * Nothing is wrong with the request; retrying later may succeed.
 */
export class ServiceUnavailableError extends ApiError {
  constructor(detail = 'The database is unavailable right now. Please retry.') {
    super(503, envelope('server_error', 'service_unavailable', detail));
  }
}

/** A non-envelope body (`{"error": …}`, `{"success": false, …}`) or an empty one (body null). */
export class RawError extends ApiError {}

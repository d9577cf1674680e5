// CSRF protection for requests authenticated by the session cookie: the Origin (or Referer) must be
// this server, and a state-changing request must echo the session's CSRF token in X-CSRFToken.
// Django's refusal messages, in PostHog's 403 envelope.
import type { FastifyRequest } from 'fastify';
import { PermissionDeniedError } from '../../platform/errors.ts';
import { csrfTokenMatches, type Session } from './sessions.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export const isSafeMethod = (method: string) => SAFE_METHODS.has(method);

const refuse = (reason: string) => new PermissionDeniedError(`CSRF Failed: ${reason}`);

function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.origin === 'null' ? undefined : parsed.origin;
  } catch {
    return undefined;
  }
}

/** The origins a browser shows for this server: the request's own, and FLAGHOST_PUBLIC_URL's. */
function trustedOrigins(request: FastifyRequest, publicUrl: string | undefined): Set<string> {
  const origins = new Set<string>();
  const own = originOf(`${request.protocol}://${request.host}`);
  if (own) origins.add(own);
  const configured = publicUrl ? originOf(publicUrl) : undefined;
  if (configured) origins.add(configured);
  return origins;
}

/**
 * Refuses a cross-site request: an Origin (or, without one, a Referer) that is not this server.
 * `required`: refuse too when the browser sent neither (every state-changing fetch sends Origin).
 */
export function checkOrigin(request: FastifyRequest, publicUrl: string | undefined, required: boolean): void {
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== '') {
    if (!trustedOrigins(request, publicUrl).has(originOf(origin) ?? origin)) {
      throw refuse(`Origin checking failed - ${origin} does not match any trusted origins.`);
    }
    return;
  }
  const referer = request.headers.referer;
  if (typeof referer === 'string' && referer !== '') {
    const refererOrigin = originOf(referer);
    if (!refererOrigin) throw refuse('Referer checking failed - Referer is malformed.');
    if (!trustedOrigins(request, publicUrl).has(refererOrigin)) {
      throw refuse(`Referer checking failed - ${referer} does not match any trusted origins.`);
    }
    return;
  }
  if (required) throw refuse('Referer checking failed - no Referer.');
}

/** The full check for a session-authenticated request (safe methods pass). */
export function checkCsrf(request: FastifyRequest, session: Session, publicUrl: string | undefined): void {
  if (isSafeMethod(request.method)) return;
  checkOrigin(request, publicUrl, true);
  const header = request.headers['x-csrftoken'];
  const token = Array.isArray(header) ? header[0] : header;
  if (!token) throw refuse('CSRF token missing.');
  if (!csrfTokenMatches(session, token)) throw refuse('CSRF token incorrect.');
}

// The console's two cookies: `sessionid` (httpOnly) and `csrftoken` (read by the console's script).
// Parsed only where a route needs them, so no hook runs on every request.
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'sessionid';
export const CSRF_COOKIE = 'csrftoken';

/** One cookie's value from the request's Cookie header (first occurrence wins). */
export function readCookie(request: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    return value === '' ? undefined : value;
  }
  return undefined;
}

/** Whether the client reached us over https (TLS here, or `x-forwarded-proto` from the proxy). */
export const isHttps = (request: FastifyRequest) => request.protocol === 'https';

function cookie(request: FastifyRequest, name: string, value: string, maxAgeSeconds: number, httpOnly: boolean): string {
  const parts = [`${name}=${value}`, 'Path=/', `Max-Age=${maxAgeSeconds}`, 'SameSite=Lax'];
  if (maxAgeSeconds === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (httpOnly) parts.push('HttpOnly');
  if (isHttps(request)) parts.push('Secure');
  return parts.join('; ');
}

export function setSessionCookies(request: FastifyRequest, reply: FastifyReply, token: string, csrfToken: string, maxAgeMs: number): void {
  const seconds = Math.floor(maxAgeMs / 1000);
  reply.header('set-cookie', [cookie(request, SESSION_COOKIE, token, seconds, true), cookie(request, CSRF_COOKIE, csrfToken, seconds, false)]);
}

export function clearSessionCookies(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', [cookie(request, SESSION_COOKIE, '', 0, true), cookie(request, CSRF_COOKIE, '', 0, false)]);
}

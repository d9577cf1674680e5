// Request bodies for the management API: JSON (empty body allowed, DRF-style parse errors, bounded
// nesting) and form-encoded bodies, which PostHog's API accepts too.
import type { FastifyInstance } from 'fastify';
import { ParseError, ValidationError } from '../lib/errors.ts';
import { jsonTooDeep, MAX_JSON_DEPTH } from '../lib/json.ts';

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`JSON parse error - ${(err as Error).message}`);
  }
  // Fastify turns an absent body into null too; a literal JSON null is refused here, as DRF does.
  if (parsed === null) throw new ValidationError('This field may not be null.', 'null', null);
  if (jsonTooDeep(parsed)) throw new ParseError(`JSON parse error - nesting deeper than ${MAX_JSON_DEPTH} levels`);
  return parsed;
}

export function parseFormBody(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) out[key] = value;
  return { ...out };
}

export function registerBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  const json = (_req: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, json);
  app.addContentTypeParser(/^application\/[\w.+-]*\+json$/, { parseAs: 'string' }, json);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseFormBody(body as string));
  });
}

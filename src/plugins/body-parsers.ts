// Request bodies for the management API: JSON (empty body allowed, DRF-style parse errors, bounded
// nesting) and form-encoded bodies, which PostHog's API accepts too.
import type { FastifyInstance } from 'fastify';
import { ParseError, ValidationError } from '../lib/errors.ts';

const MAX_DEPTH = 64;

/** Nesting depth of parsed JSON; deep bodies are refused before any code walks them recursively. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

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
  if (depthExceeds(parsed, MAX_DEPTH)) throw new ParseError(`JSON parse error - nesting deeper than ${MAX_DEPTH} levels`);
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

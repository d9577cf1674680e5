// Request bodies for the management API: JSON (empty body allowed, DRF-style parse errors, bounded
// nesting checked before parsing, large bodies parsed in pieces) and form-encoded bodies, which
// PostHog's API accepts too. Bodies are read by raw-body.ts (no large copy at the end).
import type { FastifyInstance } from 'fastify';
import { ParseError, ValidationError } from '../errors.ts';
import { MAX_JSON_DEPTH } from '../json.ts';
import { JsonTooDeepError, parseJsonBytes, parseJsonBytesSync } from '../bounded-json.ts';
import { addBufferParser } from './raw-body.ts';

/** Form bodies are parsed in one go, so they are kept small (JSON bodies are parsed in pieces). */
export const MAX_FORM_BODY_BYTES = 1024 * 1024;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function parseError(err: unknown): Error {
  if (err instanceof JsonTooDeepError) return new ParseError(`JSON parse error - nesting deeper than ${MAX_JSON_DEPTH} levels`);
  if (err instanceof SyntaxError) return new ParseError(`JSON parse error - ${err.message}`);
  return err as Error;
}

function checked(parsed: unknown): unknown {
  // Fastify turns an absent body into null too; a literal JSON null is refused here, as DRF does.
  if (parsed === null) throw new ValidationError('This field may not be null.', 'null', null);
  return parsed;
}

/** A JSON body: undefined when blank; synchronous for small bodies, a promise for large ones. */
export function parseJsonBody(body: Uint8Array): unknown | Promise<unknown> {
  let blank = true;
  for (let i = 0; i < body.length && blank; i++) blank = isSpace(body[i]);
  if (blank) return undefined;
  let parsed: unknown;
  try {
    parsed = parseJsonBytes(body, { maxDepth: MAX_JSON_DEPTH });
  } catch (err) {
    throw parseError(err);
  }
  return parsed instanceof Promise
    ? parsed.then(checked, (err) => {
        throw parseError(err);
      })
    : checked(parsed);
}

/** Whether a request's body came as form data (multipart or urlencoded), whose JSON fields are text. */
export const isFormContentType = (contentType: string | undefined): boolean =>
  /^\s*(multipart\/form-data|application\/x-www-form-urlencoded)/i.test(contentType ?? '');

/**
 * Form data carries JSON fields as text; DRF's JSONField parses them (the nesting bounded as for
 * JSON bodies). Returns a copy of `input` with those fields parsed; a field that is not valid JSON
 * answers 400 on that attribute.
 */
export function parseFormJsonFields(input: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out = { ...input };
  for (const field of fields) {
    const text = out[field];
    if (typeof text !== 'string') continue;
    try {
      out[field] = parseJsonBytesSync(Buffer.from(text, 'utf8'), { maxDepth: MAX_JSON_DEPTH });
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      throw new ValidationError('Value must be valid JSON.', 'invalid_input', field);
    }
  }
  return out;
}

export function parseFormBody(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) out[key] = value;
  return { ...out };
}

export function registerBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  addBufferParser(app, 'application/json', (_request, body) => parseJsonBody(body));
  addBufferParser(app, /^application\/[\w.+-]*\+json$/, (_request, body) => parseJsonBody(body));
  addBufferParser(app, 'application/x-www-form-urlencoded', (_request, body) => parseFormBody(body.toString('utf8')), MAX_FORM_BODY_BYTES);
}

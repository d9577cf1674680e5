// What may reach a log line: tokens, keys and secrets are redacted wherever they appear, query
// parameters never appear, and every line is capped. The pino options in app.ts apply it to every
// logger built from them (Fastify's, its request children, the ingestion's).

/** No log line is longer than this (bytes, newline included). */
export const LOG_LINE_MAX_BYTES = 16 * 1024;
/** Longest string value kept in a log object; longer ones are cut and say by how much. */
export const LOG_STRING_MAX_CHARS = 2048;
const STACK_MAX_CHARS = 4096;
const MAX_DEPTH = 5;
const MAX_KEYS = 40;
const MAX_ITEMS = 20;
const REDACTED = '[redacted]';

// Project tokens, secret tokens and personal API keys, wherever they appear in text.
const TOKEN = /\b(ph[csx]_)[A-Za-z0-9]+/g;
// A bearer credential quoted in a message (an Authorization header), whatever its format.
const AUTH_SCHEME = /\b(Bearer)(\s+|%20|\+)[A-Za-z0-9._~+/=-]{8,}/gi;
// Object keys whose values are credentials or query parameters: dropped whatever they hold.
const SENSITIVE_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|personal_api_key|secret_api_key|project_secret_api_key|api_key|token|secret|secret_key|password|params|parameters)$/i;
// Error properties that repeat a failed query's parameters or values (Drizzle, node-postgres, PGlite).
// `query` is dropped too: the message already says which statement failed.
const ERROR_DROPPED = new Set(['params', 'parameters', 'where', 'internalQuery', 'queryOptions', 'query', 'stack', 'message', 'cause', 'errors']);

const literalSecrets = new Set<string>();
let literalPattern: RegExp | undefined;
let longestSecret = 0;

/** A secret value known at run time (the payload key, a database password): redacted from every line. */
export function registerLogSecret(value: string | undefined): void {
  if (!value || value.length < 8 || literalSecrets.has(value)) return;
  literalSecrets.add(value);
  longestSecret = Math.max(longestSecret, value.length);
  const alternatives = [...literalSecrets].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  literalPattern = new RegExp(alternatives.join('|'), 'g');
}

/** Text with every token, credential and registered secret replaced. */
export function redactText(text: string): string {
  let out = text.replace(TOKEN, `$1${REDACTED}`).replace(AUTH_SCHEME, `$1 ${REDACTED}`);
  if (literalPattern) out = out.replace(literalPattern, REDACTED);
  return out;
}

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

/** Capped text, redacted: a long text is redacted a little beyond the cut, so no half token remains. */
export function safeText(text: string, max = LOG_STRING_MAX_CHARS): string {
  if (text.length <= max) return redactText(text);
  const kept = redactText(text.slice(0, max + 64 + longestSecret)).slice(0, max);
  return `${kept}… [${text.length - max} more characters]`;
}

/** A log message: no query parameters, redacted, capped. */
export function safeMessage(message: string): string {
  return safeText(withoutParams(message));
}

/** Drizzle's message is `Failed query: <sql>\nparams: <every parameter>`: keep the SQL only. */
function withoutParams(message: string): string {
  const at = message.indexOf('\nparams: ');
  return at === -1 ? message : message.slice(0, at);
}

function stackFrames(stack: unknown): string | undefined {
  if (typeof stack !== 'string') return undefined;
  // The stack's first lines repeat the message (parameters included); the frames are enough.
  const frames = stack.split('\n').filter((line) => /^\s+at /.test(line));
  return frames.length ? safeText(frames.join('\n'), STACK_MAX_CHARS) : undefined;
}

type Serialized = Record<string, unknown>;

/** An error as a log shows it: type, message (no query parameters), frames, scalar fields, causes. */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return sanitizeValue(err, depth);
  const source = err as Error & Record<string, unknown>;
  const className = err.constructor?.name ?? '';
  const out: Serialized = {
    // A minified class name ("O") says less than the error's own name.
    type: className.length > 2 && className !== 'Error' ? className : err.name,
    message: safeText(withoutParams(String(err.message ?? ''))),
  };
  const stack = stackFrames(err.stack);
  if (stack) out.stack = stack;
  let kept = 0;
  for (const key of Object.keys(source)) {
    if (ERROR_DROPPED.has(key) || kept >= MAX_KEYS) continue;
    const value = source[key];
    if (SENSITIVE_KEY.test(key)) out[key] = REDACTED;
    // PostgreSQL's "Failing row contains (…)" repeats every value of the row.
    else if (key === 'detail' && typeof value === 'string' && value.startsWith('Failing row contains')) out[key] = 'Failing row contains [values not logged]';
    else if (typeof value === 'string') out[key] = safeText(withoutParams(value));
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else continue;
    kept++;
  }
  if (depth < MAX_DEPTH && source.cause !== undefined) out.cause = serializeError(source.cause, depth + 1);
  if (depth < MAX_DEPTH && Array.isArray(source.errors)) out.errors = source.errors.slice(0, 5).map((e) => serializeError(e, depth + 1));
  return out;
}

/** A copy of any logged value that is safe to write: see the module comment. */
export function sanitizeValue(value: unknown, depth = 0): unknown {
  switch (typeof value) {
    case 'string':
      return safeText(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  if (value instanceof Error) return serializeError(value, depth);
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => sanitizeValue(v, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more items]`);
    return items;
  }
  const out: Serialized = {};
  const keys = Object.keys(value as object);
  for (const key of keys.slice(0, MAX_KEYS)) {
    out[key] = SENSITIVE_KEY.test(key) ? REDACTED : sanitizeValue((value as Serialized)[key], depth + 1);
  }
  if (keys.length > MAX_KEYS) out['[more keys]'] = keys.length - MAX_KEYS;
  return out;
}

/**
 * The merging object of a log call. `req`, `res` and `err` are left to their serializers (a
 * request object must not be walked: it is large and its serializer picks three fields).
 */
export function sanitizeLogObject(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (key === 'req' || key === 'res' || key === 'err') out[key] = value;
    else out[key] = SENSITIVE_KEY.test(key) ? REDACTED : sanitizeValue(value, 1);
  }
  return out;
}

/**
 * The last step before a line is written, whatever produced it: redacts again (messages, child
 * bindings) and replaces a line over the cap with a short one that still parses as JSON.
 */
export function finalizeLogLine(line: string): string {
  const redacted = redactText(line);
  if (redacted.length * 3 < LOG_LINE_MAX_BYTES || Buffer.byteLength(redacted) <= LOG_LINE_MAX_BYTES) return redacted;
  const bytes = Buffer.byteLength(redacted);
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(redacted) as Record<string, unknown>;
  } catch {
    // Unparseable: keep only what can be recovered safely below.
  }
  const err = parsed.err as Record<string, unknown> | undefined;
  const short: Record<string, unknown> = {
    level: parsed.level ?? 50,
    time: parsed.time ?? Date.now(),
    pid: parsed.pid,
    hostname: parsed.hostname,
    reqId: parsed.reqId,
    msg: typeof parsed.msg === 'string' ? cap(parsed.msg, 1024) : undefined,
    err: err ? { type: err.type, code: err.code, message: typeof err.message === 'string' ? cap(err.message, 1024) : undefined } : undefined,
    truncated: true,
    original_bytes: bytes,
  };
  return JSON.stringify(short) + '\n';
}

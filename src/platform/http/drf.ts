// Zod building blocks that behave like Django REST framework fields, and the mapping from a zod
// issue to PostHog's first-error validation envelope (DRF messages, codes and `attr`).
import { z } from 'zod';
import { ValidationError } from '../errors.ts';

/** A custom issue carries its PostHog error code in params.code. */
export function fail(ctx: { addIssue: (issue: z.core.$ZodRawIssue) => void; value?: unknown }, message: string, code = 'invalid_input', path?: PropertyKey[]) {
  ctx.addIssue({ code: 'custom', message, params: { code }, input: ctx.value, ...(path ? { path } : {}) } as z.core.$ZodRawIssue);
}

/** Python's name for a JSON value's type, as DRF prints it in messages. */
export function pythonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

/** Python's repr of a JSON value: PostHog leaks it into messages (`['@posthog.com']`). */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(value);
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const escaped = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
    return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
    .join(', ')}}`;
}

const TRUE_VALUES = new Set(['t', 'T', 'y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON', '1', 1, true]);
const FALSE_VALUES = new Set(['f', 'F', 'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF', '0', 0, false]);

/** DRF BooleanField: true/false, "true"/"False"/"1"/0… */
export const drfBoolean = () =>
  z.preprocess((v) => (TRUE_VALUES.has(v as never) ? true : FALSE_VALUES.has(v as never) ? false : v), z.boolean()).meta({ type: 'boolean' });

/** DRF IntegerField: integers and integer strings. */
export const drfInteger = () =>
  z.preprocess((v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v), z.number().int()).meta({ type: 'integer' });

/** DRF CharField: strings only (numbers are stringified as DRF does), NUL bytes refused. */
export const drfString = (opts: { max?: number; allowBlank?: boolean } = {}) => {
  let base = z.string();
  if (opts.max !== undefined) base = base.max(opts.max);
  if (!opts.allowBlank) base = base.min(1);
  return z
    .preprocess((v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : v), base)
    .superRefine((v, ctx) => {
      if (v.includes('\u0000')) fail(ctx, 'Null characters are not allowed.', 'null_characters_not_allowed');
    })
    .meta({ type: 'string', ...(opts.max !== undefined ? { maxLength: opts.max } : {}) });
};

const REQUIRED = 'This field is required.';

function issueToError(issue: z.core.$ZodIssue & { input?: unknown }): ValidationError {
  const attr = issue.path.length ? issue.path.map(String).join('__') : null;
  const input = issue.input;
  switch (issue.code) {
    case 'custom':
      return new ValidationError(issue.message, (issue.params?.code as string) ?? 'invalid_input', (issue.params?.attr as string) ?? attr);
    case 'invalid_type': {
      if (input === undefined) return new ValidationError(REQUIRED, 'required', attr);
      if (input === null) return new ValidationError('This field may not be null.', 'null', attr);
      switch (issue.expected) {
        case 'string':
          return new ValidationError('Not a valid string.', 'invalid_input', attr);
        case 'number':
        case 'int':
        case 'bigint':
          return new ValidationError('A valid integer is required.', 'invalid_input', attr);
        case 'boolean':
          return new ValidationError('Must be a valid boolean.', 'invalid_input', attr);
        case 'array':
          return new ValidationError(`Expected a list of items but got type "${pythonTypeName(input)}".`, 'not_a_list', attr);
        case 'object':
        case 'record':
          return new ValidationError(`Expected a dictionary of items but got type "${pythonTypeName(input)}".`, 'not_a_dict', attr);
        default:
          return new ValidationError('Invalid value.', 'invalid_input', attr);
      }
    }
    case 'too_big':
      if (issue.origin === 'string') return new ValidationError(`Ensure this field has no more than ${issue.maximum} characters.`, 'max_length', attr);
      if (issue.origin === 'array') return new ValidationError(`Ensure this field has no more than ${issue.maximum} elements.`, 'max_length', attr);
      return new ValidationError(`Ensure this value is less than or equal to ${issue.maximum}.`, 'max_value', attr);
    case 'too_small':
      if (issue.origin === 'string') {
        return Number(issue.minimum) <= 1
          ? new ValidationError('This field may not be blank.', 'blank', attr)
          : new ValidationError(`Ensure this field has at least ${issue.minimum} characters.`, 'min_length', attr);
      }
      if (issue.origin === 'array') return new ValidationError('This list may not be empty.', 'empty', attr);
      return new ValidationError(`Ensure this value is greater than or equal to ${issue.minimum}.`, 'min_value', attr);
    case 'invalid_value':
      return new ValidationError(`"${typeof input === 'string' ? input : pythonRepr(input)}" is not a valid choice.`, 'invalid_choice', attr);
    case 'invalid_format':
      if (issue.format === 'uuid') return new ValidationError('Must be a valid UUID.', 'invalid_input', attr);
      if (issue.format === 'email') return new ValidationError('Enter a valid email address.', 'invalid_input', attr);
      return new ValidationError('Enter a valid value.', 'invalid_input', attr);
    default:
      return new ValidationError(issue.message || 'Invalid input.', 'invalid_input', attr);
  }
}

/** Parses `data` with `schema`; on failure throws the first issue as PostHog's validation error. */
export function parseOrThrow<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  throw issueToError(result.error.issues[0] as z.core.$ZodIssue & { input?: unknown });
}

export function validationErrorFromZod(error: z.ZodError): ValidationError {
  return issueToError(error.issues[0] as z.core.$ZodIssue & { input?: unknown });
}

// Flag bodies in the shapes of PostHog's older documentation (docs/compatibility.md#api-1.3): form
// data (`curl -F key=… -F filters='{…}'`) whose JSON fields arrive as text, and a top-level
// `rollout_percentage` beside `filters.properties` (the flag model before release conditions had
// groups). Both become the body the validation knows: JSON values, and one group in `filters.groups`.
import { parseFormJsonFields } from '../platform/http/body-parsers.ts';
import { ValidationError } from '../platform/errors.ts';
import { isPlainObject } from './validation-values.ts';
import { normalizeFilters } from './filters.ts';
import type { FeatureFlagRow } from './repository.ts';

/** Fields DRF reads with a JSONField: text in form data. */
const JSON_FORM_FIELDS = ['filters', 'rollback_conditions', 'original_flag'] as const;
/** Fields DRF reads with a ListField: repeated in multipart data, a single value in urlencoded. */
export const FORM_LIST_FIELDS = ['tags', 'evaluation_tags', 'analytics_dashboards'] as const;

/** DRF's IntegerField on the legacy rollout: a number, or text of one; null clears it. */
function legacyRollout(raw: unknown): number | null {
  if (raw === null || raw === '') return null;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+(\.0*)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n)) throw new ValidationError('A valid integer is required.', 'invalid', 'rollout_percentage');
  if (n < 0 || n > 100) throw new ValidationError('Ensure this value is between 0 and 100.', 'invalid', 'rollout_percentage');
  return n;
}

/**
 * The body with legacy shapes rewritten; other bodies are returned as they are. `existing`: the
 * flag a PATCH or PUT changes (a rollout alone then keeps that flag's single condition).
 */
export function fromLegacyBody(body: unknown, opts: { form: boolean; existing?: FeatureFlagRow }): unknown {
  if (!isPlainObject(body)) return body;
  let data: Record<string, unknown> = opts.form ? parseFormJsonFields(body, JSON_FORM_FIELDS) : body;
  if (opts.form) {
    for (const field of FORM_LIST_FIELDS) if (typeof data[field] === 'string') data = { ...data, [field]: [data[field]] };
  }
  const filters = data.filters;
  const hasRollout = Object.hasOwn(data, 'rollout_percentage') && data.rollout_percentage !== undefined;
  const legacyFilters = isPlainObject(filters) && !Object.hasOwn(filters, 'groups') && Object.hasOwn(filters, 'properties');
  // With groups in the body, the top-level rollout is ignored, as PostHog's get_filters() did.
  if (!(legacyFilters || (hasRollout && (filters === undefined || (isPlainObject(filters) && !Object.hasOwn(filters, 'groups')))))) {
    return data;
  }
  const { rollout_percentage: rawRollout, ...rest } = data;
  const rollout = hasRollout ? legacyRollout(rawRollout) : null;
  const given = isPlainObject(filters) ? filters : {};
  let group: Record<string, unknown>;
  if (Object.hasOwn(given, 'properties')) {
    group = { properties: given.properties, rollout_percentage: rollout };
  } else if (opts.existing) {
    // A rollout alone on an update: it applies to the flag's one condition set.
    const groups = normalizeFilters(opts.existing.filters, opts.existing.rolloutPercentage).groups as Array<Record<string, unknown>>;
    if (groups.length !== 1) {
      throw new ValidationError(
        'rollout_percentage applies to a flag with one condition set; this flag has several: send filters.groups instead.',
        'invalid',
        'rollout_percentage',
      );
    }
    if (opts.existing.hasEncryptedPayloads) {
      // Its stored payloads are ciphertext: rewriting its filters here would encrypt them twice.
      throw new ValidationError(
        'rollout_percentage cannot change a flag with encrypted payloads: send filters.groups instead.',
        'invalid',
        'rollout_percentage',
      );
    }
    group = { ...groups[0], rollout_percentage: rollout };
  } else {
    group = { properties: [], rollout_percentage: rollout };
  }
  const { properties: _legacyProperties, ...otherFilters } = given;
  const base = opts.existing && !isPlainObject(filters) ? (opts.existing.filters ?? {}) : otherFilters;
  return { ...rest, filters: { ...base, groups: [group] } };
}

// The flag list (docs/compatibility.md#api-2.2 to #api-2.5): query parameters → filters, limit/offset
// page, representations.
import type { AppContext } from '../platform/context.ts';
import type { RequestAuth } from '../access/auth.ts';
import { presentFlags } from './service.ts';
import { listFlags, ORDERABLE_FIELDS, type FlagListFilters, type OrderableField } from './repository.ts';
import { ValidationError } from '../platform/errors.ts';
import { limitOffsetLinks, parseLimitOffset, type Paginated } from '../platform/pagination.ts';
import type { FeatureFlagOut } from './schemas.ts';
import { requireProject } from '../access/require-auth.ts';

const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : Array.isArray(v) && typeof v.at(-1) === 'string' ? (v.at(-1) as string) : undefined;

/** A JSON array of strings from a query parameter; malformed JSON is ignored, as PostHog does. */
function jsonStringList(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return undefined;
    return parsed.filter((x) => typeof x === 'string' || typeof x === 'number').map(String);
  } catch {
    return undefined;
  }
}

export function parseListFilters(query: Record<string, unknown>, now: Date): FlagListFilters {
  const filters: FlagListFilters = { order: { field: 'created_at', descending: true }, now };
  const active = text(query.active);
  if (active !== undefined) filters.active = active === 'true' ? 'true' : active === 'STALE' ? 'STALE' : 'false';
  const createdBy = text(query.created_by_id);
  if (createdBy !== undefined) {
    if (!/^\d{1,9}$/.test(createdBy)) throw new ValidationError('A valid integer is required.', 'invalid_input', 'created_by_id');
    filters.createdById = Number(createdBy);
  }
  const search = text(query.search);
  if (search) filters.search = search.replace(/\u0000/g, '');
  const type = text(query.type);
  if (type === 'boolean' || type === 'multivariant' || type === 'experiment' || type === 'remote_config') filters.type = type;
  const runtime = text(query.evaluation_runtime);
  // PostHog's documentation names the value "both"; flags store "all" (docs/compatibility.md#api-2.3).
  if (runtime !== undefined) filters.evaluationRuntime = runtime === 'both' ? 'all' : runtime.replace(/\u0000/g, '');
  const tags = jsonStringList(text(query.tags));
  if (tags?.length) filters.tags = tags.map((t) => t.replace(/\u0000/g, ''));
  const excluded = jsonStringList(text(query.excluded_properties));
  if (excluded?.length) filters.excludedKeys = excluded.map((k) => k.replace(/\u0000/g, ''));
  const hasEvalTags = text(query.has_evaluation_tags);
  if (hasEvalTags !== undefined) filters.hasEvaluationTags = ['true', '1', 'yes'].includes(hasEvalTags.toLowerCase());
  const order = text(query.order);
  if (order !== undefined && order !== '') {
    const descending = order.startsWith('-');
    const field = descending ? order.slice(1) : order;
    // PostHog answers an unknown field with a server error; a client gets a clear 400 here.
    if (!Object.hasOwn(ORDERABLE_FIELDS, field)) {
      throw new ValidationError(
        `Invalid order field: ${JSON.stringify(field)}. Use one of: ${Object.keys(ORDERABLE_FIELDS).join(', ')}.`,
        'invalid_input',
        'order',
      );
    }
    filters.order = { field: field as OrderableField, descending };
  }
  return filters;
}

/** The list filters PostHog accepts in a bulk_delete body (`{"filters": {...}}`). */
export const BODY_FILTER_KEYS = [
  'active',
  'created_by_id',
  'search',
  'type',
  'evaluation_runtime',
  'excluded_properties',
  'tags',
  'has_evaluation_tags',
] as const;

/**
 * Filters given as JSON values (a bulk_delete body) as the list's query parameters: booleans and
 * numbers as text, lists as JSON, so that the list's own parsing applies to them unchanged.
 */
export function bodyFiltersAsQuery(filters: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of BODY_FILTER_KEYS) {
    const value = filters[key];
    if (value === undefined || value === null) continue;
    out[key] = typeof value === 'string' ? value : typeof value === 'boolean' || typeof value === 'number' ? String(value) : JSON.stringify(value);
  }
  return out;
}

export async function listFlagsPage(ctx: AppContext, auth: RequestAuth, query: Record<string, unknown>, url: URL): Promise<Paginated<FeatureFlagOut>> {
  const now = ctx.now();
  const filters = parseListFilters(query, now);
  const { limit, offset } = parseLimitOffset(query);
  const { count, rows } = await listFlags(ctx.db, requireProject(auth).id, filters, { limit, offset });
  return { count, ...limitOffsetLinks(url, count, limit, offset), results: await presentFlags(ctx, ctx.db, auth, rows) };
}

// GET /api/projects/:project_id/advanced_activity_logs/ (docs/compatibility.md#api-7.6): the project's
// whole activity log, filtered by date, users, scopes, activities and items, in pages by number.
import { z } from 'zod';
import type { AppContext } from '../platform/context.ts';
import { ValidationError, NotFoundError } from '../platform/errors.ts';
import { ActivityEntrySchema, presentActivity } from './service.ts';
import { listProjectActivity, type ActivityFilters } from './repository.ts';

export const MAX_PAGE_SIZE = 1000;
/** Most values one list filter may carry (flaghost's bound). */
const MAX_LIST_VALUES = 100;

export const ProjectLogQuery = z.looseObject({
  start_date: z.string().optional().meta({ description: 'Lower bound on created_at (inclusive), ISO 8601' }),
  end_date: z.string().optional().meta({ description: 'Upper bound on created_at (inclusive), ISO 8601' }),
  users: z.string().optional().meta({ description: 'User UUIDs (comma-separated or a JSON list)' }),
  scopes: z.string().optional().meta({ description: 'Scopes, e.g. FeatureFlag,Cohort' }),
  activities: z.string().optional().meta({ description: 'Activities, e.g. created,updated,deleted' }),
  item_ids: z.string().optional().meta({ description: 'Ids of the affected items' }),
  page: z.string().optional().meta({ description: 'Page number, from 1 (default 1)' }),
  page_size: z
    .string()
    .optional()
    .meta({ description: `Entries per page (default 100, at most ${MAX_PAGE_SIZE})` }),
});

export const ProjectLogPageSchema = z
  .object({
    count: z.number().int(),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(ActivityEntrySchema),
  })
  .meta({ id: 'ActivityLogNumberedPage' });

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

function dateParam(raw: unknown, attr: string): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  const text = typeof raw === 'string' ? raw : '';
  // A naive time is UTC (the server's time zone, as in PostHog).
  const withZone = /(?:Z|[+-]\d{2}:?\d{2})$/.test(text) || !text.includes(':') ? text : `${text}Z`;
  const date = ISO_DATETIME.test(text) ? new Date(text.includes(':') ? withZone.replace(' ', 'T') : `${text}T00:00:00Z`) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new ValidationError('Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].', 'invalid', attr);
  }
  return date;
}

/** A list given as repeated parameters, a JSON list or comma-separated text (PostHog's tolerant list). */
function listParam(raw: unknown, attr: string): string[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  let values: unknown[];
  if (Array.isArray(raw)) values = raw;
  else {
    const text = String(raw).trim();
    let parsed: unknown;
    try {
      parsed = text.startsWith('[') ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    values = Array.isArray(parsed) ? parsed : text.split(',');
  }
  const out = values.map((v) => String(v).trim()).filter(Boolean);
  if (out.length > MAX_LIST_VALUES) throw new ValidationError(`Ensure this field has no more than ${MAX_LIST_VALUES} elements.`, 'max_length', attr);
  return out.length ? out : undefined;
}

function intParam(raw: unknown, attr: string, fallback: number, max?: number): number {
  if (raw === undefined || raw === '') return fallback;
  const text = String(raw).trim();
  if (!/^-?\d{1,9}$/.test(text)) throw new ValidationError('A valid integer is required.', 'invalid', attr);
  const n = Number(text);
  if (n < 1) throw new ValidationError('Ensure this value is greater than or equal to 1.', 'min_value', attr);
  if (max !== undefined && n > max) throw new ValidationError(`Ensure this value is less than or equal to ${max}.`, 'max_value', attr);
  return n;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export async function projectActivityLog(
  ctx: AppContext,
  projectId: number,
  query: Record<string, unknown>,
  requestUrl: URL,
): Promise<z.infer<typeof ProjectLogPageSchema>> {
  const filters: ActivityFilters = {
    projectId,
    from: dateParam(query.start_date, 'start_date'),
    to: dateParam(query.end_date, 'end_date'),
    userUuids: listParam(query.users, 'users'),
    scopes: listParam(query.scopes, 'scopes'),
    activities: listParam(query.activities, 'activities'),
    itemIds: listParam(query.item_ids, 'item_ids'),
  };
  if (filters.userUuids?.some((u) => !UUID.test(u))) throw new ValidationError('Must be a valid UUID.', 'invalid', 'users');
  const page = intParam(query.page, 'page', 1);
  const pageSize = intParam(query.page_size, 'page_size', 100, MAX_PAGE_SIZE);
  const { total, rows } = await listProjectActivity(ctx.db, filters, { limit: pageSize, offset: (page - 1) * pageSize });
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (page > pages) throw new NotFoundError('Invalid page.');
  const link = (n: number) => {
    const url = new URL(requestUrl);
    url.searchParams.set('page', String(n));
    return url.toString();
  };
  return {
    count: total,
    next: page < pages ? link(page + 1) : null,
    previous: page > 1 ? link(page - 1) : null,
    results: rows.map(presentActivity),
  };
}

// The activity log (docs/compatibility.md#api-7.6): field-level change lists, entries written
// inside the caller's transaction, and page/limit listing with PostHog's entry shape.
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { Db } from '../platform/db/index.ts';
import type { AppContext } from '../platform/context.ts';
import { insertActivity, listActivity, type ActivityPage } from './repository.ts';
import { ValidationError } from '../platform/errors.ts';
import { isoTime } from '../platform/time.ts';

export interface ActivityChange {
  type: string;
  action: 'created' | 'changed' | 'deleted';
  field: string;
  before: unknown;
  after: unknown;
}

export const ActivityEntrySchema = z
  .object({
    id: z.string(),
    user: z.object({ first_name: z.string(), email: z.string().nullable(), is_system: z.boolean().optional() }).nullable(),
    activity: z.string(),
    scope: z.string(),
    item_id: z.string(),
    detail: z.object({
      id: z.string().nullable().meta({ description: 'Always null for the scopes flaghost logs (PostHog fills it for a few other scopes)' }),
      changes: z.array(z.object({ type: z.string(), action: z.string(), field: z.string(), before: z.unknown(), after: z.unknown() })).nullable(),
      merge: z.unknown().nullable().meta({ description: 'Person merges only: null for flags and cohorts' }),
      trigger: z.unknown().nullable(),
      type: z.string().nullable(),
      name: z.string().nullable(),
      short_id: z.string().nullable(),
    }),
    created_at: z.string(),
  })
  .meta({ id: 'ActivityLogEntry' });

export const ActivityPageSchema = z
  .object({
    results: z.array(ActivityEntrySchema),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    total_count: z.number().int(),
  })
  .meta({ id: 'ActivityLogPage' });

export const ActivityQuerySchema = z.looseObject({
  limit: z.string().optional().meta({ description: 'Entries per page (default 10)' }),
  page: z.string().optional().meta({ description: 'Page number, from 1' }),
});

const isEmpty = (v: unknown) =>
  v === null ||
  v === undefined ||
  v === '' ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

/** Field-level changes between two snapshots, in `fields` order; unchanged fields are skipped. */
export function diffFields(type: string, before: Record<string, unknown>, after: Record<string, unknown>, fields: readonly string[]): ActivityChange[] {
  const changes: ActivityChange[] = [];
  for (const field of fields) {
    const b = before[field] ?? null;
    const a = after[field] ?? null;
    if (isDeepStrictEqual(b, a)) continue;
    if (isEmpty(b) && !isEmpty(a)) changes.push({ type, action: 'created', field, before: null, after: a });
    else if (!isEmpty(b) && isEmpty(a)) changes.push({ type, action: 'deleted', field, before: b, after: null });
    else changes.push({ type, action: 'changed', field, before: b, after: a });
  }
  return changes;
}

export async function logActivity(
  tx: Db,
  entry: {
    organizationId: string;
    projectId: number;
    userId: number | null;
    activity: string;
    scope: string;
    itemId: string | number;
    name: string | null;
    changes: ActivityChange[] | null;
    at: Date;
  },
): Promise<void> {
  await insertActivity(tx, {
    organizationId: entry.organizationId,
    projectId: entry.projectId,
    userId: entry.userId,
    isSystem: entry.userId === null,
    activity: entry.activity,
    scope: entry.scope,
    itemId: String(entry.itemId),
    detail: { id: null, changes: entry.changes, merge: null, trigger: null, type: null, name: entry.name, short_id: null },
    createdAt: entry.at,
  });
}

/** One entry as every activity endpoint shows it. */
export function presentActivity({ entry, user }: ActivityPage['rows'][number]): z.infer<typeof ActivityEntrySchema> {
  return {
    id: entry.id,
    user: entry.isSystem ? { first_name: 'System', email: null, is_system: true } : user ? { first_name: user.firstName, email: user.email } : null,
    activity: entry.activity,
    scope: entry.scope,
    item_id: entry.itemId,
    // Entries written before detail.id and detail.merge existed get them here.
    detail: { id: null, merge: null, ...(entry.detail as object) } as z.infer<typeof ActivityEntrySchema>['detail'],
    created_at: isoTime(entry.createdAt),
  };
}

function positiveInt(raw: string | undefined, attr: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\s*\d{1,9}\s*$/.test(raw) || Number(raw) < 1) throw new ValidationError('A valid integer is required.', 'invalid_input', attr);
  return Number(raw);
}

/** One page of activity; `baseUrl` is the absolute URL of the list without query. */
export async function activityPage(
  ctx: AppContext,
  where: { projectId: number; scope: string; itemId?: string },
  query: { limit?: string; page?: string },
  baseUrl: string,
): Promise<z.infer<typeof ActivityPageSchema>> {
  const limit = positiveInt(query.limit, 'limit', 10);
  const page = positiveInt(query.page, 'page', 1);
  const { total, rows } = await listActivity(ctx.db, where, { limit, offset: (page - 1) * limit });
  const pages = Math.max(1, Math.ceil(total / limit));
  if (page > pages) throw new ValidationError('That page contains no results', 'invalid_input', 'page');
  return {
    results: rows.map(presentActivity),
    next: page < pages ? `${baseUrl}?page=${page + 1}&limit=${limit}` : null,
    previous: page > 1 ? `${baseUrl}?page=${page - 1}&limit=${limit}` : null,
    total_count: total,
  };
}

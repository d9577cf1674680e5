// Persons for flag evaluation and for the persons API: loadPersonContext (stored properties,
// static cohorts, group properties and experience-continuity overrides,
// docs/compatibility.md#sdk-3.1 and #sdk-3.12) and PostHog's list / retrieve / delete of persons.
import type { Db } from '../platform/db/index.ts';
import { isSerializationFailure, pgErrorCode } from '../platform/db/errors.ts';
import { deletePersonRecord, findOrCreatePersonsByDistinctIds, findPersonRecord, listPersonRecords, type PersonRecord } from './repository.ts';
import { writeHashKeyOverrides } from './context-repository.ts';
import { contextBatcherOf } from './context-batch.ts';
import { transact, type AppContext } from '../platform/context.ts';
import { isoTime } from '../platform/time.ts';
import { parseLimitOffset } from '../platform/pagination.ts';
import { NotFoundError, ValidationError } from '../platform/errors.ts';

type Json = Record<string, unknown>;

export interface PersonContextRequest {
  distinctId: string;
  /**
   * `$anon_distinct_id` of the request: persists continuity overrides
   * (docs/compatibility.md#sdk-3.12).
   */
  anonDistinctId?: string | null;
  /** group type index → group key, for the groups of the request. */
  groups?: Readonly<Record<number, string | number>>;
  /** Keys of the active flags with `ensure_experience_continuity` (the overrides to write and read). */
  continuityFlagKeys?: readonly string[];
}

export interface PersonContext {
  /** The stored person's properties ({} when the distinct id has no person); the request's win over them. */
  personProperties: Json;
  personCreatedAt: Date | null;
  /** group type index → stored group properties (groups that exist only). */
  groupProperties: Map<number, Json>;
  /** Static cohorts (not deleted) the person belongs to. */
  staticCohortIds: Set<number>;
  /** flag key → hash key to bucket on (continuity flags that have one). */
  hashKeyOverrides: Record<string, string>;
}

/** Foreign-key violation: the person disappeared (merged or deleted) while we wrote for it. */
const isForeignKeyViolation = (error: unknown) => pgErrorCode(error) === '23503';

/**
 * Step 1 of docs/compatibility.md#sdk-3.12: the anon id becomes the hash key of every continuity
 * flag that has none yet, for the person of `distinct_id` and the person of the anon id; persons
 * are created for ids never seen, so the override holds from the first request on.
 */
async function persistOverrides(db: Db, projectId: number, distinctId: string, anonDistinctId: string, flagKeys: readonly string[]): Promise<void> {
  const ids = anonDistinctId === distinctId ? [distinctId] : [distinctId, anonDistinctId];
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      let missing = await writeHashKeyOverrides(db, projectId, ids, flagKeys, anonDistinctId);
      if (!missing.length) return;
      // One transaction: a person is never left without its distinct id.
      await db.transaction((tx) => findOrCreatePersonsByDistinctIds(tx, projectId, missing));
      missing = await writeHashKeyOverrides(db, projectId, missing, flagKeys, anonDistinctId);
      if (!missing.length) return;
      // A concurrent delete removed a person we just created: start again.
    } catch (error) {
      // The person was merged away or deleted between our read and our insert.
      if (!isForeignKeyViolation(error) || attempt === 3) throw error;
    }
  }
}

/**
 * The stored context of one evaluation: one read on the common path, shared with concurrent lookups; with `anonDistinctId` and
 * continuity flags, one write first (docs/compatibility.md#sdk-3.12: write, then read back, so the
 * first anon id stored for a person and flag wins even under concurrent requests). Request properties
 * are merged on top by the caller (docs/compatibility.md#sdk-3.1), which also adds `distinct_id`.
 */
export async function loadPersonContext(db: Db, projectId: number, request: PersonContextRequest): Promise<PersonContext> {
  const keys = [...new Set(request.continuityFlagKeys ?? [])];
  const anon = typeof request.anonDistinctId === 'string' && request.anonDistinctId !== '' ? request.anonDistinctId : null;
  if (anon !== null && keys.length) await persistOverrides(db, projectId, request.distinctId, anon, keys);

  const groups = Object.entries(request.groups ?? {})
    .filter(([index, key]) => /^\d+$/.test(index) && (typeof key === 'string' ? key !== '' : Number.isFinite(key)))
    .map(([index, key]) => ({ index: Number(index), key: String(key) }));
  // Read together with the lookups of concurrent requests (src/persons/context-batch.ts).
  const stored = await contextBatcherOf(db).read({ projectId, distinctId: request.distinctId, anonDistinctId: anon, flagKeys: keys, groups });

  // Overrides of the person of `distinct_id` take precedence over those of the anon id's person.
  const hashKeyOverrides: Record<string, string> = {};
  for (const [key, hashKey] of [...stored.overrides].sort((a, b) => Number(a[2]) - Number(b[2]))) hashKeyOverrides[key] = hashKey;
  return {
    personProperties: stored.person?.properties ?? {},
    personCreatedAt: stored.person?.createdAt ?? null,
    groupProperties: new Map(stored.groups.map(([index, props]) => [Number(index), props ?? {}])),
    staticCohortIds: new Set(stored.staticCohortIds.map(Number)),
    hashKeyOverrides,
  };
}

// ---- persons API ------------------------------------------------------------------------------

export interface PersonOut {
  id: number;
  name: string;
  distinct_ids: string[];
  properties: Json;
  created_at: string;
  uuid: string;
  last_seen_at: string | null;
}

/** PostHog's default display-name properties, in order. */
const NAME_PROPERTIES = ['email', 'Email', '$email', 'name', 'Name', 'username', 'Username', 'UserName'];
/** PostHog's is_anonymous_id: generated ids (uuid-like) sort after the ones an app chose. */
const ANONYMOUS_ID = /^([a-z0-9]+-){4}([a-z0-9]+)$/;

export function toPerson(record: PersonRecord): PersonOut {
  const distinctIds = [...record.distinctIds].sort((a, b) => Number(ANONYMOUS_ID.test(a)) - Number(ANONYMOUS_ID.test(b)));
  const nameProperty = NAME_PROPERTIES.find((p) => record.properties[p]);
  const name = nameProperty ? String(record.properties[nameProperty]) : (distinctIds[0] ?? String(record.id));
  return {
    id: record.id,
    name,
    distinct_ids: distinctIds,
    properties: record.properties,
    created_at: isoTime(record.createdAt),
    uuid: record.uuid,
    last_seen_at: null,
  };
}

const lastText = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : Array.isArray(v) && typeof v.at(-1) === 'string' ? (v.at(-1) as string) : undefined;

/** PostHog's format_query_params_absolute_url: the same URL with `offset` replaced or added. */
function withOffset(url: URL, offset: number): string {
  const next = new URL(url.toString());
  next.searchParams.set('offset', String(offset));
  return next.toString();
}

export interface PersonsPage {
  results: PersonOut[];
  next: string | null;
  previous: string | null;
  count?: number;
}

/**
 * GET …/persons/: newest first; `distinct_id` and `email` match exactly, `search` matches the
 * email or name property (substring), a distinct id or a uuid. Like PostHog, `next` is given when
 * the page is full and `count` only with `include_total`.
 */
export async function listPersonsPage(ctx: AppContext, projectId: number, query: Record<string, unknown>, url: URL): Promise<PersonsPage> {
  const { limit, offset } = parseLimitOffset(query);
  const distinctId = lastText(query.distinct_id);
  const email = lastText(query.email);
  const search = lastText(query.search)?.replace(/\u0000/g, '');
  const { rows, total } = await listPersonRecords(
    ctx.db,
    projectId,
    {
      distinctId: distinctId?.replace(/\u0000/g, ''),
      email: email?.replace(/\u0000/g, ''),
      search: search || undefined,
    },
    { limit, offset },
    query.include_total !== undefined,
  );
  return {
    results: rows.map(toPerson),
    next: rows.length >= limit ? withOffset(url, offset + limit) : null,
    previous: offset - limit >= 0 ? withOffset(url, offset - limit) : null,
    ...(total !== undefined ? { count: total } : {}),
  };
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** A person by numeric id or uuid (PostHog accepts both); anything else is a 400. */
async function findPerson(ctx: AppContext, projectId: number, raw: string): Promise<PersonRecord> {
  let key: { id: number } | { uuid: string };
  if (UUID.test(raw)) key = { uuid: raw.toLowerCase() };
  else if (/^\d{1,15}$/.test(raw)) key = { id: Number(raw) };
  else {
    throw new ValidationError(`The ID provided does not look like a personID. If you are using a distinctId, please use /persons?distinct_id=${raw} instead.`);
  }
  const record = await findPersonRecord(ctx.db, projectId, key);
  if (!record) throw new NotFoundError();
  return record;
}

export async function getPerson(ctx: AppContext, projectId: number, raw: string): Promise<PersonOut> {
  return toPerson(await findPerson(ctx, projectId, raw));
}

/** DELETE …/persons/:id/: the person, its distinct ids, overrides and static-cohort memberships. */
export async function deletePerson(ctx: AppContext, projectId: number, raw: string): Promise<void> {
  const record = await findPerson(ctx, projectId, raw);
  for (let attempt = 1; ; attempt++) {
    try {
      const deleted = await transact(ctx, async (tx) => deletePersonRecord(tx, projectId, record.id, record.uuid));
      if (!deleted) throw new NotFoundError();
      return;
    } catch (error) {
      // Ingestion may be merging this person at the same moment (a deadlock PostgreSQL resolves).
      if (!isSerializationFailure(error) || attempt >= 3) throw error;
    }
  }
}

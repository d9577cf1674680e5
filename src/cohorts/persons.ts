// GET …/cohorts/:id/persons/ (docs/compatibility.md#diff-cohort-persons): the members of a cohort a page at a
// time, as PostHog's CohortViewSet.persons answers them. Static cohorts list their stored members
// in SQL. Dynamic cohorts have no stored membership here: persons are read newest first, a page of
// 1,000 at a time, and tested by the evaluation engine on their stored properties (and their
// static cohorts, for nested cohort conditions) until the page is full or MAX_SCANNED_PERSONS were
// read, so a request's cost is bounded whatever the project's size.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AppContext } from '../platform/context.ts';
import type { Project } from '../access/organizations/projects-repository.ts';
import { cohortMembershipTest } from '../evaluation/index.ts';
import { findCohort, listProjectCohorts } from './repository.ts';
import { findMemberRecordsByIds, pagePersonsNewestFirst, pageStaticCohortMembers, type MemberRecord } from './members-repository.ts';
import { toPerson } from '../persons/service.ts';
import { parseLimitOffset } from '../platform/pagination.ts';
import { NotFoundError } from '../platform/errors.ts';
import { isoTime } from '../platform/time.ts';

/** Persons a dynamic cohort's listing reads at most per request (all pages before it included). */
export const MAX_SCANNED_PERSONS = 50_000;
/** Largest page: PostHog's default is 100 and it sets no maximum. */
export const MAX_PAGE = 1000;
const SCAN_PAGE = 1000;

/** The scan's bounds; tests make them small to see them hold. */
export interface ScanLimits {
  maxScanned: number;
  pageSize: number;
}
const DEFAULT_LIMITS: ScanLimits = { maxScanned: MAX_SCANNED_PERSONS, pageSize: SCAN_PAGE };
/** PostHog's get_serialized_people(distinct_id_limit=10). */
const DISTINCT_ID_LIMIT = 10;

export interface CohortPersonOut {
  type: 'person';
  id: string;
  uuid: string;
  created_at: string;
  properties: Record<string, unknown>;
  is_identified: boolean;
  name: string;
  distinct_ids: string[];
  matched_recordings: never[];
  value_at_data_point: null;
}

export interface CohortPersonsPage {
  results: CohortPersonOut[];
  next: string | null;
  previous: string | null;
}

function present(record: MemberRecord): CohortPersonOut {
  const person = toPerson(record);
  return {
    type: 'person',
    id: record.uuid,
    uuid: record.uuid,
    created_at: isoTime(record.createdAt),
    properties: record.properties,
    is_identified: record.isIdentified,
    name: person.name,
    distinct_ids: person.distinct_ids.slice(0, DISTINCT_ID_LIMIT),
    matched_recordings: [],
    value_at_data_point: null,
  };
}

/** PostHog's format_query_params_absolute_url: the request's URL with `offset` set. */
function withOffset(url: URL, offset: number): string {
  const next = new URL(url.toString());
  next.searchParams.set('offset', String(offset));
  return next.toString();
}

/** Ids of the dynamic cohort's members from the `offset`-th match on, at most `limit` of them. */
async function dynamicMemberIds(ctx: AppContext, project: Project, cohortId: number, limit: number, offset: number, scan: ScanLimits): Promise<number[]> {
  const definitions = (await listProjectCohorts(ctx.db, project.id)).map((c) => ({
    id: c.id,
    name: c.name,
    filters: c.filters,
    isStatic: c.isStatic,
    deleted: c.deleted,
  }));
  const isMember = cohortMembershipTest(definitions, cohortId, project.timezone, ctx.now());
  const found: number[] = [];
  let skipped = 0;
  let before: number | null = null;
  for (let scanned = 0; scanned < scan.maxScanned; ) {
    const want = Math.min(scan.pageSize, scan.maxScanned - scanned);
    const page = await pagePersonsNewestFirst(ctx.db, project.id, before, want);
    for (const person of page) {
      if (!isMember(person.properties, new Set(person.staticCohortIds))) continue;
      if (skipped < offset) skipped++;
      else if (found.push(person.id) >= limit) return found;
    }
    scanned += page.length;
    if (page.length < want) break;
    before = page[page.length - 1].id;
    await nextTurn();
  }
  return found;
}

export async function listCohortPersons(
  ctx: AppContext,
  project: Project,
  cohortId: number,
  query: Record<string, unknown>,
  url: URL,
  scan: ScanLimits = DEFAULT_LIMITS,
): Promise<CohortPersonsPage> {
  const cohort = await findCohort(ctx.db, project.id, cohortId);
  if (!cohort) throw new NotFoundError();
  const parsed = parseLimitOffset(query);
  const limit = Math.min(parsed.limit, MAX_PAGE);
  const offset = parsed.offset;
  let records: MemberRecord[];
  if (cohort.isStatic) records = await pageStaticCohortMembers(ctx.db, project.id, cohort.id, { limit, offset });
  else if (offset >= scan.maxScanned) records = [];
  else records = await findMemberRecordsByIds(ctx.db, project.id, await dynamicMemberIds(ctx, project, cohort.id, limit, offset, scan));
  return {
    results: records.map(present),
    next: records.length >= limit ? withOffset(url, offset + limit) : null,
    previous: offset - limit >= 0 ? withOffset(url, offset - limit) : null,
  };
}

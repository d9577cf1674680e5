// POST …/feature_flags/user_blast_radius (docs/compatibility.md#api-7.9): how many stored persons (or
// groups of one type) one release condition matches, ignoring its rollout percentage. The
// condition is compiled as a one-condition flag and evaluated by the engine on every stored person
// or group, a page at a time with a yield between pages, at most two computations at once, so that
// /flags and other requests keep being served while a large project is counted.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AppContext } from '../platform/context.ts';
import type { SnapshotStore } from '../sdk/snapshots.ts';
import { toFlagDefinition } from '../sdk/snapshots.ts';
import type { RequestAuth } from '../access/auth.ts';
import { requireProject } from '../access/require-auth.ts';
import { ApiError, NotFoundError, ValidationError } from '../platform/errors.ts';
import { compileProject, evaluateFlags, type CompiledProject, type FlagDefinition } from '../evaluation/index.ts';
import { listProjectCohorts } from '../cohorts/repository.ts';
import { jsonLargerThan } from '../platform/json.ts';
import { isPlainObject, pyInt } from './validation-values.ts';
import { GROUP_TYPES_LIMIT, MAX_FILTERS_BYTES, parseProperty } from './validation-filters.ts';
import { countProjectGroups, countProjectPersons, pageGroupsForEvaluation, pagePersonsForRadius, staticCohortsOf } from './blast-radius-repository.ts';

const PAGE_SIZE = 200;
/** Computations running at once in this process; more wait their turn. */
const MAX_RUNNING = 2;
/** The synthetic flag's key: `$` keeps it apart from any flag key a user can create. */
const PROBE_KEY = '$blast_radius';

let running = 0;
const waiting: Array<() => void> = [];

async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_RUNNING) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export interface BlastRadius {
  users_affected: number;
  total_users: number;
}

interface ParsedRequest {
  properties: unknown[];
  groupTypeIndex: number | null;
}

/** PostHog's checks, in its order: the condition is required; properties parse; group indexes agree. */
function parseRequest(body: unknown): ParsedRequest {
  if (!isPlainObject(body) || !('condition' in body)) throw new ValidationError('Missing condition for which to get blast radius');
  const condition = body.condition || {};
  if (!isPlainObject(condition)) throw new ValidationError('Filters are not valid (the condition must be an object)', 'invalid_input', 'condition');
  if (jsonLargerThan(condition, MAX_FILTERS_BYTES)) throw new ValidationError('The condition is too large.', 'invalid_input', 'condition');
  const properties = condition.properties ?? [];
  if (!Array.isArray(properties)) throw new ValidationError('Filters are not valid (properties must be a list)', 'invalid_input', 'condition');
  const rawIndex = body.group_type_index;
  let groupTypeIndex: number | null = null;
  if (rawIndex !== undefined && rawIndex !== null) {
    const index = typeof rawIndex === 'boolean' ? undefined : pyInt(rawIndex);
    if (index === undefined || index < 0 || index >= GROUP_TYPES_LIMIT) {
      throw new ValidationError(`group_type_index is required to be at least 0 and less than ${GROUP_TYPES_LIMIT}`, 'invalid_input', 'group_type_index');
    }
    groupTypeIndex = index;
  }
  for (const prop of properties) {
    let parsed: ReturnType<typeof parseProperty>;
    try {
      parsed = parseProperty(prop);
    } catch (error) {
      if (error instanceof ApiError) throw new ValidationError((error.body as { detail: string }).detail);
      throw error;
    }
    if (groupTypeIndex !== null && parsed.type !== 'cohort' && parsed.key !== '$group_key' && parsed.groupTypeIndex !== groupTypeIndex) {
      throw new ValidationError('Invalid group type index for feature flag condition.');
    }
  }
  return { properties, groupTypeIndex };
}

/** The project compiled with the condition as one more flag; other flags only when it depends on them. */
async function compileProbe(
  ctx: AppContext,
  snapshots: SnapshotStore,
  projectId: number,
  request: ParsedRequest,
): Promise<{ compiled: CompiledProject; staticCohorts: number[] }> {
  const snapshot = await snapshots.forProject(projectId);
  if (!snapshot) throw new NotFoundError('Project not found.');
  const probe: FlagDefinition = {
    id: 0,
    projectId,
    key: PROBE_KEY,
    name: '',
    active: true,
    deleted: false,
    filters: { groups: [{ properties: request.properties, rollout_percentage: 100 }], aggregation_group_type_index: request.groupTypeIndex },
    ensureExperienceContinuity: false,
    hasEncryptedPayloads: false,
    version: 1,
    evaluationRuntime: 'all',
    bucketingIdentifier: 'distinct_id',
    evaluationTags: [],
    isRemoteConfiguration: false,
  };
  const dependsOnFlags = request.properties.some((p) => isPlainObject(p) && p.type === 'flag');
  const cohorts = (await listProjectCohorts(ctx.db, projectId)).map((c) => ({
    id: c.id,
    name: c.name,
    filters: c.filters,
    isStatic: c.isStatic,
    deleted: c.deleted,
  }));
  const compiled = compileProject({
    flags: [...(dependsOnFlags ? snapshot.flags.map(toFlagDefinition) : []), probe],
    cohorts,
    groupTypes: snapshot.groupTypes,
    timezone: snapshot.project.timezone,
  });
  // Static cohort memberships are read only when a cohort (or a flag, through its own) is involved.
  const readsCohorts = dependsOnFlags || request.properties.some((p) => isPlainObject(p) && p.type === 'cohort');
  return { compiled, staticCohorts: readsCohorts ? cohorts.filter((c) => c.isStatic && !c.deleted).map((c) => c.id) : [] };
}

async function countPersons(ctx: AppContext, compiled: CompiledProject, projectId: number, staticCohorts: number[]): Promise<BlastRadius> {
  const now = ctx.now();
  let total = 0;
  let affected = 0;
  for (let after = 0; ; ) {
    const page = await pagePersonsForRadius(ctx.db, projectId, after, PAGE_SIZE);
    const memberships = await staticCohortsOf(
      ctx.db,
      page.map((p) => p.id),
      staticCohorts,
    );
    total += page.length;
    for (const person of page) {
      // A person without a distinct id cannot be evaluated: it counts, but never matches.
      if (!person.distinctId) continue;
      const [result] = evaluateFlags(compiled, {
        distinctId: person.distinctId,
        personProperties: { ...person.properties, distinct_id: person.distinctId },
        staticCohortIds: new Set(memberships.get(person.id) ?? []),
        flagKeys: [PROBE_KEY],
        runtime: 'all',
        now,
      }).filter((r) => r.key === PROBE_KEY);
      if (result?.enabled) affected++;
    }
    if (page.length < PAGE_SIZE) return { users_affected: affected, total_users: total };
    after = page[page.length - 1].id;
    await nextTurn();
  }
}

async function countGroups(ctx: AppContext, compiled: CompiledProject, projectId: number, groupTypeIndex: number): Promise<BlastRadius> {
  const typeName = compiled.groupTypeNames[groupTypeIndex];
  if (typeName === undefined) return { users_affected: 0, total_users: 0 };
  const now = ctx.now();
  let total = 0;
  let affected = 0;
  for (let after: string | null = null; ; ) {
    const page = await pageGroupsForEvaluation(ctx.db, projectId, groupTypeIndex, after, PAGE_SIZE);
    total += page.length;
    for (const group of page) {
      const [result] = evaluateFlags(compiled, {
        distinctId: group.key,
        groups: { [typeName]: group.key },
        groupProperties: { [typeName]: { ...group.properties, $group_key: group.key } },
        flagKeys: [PROBE_KEY],
        runtime: 'all',
        now,
      }).filter((r) => r.key === PROBE_KEY);
      if (result?.enabled) affected++;
    }
    if (page.length < PAGE_SIZE) return { users_affected: affected, total_users: total };
    after = page[page.length - 1].key;
    await nextTurn();
  }
}

export async function userBlastRadius(ctx: AppContext, snapshots: SnapshotStore, auth: RequestAuth, body: unknown): Promise<BlastRadius> {
  const projectId = requireProject(auth).id;
  const request = parseRequest(body);
  if (!request.properties.length) {
    // No condition: everyone (PostHog answers its person count for both numbers).
    const total =
      request.groupTypeIndex === null ? await countProjectPersons(ctx.db, projectId) : await countProjectGroups(ctx.db, projectId, request.groupTypeIndex);
    return { users_affected: total, total_users: total };
  }
  return withSlot(async () => {
    const { compiled, staticCohorts } = await compileProbe(ctx, snapshots, projectId, request);
    return request.groupTypeIndex === null
      ? countPersons(ctx, compiled, projectId, staticCohorts)
      : countGroups(ctx, compiled, projectId, request.groupTypeIndex);
  });
}

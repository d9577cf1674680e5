// Cohorts: list, retrieve, create and update with PostHog's rules (filter structure, references and
// loops, behavioral criteria on flag cohorts, soft delete guarded by flags and other cohorts),
// static membership (cohort-members.ts), and an activity entry per write.
import { isDeepStrictEqual } from 'node:util';
import type { Db } from '../platform/db/index.ts';
import { transact, type AppContext, type TxChanges } from '../platform/context.ts';
import type { Project } from '../access/organizations/projects-repository.ts';
import type { RequestAuth } from '../access/auth.ts';
import { diffFields, logActivity } from '../activity/service.ts';
import {
  countCohortMembers,
  findCohort,
  findCohortForUpdate,
  insertCohort,
  listActiveFlagFilters,
  listCohorts,
  listProjectCohorts,
  updateCohort,
  type CohortListFilters,
  type CohortRow,
  type FlagCohortUse,
  type NewCohortRow,
} from './repository.ts';
import { addStaticMembers } from './members.ts';
import { findUsersByIds } from '../access/organizations/users-repository.ts';
import { parseCohortWrite, toCohort, type CohortOut, type CohortWriteInput } from './schemas.ts';
import { cohortFiltersHaveValues } from './filter-schemas.ts';
import { cohortIdsInFilters } from '../flags/filters.ts';
import { ValidationError, NotFoundError } from '../platform/errors.ts';
import { limitOffsetLinks, parseLimitOffset, type Paginated } from '../platform/pagination.ts';
import { requireProject } from '../access/require-auth.ts';

/** Model fields reported in activity changes, in PostHog's model field order. */
const ACTIVITY_FIELDS = ['name', 'description', 'deleted', 'filters', 'is_static'] as const;

function modelFields(row: CohortRow): Record<string, unknown> {
  return { name: row.name, description: row.description, deleted: row.deleted, filters: row.filters, is_static: row.isStatic };
}

// ---------------------------------------------------------------------------------------------
// The cohort graph: references between cohorts live in `filters.properties` at any depth.

type Json = Record<string, unknown>;
const isDict = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every leaf property filter under `filters.properties`, depth first. */
export function flatCohortProperties(filters: unknown): Json[] {
  const out: Json[] = [];
  const walk = (node: unknown): void => {
    if (!isDict(node)) return;
    if ((node.type === 'AND' || node.type === 'OR') && Array.isArray(node.values)) {
      for (const child of node.values) walk(child);
      return;
    }
    out.push(node);
  };
  if (isDict(filters)) walk(filters.properties);
  return out;
}

/** Referenced cohort ids in order; NaN marks a reference that is not an integer id. */
function cohortRefs(filters: unknown): number[] {
  return flatCohortProperties(filters)
    .filter((p) => p.type === 'cohort')
    .map((p) => (typeof p.value === 'number' || (typeof p.value === 'string' && /^\s*\d+\s*$/.test(p.value)) ? Number(p.value) : Number.NaN));
}

const hasBehavioral = (filters: unknown): boolean => flatCohortProperties(filters).some((p) => p.type === 'behavioral');

interface GraphNode {
  id: number;
  name: string;
  filters: unknown;
  deleted: boolean;
}

/**
 * PostHog's will_create_loops: a depth-first walk from the cohort being written through the
 * cohorts it references; a reference back onto the current path is a loop, a reference to a
 * cohort outside the project is invalid.
 */
function checkReferences(start: GraphNode, nodes: Map<number, GraphNode>): void {
  const seen = new Set<number>();
  const onPath = new Set<number>();
  const visit = (node: GraphNode): void => {
    seen.add(node.id);
    onPath.add(node.id);
    for (const ref of cohortRefs(node.filters)) {
      if (onPath.has(ref)) throw new ValidationError('Cohorts cannot reference other cohorts in a loop.');
      if (seen.has(ref)) continue;
      const next = nodes.get(ref);
      if (!next) throw new ValidationError('Invalid Cohort ID in filter');
      visit(next);
    }
    onPath.delete(node.id);
  };
  visit(start);
}

/** Non-deleted cohorts reachable from `id` through references (not including `id`). */
function dependenciesOf(id: number, nodes: Map<number, GraphNode>): GraphNode[] {
  const out: GraphNode[] = [];
  const seen = new Set<number>([id]);
  const stack = [...cohortRefs(nodes.get(id)?.filters)];
  while (stack.length) {
    const ref = stack.pop()!;
    if (seen.has(ref)) continue;
    seen.add(ref);
    const node = nodes.get(ref);
    if (!node || node.deleted) continue;
    out.push(node);
    stack.push(...cohortRefs(node.filters));
  }
  return out;
}

/** Flags using each cohort, directly or through cohorts their cohorts reference (PostHog's get_cohort_ids). */
function flagsByCohort(flags: FlagCohortUse[], nodes: Map<number, GraphNode>): Map<number, FlagCohortUse[]> {
  const byCohort = new Map<number, FlagCohortUse[]>();
  for (const flag of flags) {
    const ids = new Set<number>();
    for (const id of cohortIdsInFilters(flag.filters)) {
      const node = nodes.get(id);
      if (!node || node.deleted) continue;
      ids.add(id);
      for (const dep of dependenciesOf(id, nodes)) ids.add(dep.id);
    }
    for (const id of ids) byCohort.set(id, [...(byCohort.get(id) ?? []), flag]);
  }
  return byCohort;
}

const graphOf = (rows: CohortRow[]): Map<number, GraphNode> =>
  new Map(rows.map((r) => [r.id, { id: r.id, name: r.name, filters: r.filters, deleted: r.deleted }]));

/** Cohorts with behavioral criteria, and the cohorts that reference them (PostHog's hide_behavioral_cohorts). */
function behavioralCohortIds(rows: CohortRow[]): number[] {
  const affected = new Set(rows.filter((r) => hasBehavioral(r.filters)).map((r) => r.id));
  const known = new Set(rows.map((r) => r.id));
  for (let changed = true; changed; ) {
    changed = false;
    for (const row of rows) {
      if (affected.has(row.id)) continue;
      if (cohortRefs(row.filters).some((ref) => known.has(ref) && affected.has(ref))) {
        affected.add(row.id);
        changed = true;
      }
    }
  }
  return [...affected];
}

const wantsMembers = (input: CohortWriteInput) => input.csv !== undefined || input.distinctIds !== undefined || input.personUuids !== undefined;

// ---------------------------------------------------------------------------------------------
// Reads

async function present(db: Db, rows: CohortRow[]): Promise<CohortOut[]> {
  const users = await findUsersByIds(
    db,
    rows.map((r) => r.createdById).filter((id): id is number => id !== null),
  );
  return rows.map((row) => toCohort(row, users));
}

const lastText = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : Array.isArray(v) && typeof v.at(-1) === 'string' ? (v.at(-1) as string) : undefined;

export async function listCohortsPage(ctx: AppContext, projectId: number, query: Record<string, unknown>, url: URL): Promise<Paginated<CohortOut>> {
  const filters: CohortListFilters = {};
  const type = lastText(query.type);
  if (type === 'static') filters.isStatic = true;
  else if (type === 'dynamic') filters.isStatic = false;
  const createdBy = lastText(query.created_by_id);
  if (createdBy !== undefined) {
    if (!/^\d{1,9}$/.test(createdBy)) throw new ValidationError('A valid integer is required.', 'invalid_input', 'created_by_id');
    filters.createdById = Number(createdBy);
  }
  const search = lastText(query.search);
  if (search) filters.search = search.replace(/\u0000/g, '');
  if (lastText(query.hide_behavioral_cohorts)?.toLowerCase() === 'true') {
    filters.excludeIds = behavioralCohortIds((await listProjectCohorts(ctx.db, projectId)).filter((r) => !r.deleted));
  }
  const { limit, offset } = parseLimitOffset(query);
  const { count, rows } = await listCohorts(ctx.db, projectId, filters, { limit, offset });
  return { count, ...limitOffsetLinks(url, count, limit, offset), results: await present(ctx.db, rows) };
}

/** Retrieve: deleted cohorts too, like PostHog's retrieve. */
export async function getCohort(ctx: AppContext, projectId: number, id: number): Promise<CohortOut> {
  const row = await findCohort(ctx.db, projectId, id);
  if (!row) throw new NotFoundError();
  return (await present(ctx.db, [row]))[0];
}

// ---------------------------------------------------------------------------------------------
// Writes

/** Filters after a write: explicit `filters` win over legacy `groups`, as in PostHog's Cohort.properties. */
function nextFilters(input: CohortWriteInput, current: Record<string, unknown>): Record<string, unknown> {
  if (input.filters !== undefined && input.filters !== null && Object.keys(input.filters).length) return input.filters;
  if (input.groupsFilters) return input.groupsFilters;
  if (input.filters !== undefined) return {};
  return current;
}

export async function createCohort(ctx: AppContext, auth: RequestAuth, body: unknown, opts: { form: boolean }): Promise<CohortOut> {
  const project = requireProject(auth);
  const actorId = auth.user?.id ?? null;
  const now = ctx.now();
  const input = parseCohortWrite(body, { form: opts.form });
  const isStatic = input.isStatic ?? false;
  const filters = nextFilters(input, {});
  const hasCriteria = cohortFiltersHaveValues(input.filters);
  if (input.query && hasCriteria) throw new ValidationError('Cannot set both query and filters at the same time.');

  const row = await transact(ctx, async (tx, changes) => {
    if (isStatic) {
      // PostHog computes these memberships in the background from events and HogQL; flaghost
      // has neither, and an empty cohort that silently never fills would mislead.
      if (input.query)
        throw new ValidationError('flaghost cannot build a static cohort from a query. Upload a csv or send distinct_ids instead.', 'invalid_input', 'query');
      if (hasCriteria)
        throw new ValidationError(
          'flaghost cannot build a static cohort from criteria. Upload a csv or send distinct_ids instead.',
          'invalid_input',
          'filters',
        );
      if (!wantsMembers(input))
        throw new ValidationError('Invalid source for static cohort. Requires criteria, a csv, feature flag, existing cohort or query.');
    } else {
      if (input.query) throw new ValidationError('Cannot create a dynamic cohort with a query. Set is_static to true.');
      if (wantsMembers(input)) throw new ValidationError('Can only add users to static cohorts');
    }
    const nodes = graphOf(await listProjectCohorts(tx, project.id));
    checkReferences({ id: -1, name: input.name ?? '', filters, deleted: false }, nodes);

    const values: NewCohortRow = {
      projectId: project.id,
      name: input.name ?? '',
      description: input.description ?? '',
      filters,
      isStatic,
      isCalculating: false,
      deleted: input.deleted ?? false,
      createdById: actorId,
      createdAt: now,
      updatedAt: now,
    };
    let created = await insertCohort(tx, values);
    if (isStatic) {
      await addStaticMembers(tx, project.id, created.id, input);
      created = await updateCohort(tx, created.id, { count: await countCohortMembers(tx, created.id) });
    }
    await recordCohortCreated(tx, changes, project, created, actorId, now);
    return created;
  });
  return (await present(ctx.db, [row]))[0];
}

/** The activity entry of a new cohort; SDK snapshots see it after commit. */
export async function recordCohortCreated(tx: Db, changes: TxChanges, project: Project, cohort: CohortRow, actorId: number | null, at: Date): Promise<void> {
  await logActivity(tx, {
    organizationId: project.organizationId,
    projectId: project.id,
    userId: actorId,
    activity: 'created',
    scope: 'Cohort',
    itemId: cohort.id,
    name: cohort.name,
    changes: [],
    at,
  });
  changes.project(project.id);
}

function namesList(names: string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${shown}, and ${names.length - 5} more` : shown;
}

export async function updateCohortById(ctx: AppContext, auth: RequestAuth, id: number, body: unknown, opts: { form: boolean }): Promise<CohortOut> {
  const project = requireProject(auth);
  const actorId = auth.user?.id ?? null;
  const now = ctx.now();
  const row = await transact(ctx, async (tx, changes) => {
    const existing = await findCohortForUpdate(tx, project.id, id);
    if (!existing) throw new NotFoundError();
    const input = parseCohortWrite(body, { form: opts.form, existingIsStatic: existing.isStatic });
    const all = await listProjectCohorts(tx, project.id);
    const nodes = graphOf(all);
    const flagUses = flagsByCohort(await listActiveFlagFilters(tx, project.id), nodes);

    // validate_filters (PATCH): a cohort that flags use may not gain criteria on events.
    if (input.filters && cohortFiltersHaveValues(input.filters) && flagUses.has(existing.id)) {
      for (const prop of flatCohortProperties(input.filters)) {
        if (prop.type === 'behavioral') {
          throw new ValidationError('Behavioral filters cannot be added to cohorts used in feature flags.', 'behavioral_cohort_found', 'filters');
        }
        if (prop.type !== 'cohort') continue;
        const nested = nodes.get(Number(prop.value));
        if (!nested) continue;
        for (const dependency of [nested, ...dependenciesOf(nested.id, nodes)]) {
          if (hasBehavioral(dependency.filters)) {
            throw new ValidationError(
              `A cohort dependency (${dependency.name}) has filters based on events. These cohorts can't be used in feature flags.`,
              'behavioral_cohort_found',
              'filters',
            );
          }
        }
      }
    }

    const isStatic = input.isStatic ?? existing.isStatic;
    const filters = nextFilters(input, existing.filters);
    const filtersChanged = input.filters !== undefined && !isDeepStrictEqual(input.filters ?? {}, existing.filters ?? {});
    if (isStatic && filtersChanged && cohortFiltersHaveValues(input.filters)) {
      throw new ValidationError('Editing the criteria of a static cohort is not supported yet. Create a new static cohort instead.');
    }
    if (input.query) {
      throw new ValidationError(
        isStatic
          ? 'flaghost cannot build a static cohort from a query. Upload a csv or send distinct_ids instead.'
          : 'Cannot create a dynamic cohort with a query. Set is_static to true.',
        'invalid_input',
        isStatic ? 'query' : null,
      );
    }

    const deleting = input.deleted === true && !existing.deleted;
    if (deleting) {
      const flags = flagUses.get(existing.id) ?? [];
      if (flags.length) {
        throw new ValidationError(
          `This cohort is used in ${flags.length} active feature flag(s): ${flags.map((f) => f.name || f.key).join(', ')}. ` +
            'Please remove the cohort from these feature flags before deleting it.',
        );
      }
      const dependents = all.filter((c) => !c.deleted && c.id !== existing.id && cohortRefs(c.filters).includes(existing.id));
      if (dependents.length) {
        throw new ValidationError(
          `This cohort is used as criteria in ${dependents.length} other cohort(s): ${namesList(dependents.map((c) => c.name))}. ` +
            'Please remove this cohort from those cohort definitions before deleting it.',
        );
      }
    }
    checkReferences({ id: existing.id, name: existing.name, filters, deleted: existing.deleted }, nodes);

    const addsMembers = wantsMembers(input) && input.deleted !== true;
    if (addsMembers && !isStatic) throw new ValidationError('Can only add users to static cohorts');
    if (addsMembers) await addStaticMembers(tx, project.id, existing.id, input);

    const values: Partial<NewCohortRow> = {
      ...(input.name !== undefined ? { name: input.name ?? '' } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.deleted !== undefined ? { deleted: input.deleted } : {}),
      filters,
      isStatic,
      count: isStatic ? await countCohortMembers(tx, existing.id) : null,
      updatedAt: now,
    };
    const updated = await updateCohort(tx, existing.id, values);
    const diff = diffFields('Cohort', modelFields(existing), modelFields(updated), ACTIVITY_FIELDS);
    const deletedChange = diff.find((c) => c.field === 'deleted');
    await logActivity(tx, {
      organizationId: project.organizationId,
      projectId: project.id,
      userId: actorId,
      activity: deletedChange ? (updated.deleted ? 'deleted' : 'restored') : 'updated',
      scope: 'Cohort',
      itemId: updated.id,
      name: updated.name,
      changes: diff,
      at: now,
    });
    changes.project(project.id);
    return updated;
  });
  return (await present(ctx.db, [row]))[0];
}

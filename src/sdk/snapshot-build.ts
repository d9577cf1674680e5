// Builds a project's snapshot from the database, incrementally when this instance built one before
// (docs/architecture.md#snapshots-and-change-notifications): only the flag rows stamped after the
// revision the last build read are read again, and only those flags are compiled and rendered again.
import type { AppContext } from '../platform/context.ts';
import {
  compileIncrementally,
  definitionsOrder,
  emptyPropertyReads,
  liveDynamicCohorts,
  mergePropertyReads,
  servedInDefinitions,
  type CohortDefinition,
  type CompiledProject,
  type CompileMemo,
  type FlagDefinition,
  type GroupTypeDefinition,
  type PropertyReads,
} from '../evaluation/index.ts';
import { findOrganization, findProject, type Organization, type Project } from '../access/organizations/projects-repository.ts';
import { countFlagsChangedAfter, countLiveFlags, FLAG_ID_MAX, listFlagsAfter, type FeatureFlagRow } from '../flags/repository.ts';
import { normalizeFilters } from '../flags/filters.ts';
import { listProjectCohorts } from '../cohorts/repository.ts';
import { listGroupTypes } from '../groups/repository.ts';
import { flagState, readsOf, type DefinitionsSource, type FlagState } from './snapshot-pieces.ts';
import { TimeSlicer } from './time-slice.ts';

/** Rows per query: PGlite decodes a page on the event loop, so a page stays small (~1–2 ms). */
const PAGE = 100;
/** Past this many changed rows, a build reads every live row in pages instead of in one transaction. */
const MOST_CHANGES = 1000;

export function toFlagDefinition(row: FeatureFlagRow): FlagDefinition {
  return {
    id: row.id,
    projectId: row.projectId,
    key: row.key,
    name: row.name,
    active: row.active,
    deleted: row.deleted,
    // As the API shows them: a flag stored without groups (created without filters, or a legacy
    // flag) is one group of its legacy rollout, null meaning everyone (docs/compatibility.md#api-3.11).
    filters: normalizeFilters(row.filters, row.rolloutPercentage),
    ensureExperienceContinuity: row.ensureExperienceContinuity ?? false,
    hasEncryptedPayloads: row.hasEncryptedPayloads ?? false,
    version: row.version,
    evaluationRuntime: (row.evaluationRuntime as FlagDefinition['evaluationRuntime']) ?? 'all',
    bucketingIdentifier: row.bucketingIdentifier === 'device_id' ? 'device_id' : 'distinct_id',
    evaluationTags: row.evaluationTags,
    isRemoteConfiguration: row.isRemoteConfiguration ?? false,
  };
}

/** What a build leaves for the next build of the same project on this instance. */
export interface BuildState {
  /** Every flag row stamped at or below this revision has been read. */
  seen: number;
  /** Live flags by id, in id order. */
  flags: Map<number, FlagState>;
  /** Served flags in definitions order. */
  served: FlagState[];
  memo: CompileMemo;
  cohortsJson: string;
  cohortsVersion: number;
}

/** A built snapshot's contents (snapshots.ts wraps them with the definitions and counters). */
export interface BuiltProject {
  project: Project;
  organization: Organization;
  revision: number;
  flags: FeatureFlagRow[];
  compiled: CompiledProject;
  groupTypes: GroupTypeDefinition[];
  staticCohortIds: Set<number>;
  reads: PropertyReads;
  readsByFlag: () => Map<string, PropertyReads>;
  continuityFlagKeys: string[];
  definitions: DefinitionsSource;
}

/** How a build read the flags, for tests and /metrics: `incremental` read only changed rows. */
export interface BuildReport {
  mode: 'full' | 'incremental';
  flagRowsRead: number;
}

/** Static cohorts reachable from the conditions of active flags. */
function reachableStaticCohorts(compiled: CompiledProject): Set<number> {
  const found = new Set<number>();
  const seen = new Set<number>();
  const stack: number[] = [];
  for (const flag of compiled.flags) {
    if (!flag.active) continue;
    const conditions = flag.superGroup ? [...flag.conditions, flag.superGroup.condition] : flag.conditions;
    for (const condition of conditions) for (const filter of condition.cohortFilters) if (filter.cohortId !== undefined) stack.push(filter.cohortId);
  }
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const cohort = compiled.cohorts.get(id);
    if (!cohort) continue;
    if (cohort.isStatic) found.add(id);
    else stack.push(...cohort.references);
  }
  return found;
}

type FlagRead = { project: Project; flags: Map<number, FlagState>; seen: number; rowsRead: number; changed: FlagState[] | undefined };

/**
 * The rows changed since `previous.seen`, in one read-only transaction (one consistent view):
 * the project row (its revision is the new `seen`), the changed rows, soft-deleted ones included,
 * and the live count. Undefined when a full read is needed: too many changes, or a live flag
 * vanished without a stamp (a hard delete), which the count reveals.
 */
async function readChanges(ctx: AppContext, projectId: number, previous: BuildState): Promise<FlagRead | 'gone' | undefined> {
  const read = await ctx.db.transaction(
    async (tx) => {
      const project = await findProject(tx, projectId);
      if (!project) return 'gone' as const;
      if ((await countFlagsChangedAfter(tx, projectId, previous.seen)) > MOST_CHANGES) return undefined;
      const rows: FeatureFlagRow[] = [];
      let cursor = { stamp: previous.seen, id: FLAG_ID_MAX };
      for (;;) {
        const page = await listFlagsAfter(tx, projectId, cursor, { liveOnly: false, limit: PAGE });
        rows.push(...page);
        if (page.length < PAGE) break;
        cursor = { stamp: page[page.length - 1].changeStamp, id: page[page.length - 1].id };
      }
      return { project, rows, live: await countLiveFlags(tx, projectId) };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
  if (read === 'gone' || read === undefined) return read;
  const flags = new Map(previous.flags);
  const changed: FlagState[] = [];
  for (const row of read.rows) {
    const old = flags.get(row.id);
    if (row.deleted) flags.delete(row.id);
    else if (old?.stamp !== row.changeStamp) {
      const state = flagState(row, toFlagDefinition(row));
      flags.set(row.id, state);
      changed.push(state);
    }
    if (old && (row.deleted || old.stamp !== row.changeStamp)) changed.push(old);
  }
  // Every row that became live is stamped, so the flags held here include every live one: equal counts mean equal sets.
  if (flags.size !== read.live) return undefined;
  return { project: read.project, flags: sortedById(flags), seen: read.project.revision, rowsRead: read.rows.length, changed };
}

function sortedById(flags: Map<number, FlagState>): Map<number, FlagState> {
  let last = -Infinity;
  for (const id of flags.keys()) {
    if (id < last) return new Map([...flags].sort((a, b) => a[0] - b[0]));
    last = id;
  }
  return flags;
}

/** Every live row, in pages; the project row is read first, so its revision covers every row read after it. */
async function readAll(ctx: AppContext, projectId: number, previous: BuildState | undefined, slicer: TimeSlicer): Promise<FlagRead | 'gone'> {
  const project = await findProject(ctx.db, projectId);
  if (!project) return 'gone';
  const flags = new Map<number, FlagState>();
  let cursor = { stamp: -1, id: FLAG_ID_MAX };
  let rowsRead = 0;
  for (;;) {
    const page = await listFlagsAfter(ctx.db, projectId, cursor, { liveOnly: true, limit: PAGE });
    slicer.restart();
    rowsRead += page.length;
    // A row changed while the pages are read comes again later with a higher stamp: the later read wins.
    for (const row of page) {
      const old = previous?.flags.get(row.id);
      flags.set(row.id, old?.stamp === row.changeStamp ? old : flagState(row, toFlagDefinition(row)));
    }
    if (page.length < PAGE) break;
    cursor = { stamp: page[page.length - 1].changeStamp, id: page[page.length - 1].id };
    await slicer.pause();
  }
  return { project, flags: sortedById(flags), seen: project.revision, rowsRead, changed: undefined };
}

/** Served flags in definitions order: the previous order without the changed flags, merged with their new states. */
function definitionsOrderOf(read: FlagRead, previous: BuildState | undefined): FlagState[] {
  if (!previous || !read.changed) return [...read.flags.values()].filter((s) => servedInDefinitions(s.def)).sort((a, b) => definitionsOrder(a.def, b.def));
  const removed = new Set(read.changed);
  const kept = previous.served.filter((s) => !removed.has(s));
  const added = read.changed.filter((s) => read.flags.get(s.def.id) === s && servedInDefinitions(s.def)).sort((a, b) => definitionsOrder(a.def, b.def));
  const out: FlagState[] = [];
  let i = 0;
  for (const state of added) {
    while (i < kept.length && definitionsOrder(kept[i].def, state.def) < 0) out.push(kept[i++]);
    out.push(state);
  }
  while (i < kept.length) out.push(kept[i++]);
  return out;
}

/**
 * Builds the project's snapshot contents; undefined when the project does not exist. Never holds
 * the event loop for long: rows come in small pages and the work between them is sliced.
 */
export async function buildProject(
  ctx: AppContext,
  projectId: number,
  previous: BuildState | undefined,
): Promise<{ built: BuiltProject; state: BuildState; report: BuildReport } | undefined> {
  const slicer = new TimeSlicer();
  const read = (previous && (await readChanges(ctx, projectId, previous))) || (await readAll(ctx, projectId, previous, slicer));
  if (read === 'gone') return undefined;
  const [organization, cohortRows, groupTypeRows] = await Promise.all([
    findOrganization(ctx.db, read.project.organizationId),
    listProjectCohorts(ctx.db, projectId),
    listGroupTypes(ctx.db, projectId),
  ]);
  slicer.restart();
  if (!organization) return undefined;
  const report: BuildReport = { mode: read.changed ? 'incremental' : 'full', flagRowsRead: read.rowsRead };
  const cohorts: CohortDefinition[] = cohortRows.map((c) => ({ id: c.id, name: c.name, filters: c.filters, isStatic: c.isStatic, deleted: c.deleted }));
  const groupTypes: GroupTypeDefinition[] = groupTypeRows.map((g) => ({ groupType: g.groupType, groupTypeIndex: g.groupTypeIndex }));
  const cohortsJson = JSON.stringify(cohorts);
  const cohortsVersion = !previous ? 0 : previous.cohortsJson === cohortsJson ? previous.cohortsVersion : previous.cohortsVersion + 1;

  const states = [...read.flags.values()];
  const { compiled, memo } = await slicer.drive(
    compileIncrementally({ flags: states.map((s) => ({ def: s.def, stamp: s.stamp })), cohorts, groupTypes, timezone: read.project.timezone }, previous?.memo),
  );

  const cohortsById = new Map(cohorts.map((c) => [c.id, c]));
  const reads = emptyPropertyReads();
  const active = states.filter((s) => s.def.active);
  for (const state of active) {
    mergePropertyReads(reads, readsOf(state, cohortsById, cohortsVersion));
    await slicer.pause();
  }
  let readsByFlag: Map<string, PropertyReads> | undefined;
  const served = definitionsOrderOf(read, previous);
  const state: BuildState = { seen: read.seen, flags: read.flags, served, memo, cohortsJson, cohortsVersion };
  const built: BuiltProject = {
    project: read.project,
    organization,
    revision: read.project.revision,
    flags: states.map((s) => s.row),
    compiled,
    groupTypes,
    staticCohortIds: reachableStaticCohorts(compiled),
    reads,
    readsByFlag: () => (readsByFlag ??= new Map(active.map((s) => [s.def.key, readsOf(s, cohortsById, cohortsVersion)]))),
    continuityFlagKeys: active.filter((s) => s.def.ensureExperienceContinuity).map((s) => s.def.key),
    definitions: { served, byId: read.flags, liveCohorts: liveDynamicCohorts(cohorts), cohortsVersion, groupTypes, projectId },
  };
  return { built, state, report };
}

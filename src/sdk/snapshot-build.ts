// Builds a project's snapshot from the database, incrementally when this instance built one before
// (docs/architecture.md#snapshots-and-change-notifications): only the flag rows stamped after the
// revision the last build read are read again, and only those flags are compiled and rendered again.
import type { AppContext } from '../platform/context.ts';
import {
  compileIncrementally,
  definitionsOrder,
  liveDynamicCohorts,
  servedInDefinitions,
  type CohortDefinition,
  type CompiledProject,
  type CompileMemo,
  type FlagDefinition,
  type GroupTypeDefinition,
  type PropertyReads,
} from '../evaluation/index.ts';
import { findOrganization, findProject, type Organization, type Project } from '../access/organizations/projects-repository.ts';
import { FLAG_ID_MAX, listFlagsAfter, type FeatureFlagRow } from '../flags/repository.ts';
import { normalizeFilters } from '../flags/filters.ts';
import { listProjectCohorts } from '../cohorts/repository.ts';
import { listGroupTypes } from '../groups/repository.ts';
import { copyReadCounts, countReads, emptyReadCounts, readsOf as readsFromCounts, type ReadCounts } from './read-counts.ts';
import { flagState, readsOf as flagReads, type DefinitionsSource, type FlagState } from './snapshot-pieces.ts';
import { TimeSlicer } from './time-slice.ts';

/** Rows per query: PGlite decodes a page on the event loop (~0.1 ms a row with its filters), so a page stays small. */
const PAGE = 32;

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
  /** The project's `flagRemovals` when `seen` was read. */
  removals: number;
  /** How many active flags read each stored property. */
  readCounts: ReadCounts;
  /** The project and organization rows read, as JSON. */
  identity: string;
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
  /** `unchanged`: the project's revision, row and organization were those of the last build, whose snapshot stays. */
  mode: 'full' | 'incremental' | 'unchanged';
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
 * Reads the project's flag rows stamped after `previous.seen` (soft-deleted ones included, so that
 * they leave the snapshot), or every live row without `previous`, in small pages. The project row
 * is read first: every row stamped at or below its revision was committed before, so the next
 * build starts from that revision; a row read here with a later stamp is read again then, which
 * changes nothing. A row deleted outright leaves no stamp, but counts in the project's
 * `flagRemovals`: when that count moved, every live row is read again.
 */
async function readFlags(ctx: AppContext, project: Project, previous: BuildState | undefined, slicer: TimeSlicer): Promise<FlagRead> {
  const projectId = project.id;
  const incremental = previous !== undefined && previous.removals === project.flagRemovals;
  const flags = incremental ? new Map(previous.flags) : new Map<number, FlagState>();
  const changed: FlagState[] = [];
  let cursor = { stamp: incremental ? previous.seen : -1, id: FLAG_ID_MAX };
  let rowsRead = 0;
  for (;;) {
    // PGlite runs a statement on this thread, and statements awaited one after the other chain
    // through microtasks without letting the event loop run: each read starts a turn of its own.
    await slicer.next();
    const page = await listFlagsAfter(ctx.db, projectId, cursor, { liveOnly: !incremental, limit: PAGE });
    slicer.restart();
    rowsRead += page.length;
    for (const row of page) {
      // A row changed while the pages are read comes again later with a higher stamp: the later read wins.
      const old = flags.get(row.id) ?? (incremental ? undefined : previous?.flags.get(row.id));
      if (row.deleted) flags.delete(row.id);
      else flags.set(row.id, old?.stamp === row.changeStamp ? old : flagState(row, toFlagDefinition(row)));
      const now = flags.get(row.id);
      if (old !== now) {
        if (old) changed.push(old);
        if (now) changed.push(now);
      }
    }
    if (page.length < PAGE) break;
    cursor = { stamp: page[page.length - 1].changeStamp, id: page[page.length - 1].id };
  }
  return { project, flags: sortedById(flags), seen: project.revision, rowsRead, changed: incremental ? changed : undefined };
}

function sortedById(flags: Map<number, FlagState>): Map<number, FlagState> {
  let last = -Infinity;
  for (const id of flags.keys()) {
    if (id < last) return new Map([...flags].sort((a, b) => a[0] - b[0]));
    last = id;
  }
  return flags;
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
): Promise<{ built: BuiltProject; state: BuildState; report: BuildReport } | 'unchanged' | undefined> {
  const slicer = new TimeSlicer();
  // The project row first: its revision covers every flag row read after it.
  const project = await findProject(ctx.db, projectId);
  if (!project) return undefined;
  await slicer.next();
  const organization = await findOrganization(ctx.db, project.organizationId);
  if (!organization) return undefined;
  // Every change a snapshot holds moves the revision; the rows are compared too (a token restored by hand).
  const identity = JSON.stringify([project, organization]);
  if (previous && previous.seen === project.revision && previous.removals === project.flagRemovals && previous.identity === identity) return 'unchanged';
  const read = await readFlags(ctx, project, previous, slicer);
  await slicer.next();
  const [cohortRows, groupTypeRows] = await Promise.all([listProjectCohorts(ctx.db, projectId), listGroupTypes(ctx.db, projectId)]);
  slicer.restart();
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
  // The reads are counted per key: after a change, only the changed flags' reads go out and in.
  const active = states.filter((s) => s.def.active);
  let readCounts: ReadCounts;
  if (previous && read.changed && previous.cohortsVersion === cohortsVersion) {
    readCounts = copyReadCounts(previous.readCounts);
    for (const s of read.changed) {
      if (!s.def.active) continue;
      if (read.flags.get(s.def.id) === s) countReads(readCounts, flagReads(s, cohortsById, cohortsVersion), 1);
      else if (previous.flags.get(s.def.id) === s) countReads(readCounts, flagReads(s, cohortsById, cohortsVersion), -1);
    }
  } else {
    readCounts = emptyReadCounts();
    for (const s of active) {
      countReads(readCounts, flagReads(s, cohortsById, cohortsVersion), 1);
      if (slicer.due()) await slicer.next();
    }
  }
  const reads = readsFromCounts(readCounts);
  let readsByFlag: Map<string, PropertyReads> | undefined;
  const served = definitionsOrderOf(read, previous);
  const state: BuildState = {
    seen: read.seen,
    removals: read.project.flagRemovals,
    readCounts,
    identity,
    flags: read.flags,
    served,
    memo,
    cohortsJson,
    cohortsVersion,
  };
  const built: BuiltProject = {
    project: read.project,
    organization,
    revision: read.project.revision,
    flags: states.map((s) => s.row),
    compiled,
    groupTypes,
    staticCohortIds: reachableStaticCohorts(compiled),
    reads,
    readsByFlag: () => (readsByFlag ??= new Map(active.map((s) => [s.def.key, flagReads(s, cohortsById, cohortsVersion)]))),
    continuityFlagKeys: active.filter((s) => s.def.ensureExperienceContinuity).map((s) => s.def.key),
    definitions: { served, byId: read.flags, liveCohorts: liveDynamicCohorts(cohorts), cohortsVersion, groupTypes, projectId },
  };
  return { built, state, report };
}

// In-memory project snapshots for the SDK hot path: token → project, compiled flags and cohorts,
// and the pre-serialised definitions bodies. Rebuilt after a committed change (this instance
// directly, others through NOTIFY); a periodic revision check repairs a missed notification.
// Builds of one project run one at a time, each from the state the last one left
// (snapshot-build.ts), so a change costs what changed (docs/architecture.md#snapshots-and-change-notifications).
import type { AppContext } from '../platform/context.ts';
import { databaseFailure } from '../platform/db/errors.ts';
import type { CompiledProject, GroupTypeDefinition, PropertyReads } from '../evaluation/index.ts';
import { listProjectRevisions, type Organization, type Project } from '../access/organizations/projects-repository.ts';
import type { FeatureFlagRow } from '../flags/repository.ts';
import type { DefinitionsBody } from './definitions-body.ts';
import { buildProject, type BuildReport, type BuildState } from './snapshot-build.ts';
import { renderDefinitions } from './snapshot-pieces.ts';
import { TimeSlicer } from './time-slice.ts';

export type { DefinitionsAnswer, DefinitionsBody } from './definitions-body.ts';
export { toFlagDefinition } from './snapshot-build.ts';

/** `send_cohorts` present (even empty) and not false: the definitions variant with cohorts. */
export function sendCohortsRequested(query: Record<string, unknown>): boolean {
  if (!('send_cohorts' in query)) return false;
  const value = query.send_cohorts;
  const text = Array.isArray(value) ? String(value.at(-1)) : String(value ?? '');
  return !['false', '0', 'no'].includes(text.toLowerCase());
}

export interface ProjectSnapshot {
  project: Project;
  organization: Organization;
  revision: number;
  flags: FeatureFlagRow[];
  compiled: CompiledProject;
  groupTypes: GroupTypeDefinition[];
  groupTypeIndexByName: Map<string, number>;
  /**
   * Static cohorts that active flags reach (directly or through dynamic cohorts). Membership is
   * a database lookup per request, so it is only done when this set is not empty.
   */
  staticCohortIds: ReadonlySet<number>;
  /** Stored properties the active flags can read: /flags fetches the person only when one is missing from the request. */
  reads: PropertyReads;
  /** The same per active flag (by key): which flags a failed lookup leaves without an answer. Built on first use. */
  flagReads(): Map<string, PropertyReads>;
  /** Keys of active flags with ensure_experience_continuity (they need stored hash-key overrides). */
  continuityFlagKeys: string[];
  /**
   * The local-evaluation body of a variant, kept until the snapshot is replaced. A promise while it
   * is being assembled (in slices, from per-flag pieces); a variant asked for once is assembled
   * by every later rebuild before anyone asks.
   */
  definitions(sendCohorts: boolean): DefinitionsBody | Promise<DefinitionsBody>;
  /** The project's counters, kept across rebuilds (/metrics reads them). */
  usage: SnapshotUsage;
}

export interface SnapshotUsage {
  /** Flags evaluated for /flags and /decide answers (one per flag in each answer). */
  flagsEvaluated: number;
}

/** Per project, for readiness and /metrics (src/ops/). */
export interface SnapshotState {
  projectId: number;
  /** Date.now() when the snapshot in service was last known current: built, or checked against the database revision. */
  verifiedAt?: number;
  usage: SnapshotUsage;
}

/** Which definitions variants were asked for (and gzipped) in a project: later rebuilds prepare them. */
interface DefinitionsDemand {
  variants: Set<boolean>;
  gzip: Set<boolean>;
}

async function buildSnapshot(
  ctx: AppContext,
  projectId: number,
  entry: Entry,
): Promise<{ snapshot: ProjectSnapshot; state: BuildState; report: BuildReport } | undefined> {
  let result = await buildProject(ctx, projectId, entry.state);
  if (result === 'unchanged') {
    // Nothing changed since the last build (this instance's own change notified back, a periodic check): its snapshot stays.
    if (entry.value && entry.state) return { snapshot: entry.value, state: entry.state, report: { mode: 'unchanged', flagRowsRead: 0 } };
    result = await buildProject(ctx, projectId, undefined);
  }
  if (!result || result === 'unchanged') return undefined;
  const { built, state, report } = result;
  const bodies = new Map<boolean, DefinitionsBody | Promise<DefinitionsBody>>();
  const snapshot: ProjectSnapshot = {
    project: built.project,
    organization: built.organization,
    revision: built.revision,
    flags: built.flags,
    compiled: built.compiled,
    groupTypes: built.groupTypes,
    groupTypeIndexByName: new Map(built.groupTypes.map((g) => [g.groupType, g.groupTypeIndex])),
    staticCohortIds: built.staticCohortIds,
    reads: built.reads,
    flagReads: built.readsByFlag,
    continuityFlagKeys: built.continuityFlagKeys,
    usage: entry.usage,
    definitions(sendCohorts) {
      entry.demand.variants.add(sendCohorts);
      let body = bodies.get(sendCohorts);
      if (!body) {
        const pending = renderDefinitions(built.definitions, sendCohorts, new TimeSlicer()).then((done) => {
          const gzipAnswer = done.gzipAnswer;
          done.gzipAnswer = () => {
            entry.demand.gzip.add(sendCohorts);
            return gzipAnswer();
          };
          bodies.set(sendCohorts, done);
          return done;
        });
        bodies.set(sendCohorts, pending);
        // A failed render is not kept: the next request tries again.
        pending.catch(() => bodies.delete(sendCohorts));
        body = pending;
      }
      return body;
    },
  };
  return { snapshot, state, report };
}

/** Assembles the bodies a project's clients asked for before, and starts their gzip, so the first poll after a change finds them. */
function prepareDefinitions(snapshot: ProjectSnapshot, demand: DefinitionsDemand): Promise<unknown> {
  return Promise.all(
    [...demand.variants].map(async (sendCohorts) => {
      const body = await snapshot.definitions(sendCohorts);
      if (demand.gzip.has(sendCohorts)) await body.gzip();
    }),
  );
}

interface Entry {
  /** The last snapshot built (undefined: the project does not exist); kept through failed rebuilds. */
  value?: ProjectSnapshot;
  /** Whether a build has ever succeeded (a `value` of undefined then means "no such project"). */
  built: boolean;
  /** The newest build in flight: requests wait for it, so they see a change this instance just committed. */
  pending?: Promise<ProjectSnapshot | undefined>;
  /** The newest build failed (database unavailable): `value` may be out of date; the next check retries. */
  stale: boolean;
  /** Builds started / the build whose result `value` holds, so that an older build never replaces a newer one. */
  started: number;
  applied: number;
  verifiedAt?: number;
  usage: SnapshotUsage;
  /** What the last successful build left for the next one (snapshot-build.ts). */
  state?: BuildState;
  /** How the last successful build that read flags read them (a build that found nothing changed is not counted). */
  report?: BuildReport;
  /** The build running or queued last: the next build starts when it has ended (they share `state`). */
  tail?: Promise<unknown>;
  /** A build queued behind a running one that has not started yet: an invalidation joins it, since it will read that change too. */
  queued?: Promise<ProjectSnapshot | undefined>;
  demand: DefinitionsDemand;
}

const newEntry = (): Entry => ({
  built: false,
  stale: false,
  started: 0,
  applied: 0,
  usage: { flagsEvaluated: 0 },
  demand: { variants: new Set(), gzip: new Set() },
});

export class SnapshotStore {
  private readonly entries = new Map<number, Entry>();
  private tokens = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private readonly rebuildListeners: Array<(projectId: number, seconds: number, ok: boolean) => void> = [];
  /** Whether every project had its snapshot built once (loadAll). */
  loaded = false;
  private loading?: Promise<void>;

  constructor(private readonly ctx: AppContext) {
    ctx.changes.onProjectChanged((projectId) => this.invalidate(projectId));
  }

  /** Starts rebuilding the project's snapshot; requests wait for the new one. */
  invalidate(projectId: number): void {
    // Possibly a project created just now, or a token reset: the new token must not wait for the
    // throttled refresh.
    this.tokensStale = true;
    if (!this.entries.has(projectId)) return;
    this.load(projectId).catch((err) => this.reportFailure(err, 'snapshot rebuild failed: the previous snapshot stays in service until a check retries'));
  }

  /** A background rebuild or check that failed: a database outage is already reported by the health monitor. */
  private reportFailure(err: unknown, msg: string): void {
    if (databaseFailure(err)) this.ctx.log.debug({ err }, msg);
    else this.ctx.log.warn({ err }, msg);
  }

  /**
   * Builds the project's snapshot. When the build fails (the database cannot be reached), the
   * last snapshot built stays in service, marked stale so that the next check retries: an outage
   * must not turn flags that need nothing from the database into errors. Without any earlier
   * snapshot, the failure is the answer.
   */
  private load(projectId: number): Promise<ProjectSnapshot | undefined> {
    let entry = this.entries.get(projectId);
    if (!entry) this.entries.set(projectId, (entry = newEntry()));
    const current = entry;
    if (current.queued) return current.queued;
    const build = ++current.started;
    let started = 0;
    const rebuilt = (ok: boolean) => {
      for (const listener of this.rebuildListeners) listener(projectId, (performance.now() - started) / 1000, ok);
    };
    const self: { promise?: Promise<ProjectSnapshot | undefined> } = {};
    const run = () => {
      if (self.promise && current.queued === self.promise) current.queued = undefined;
      started = performance.now();
      return buildSnapshot(this.ctx, projectId, current);
    };
    const previous = current.tail;
    const promise: Promise<ProjectSnapshot | undefined> = (previous ? previous.then(run, run) : run()).then(
      (result) => {
        rebuilt(true);
        const snapshot = result?.snapshot;
        current.state = result?.state;
        if (result?.report.mode !== 'unchanged') current.report = result?.report;
        if (snapshot) this.tokens.set(snapshot.project.apiToken, projectId);
        if (build > current.applied) {
          current.value = snapshot;
          current.built = true;
          current.applied = build;
          current.verifiedAt = Date.now();
        }
        if (build === current.started) {
          current.pending = undefined;
          current.stale = false;
        }
        if (snapshot)
          prepareDefinitions(snapshot, current.demand).catch((err) =>
            this.reportFailure(err, 'definitions could not be prepared: the first request builds them'),
          );
        return current.value;
      },
      (error: unknown) => {
        rebuilt(false);
        if (build === current.started) {
          current.pending = undefined;
          current.stale = true;
        }
        if (current.built) return current.value;
        // Nothing to fall back on: the next request retries from scratch.
        if (this.entries.get(projectId) === current && build === current.started) this.entries.delete(projectId);
        throw error;
      },
    );
    self.promise = promise;
    if (previous) current.queued = promise;
    current.tail = promise;
    current.pending = promise;
    return promise;
  }

  /** How the project's last snapshot build read its flags (a full read, or only the changed rows). */
  lastBuild(projectId: number): BuildReport | undefined {
    return this.entries.get(projectId)?.report;
  }

  async forProject(projectId: number): Promise<ProjectSnapshot | undefined> {
    const entry = this.entries.get(projectId);
    if (!entry) return this.load(projectId);
    return entry.pending ?? entry.value;
  }

  /** The current snapshot of a project if it is built and no rebuild is running; undefined means "ask forProject". */
  peekForProject(projectId: number): ProjectSnapshot | undefined {
    const entry = this.entries.get(projectId);
    return entry && !entry.pending ? entry.value : undefined;
  }

  /** The current snapshot for a token if it is built and no rebuild is running; undefined means "ask forToken". */
  peekForToken(token: string): ProjectSnapshot | undefined {
    const projectId = this.tokens.get(token);
    const snapshot = projectId === undefined ? undefined : this.peekForProject(projectId);
    // A token reset leaves the old token in the map until the next refresh: it must not answer.
    return snapshot?.project.apiToken === token ? snapshot : undefined;
  }

  /** The snapshot of the project whose public token this is; undefined for an unknown token. */
  async forToken(token: string): Promise<ProjectSnapshot | undefined> {
    let projectId = this.tokens.get(token);
    if (projectId === undefined) {
      await this.refreshTokens();
      projectId = this.tokens.get(token);
      if (projectId === undefined) return undefined;
    }
    const snapshot = await this.forProject(projectId);
    if (!snapshot || snapshot.project.apiToken === token) return snapshot;
    // The project's token was reset (docs/compatibility.md#api-8.4): forget the old one.
    if (this.tokens.get(token) === projectId) this.tokens.delete(token);
    return undefined;
  }

  private refreshing?: Promise<void>;
  private lastRefresh = 0;
  /** Set when a project changed (a new project, a token reset): the next unknown token refreshes at once. */
  private tokensStale = false;

  /** Re-reads token → project for all projects; unknown tokens trigger it at most once a second. */
  private refreshTokens(force = false): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (!force && !this.tokensStale && Date.now() - this.lastRefresh < 1000) return Promise.resolve();
    this.tokensStale = false;
    this.refreshing = (async () => {
      try {
        const rows = await listProjectRevisions(this.ctx.db);
        // Swap in a complete map: lookups never see a half-filled one.
        this.tokens = new Map(rows.map((row) => [row.apiToken, row.id]));
        for (const row of rows) {
          const entry = this.entries.get(row.id);
          if (entry) {
            // biome-ignore lint/plugin: a failed build is reported where it started (invalidate, or the request that awaits it); here it only means "rebuild"
            const snapshot = await Promise.resolve(entry.pending ?? entry.value).catch(() => undefined);
            // A token changed without a revision (a restore, a hand edit) also means "rebuild".
            if (!snapshot || entry.stale || snapshot.revision < row.revision || snapshot.project.apiToken !== row.apiToken) this.invalidate(row.id);
            else if (entry.value === snapshot) entry.verifiedAt = Date.now();
          }
        }
        const live = new Set(rows.map((r) => r.id));
        for (const id of this.entries.keys()) if (!live.has(id)) this.entries.delete(id);
      } finally {
        this.lastRefresh = Date.now();
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Compares every cached snapshot with the database revisions now (after a LISTEN reconnect or an outage). */
  check(): Promise<void> {
    return this.refreshTokens(true);
  }

  /** Calls `listener` after each snapshot build with its duration, and whether it succeeded. */
  onRebuilt(listener: (projectId: number, seconds: number, ok: boolean) => void): void {
    this.rebuildListeners.push(listener);
  }

  /**
   * Builds the snapshot of every project, so that the first SDK requests after a start do not
   * wait for it and readiness can say the instance is ready (src/ops/health.ts). Once it has
   * succeeded it does nothing; a failure (the database is unavailable) is retried at the next call.
   */
  loadAll(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    this.loading ??= (async () => {
      await this.refreshTokens(true);
      await Promise.all([...new Set(this.tokens.values())].map((id) => this.forProject(id)));
      this.loaded = true;
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** Every project this instance holds a snapshot of (or is building one for). */
  states(): SnapshotState[] {
    return [...this.entries].map(([projectId, e]) => ({ projectId, verifiedAt: e.verifiedAt, usage: e.usage }));
  }

  /** Starts the periodic revision check that repairs missed change notifications. */
  start(intervalMs: number): void {
    this.loadAll().catch(() => {
      // `loaded` stays false, which readiness reports; its next check retries.
    });
    this.timer = setInterval(() => {
      this.refreshTokens(true).catch((err) => this.reportFailure(err, 'periodic snapshot check failed: retried at the next interval'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

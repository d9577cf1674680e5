// In-memory project snapshots for the SDK hot path: token → project, compiled flags and cohorts,
// and the pre-serialised definitions bodies. Rebuilt after a committed change (this instance
// directly, others through NOTIFY); a periodic revision check repairs a missed notification.
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { AppContext } from '../platform/context.ts';
import { databaseFailure } from '../platform/db/errors.ts';
import {
  buildDefinitions,
  compileProject,
  type CohortDefinition,
  type CompiledProject,
  type FlagDefinition,
  type GroupTypeDefinition,
  propertyReads,
  propertyReadsByFlag,
  type PropertyReads,
} from '../evaluation/index.ts';
import { findOrganization, findProject, listProjectRevisions, type Organization, type Project } from '../access/organizations/projects-repository.ts';
import { listLiveFlags, type FeatureFlagRow } from '../flags/repository.ts';
import { normalizeFilters } from '../flags/filters.ts';
import { listProjectCohorts } from '../cohorts/repository.ts';
import { listGroupTypes } from '../groups/repository.ts';

/** One answer to a definitions GET, as both paths write it: status, flat header list, body. */
export interface DefinitionsAnswer {
  status: 200 | 304;
  /** Name/value pairs (what node:http writes fastest). */
  headers: readonly string[];
  body?: Buffer;
}

export interface DefinitionsBody {
  json: Buffer;
  /** Weak-ETag value without the W/ and quotes. */
  etag: string;
  /** `W/"<etag>"`, as sent and as SDKs echo it back. */
  weakEtag: string;
  /** Whether an If-None-Match header names this body (weak, strong, unquoted, or in a list). */
  notModified(ifNoneMatch: string | undefined): boolean;
  gzip(): Buffer;
  /** The answers, built once per body: 304, the JSON, and the JSON gzipped (built on first use). */
  notModifiedAnswer: DefinitionsAnswer;
  jsonAnswer: DefinitionsAnswer;
  gzipAnswer(): DefinitionsAnswer;
}

/** `send_cohorts` present (even empty) and not false: the definitions variant with cohorts. */
export function sendCohortsRequested(query: Record<string, unknown>): boolean {
  if (!('send_cohorts' in query)) return false;
  const value = query.send_cohorts;
  const text = Array.isArray(value) ? String(value.at(-1)) : String(value ?? '');
  return !['false', '0', 'no'].includes(text.toLowerCase());
}

function etagListMatches(header: string, etag: string): boolean {
  return header.split(',').some((candidate) => {
    const value = candidate
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1');
    return value === etag || value === '*';
  });
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
  /** The local-evaluation body, built on first use and kept until the snapshot is replaced. */
  definitions(sendCohorts: boolean): DefinitionsBody;
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

function definitionsBody(value: unknown, sendCohorts: boolean): DefinitionsBody {
  const json = Buffer.from(JSON.stringify(value));
  // The two variants get different ETags even when their bodies are equal (PostHog keys its
  // cache by variant), so a 304 never crosses from one to the other.
  const etag = crypto
    .createHash('sha256')
    .update(sendCohorts ? 'cohorts\n' : 'expanded\n')
    .update(json)
    .digest('hex')
    .slice(0, 32);
  let gz: Buffer | undefined;
  let gzipAnswer: DefinitionsAnswer | undefined;
  const weakEtag = `W/"${etag}"`;
  // PostHog answers definitions as `application/json` (docs/compatibility.md).
  const common = ['etag', weakEtag, 'cache-control', 'private, must-revalidate', 'vary', 'Accept-Encoding'];
  const gzip = () => (gz ??= zlib.gzipSync(json, { level: 6 }));
  return {
    json,
    etag,
    weakEtag,
    // SDKs echo the weak form exactly: compare that first, parse the header only otherwise.
    notModified: (header) => header !== undefined && (header === weakEtag || etagListMatches(header, etag)),
    gzip,
    notModifiedAnswer: { status: 304, headers: common },
    jsonAnswer: { status: 200, headers: [...common, 'content-type', 'application/json', 'content-length', String(json.length)], body: json },
    gzipAnswer: () =>
      (gzipAnswer ??= {
        status: 200,
        headers: [...common, 'content-type', 'application/json', 'content-encoding', 'gzip', 'content-length', String(gzip().length)],
        body: gzip(),
      }),
  };
}

async function buildSnapshot(ctx: AppContext, projectId: number, usage: SnapshotUsage): Promise<ProjectSnapshot | undefined> {
  const project = await findProject(ctx.db, projectId);
  if (!project) return undefined;
  const [organization, rows, cohortRows, groupTypeRows] = await Promise.all([
    findOrganization(ctx.db, project.organizationId),
    listLiveFlags(ctx.db, projectId),
    listProjectCohorts(ctx.db, projectId),
    listGroupTypes(ctx.db, projectId),
  ]);
  if (!organization) return undefined;
  const flags = rows.map(toFlagDefinition);
  const cohorts: CohortDefinition[] = cohortRows.map((c) => ({ id: c.id, name: c.name, filters: c.filters, isStatic: c.isStatic, deleted: c.deleted }));
  const groupTypes: GroupTypeDefinition[] = groupTypeRows.map((g) => ({ groupType: g.groupType, groupTypeIndex: g.groupTypeIndex }));
  const compiled = compileProject({ flags, cohorts, groupTypes, timezone: project.timezone });
  const bodies = new Map<boolean, DefinitionsBody>();
  let readsByFlag: Map<string, PropertyReads> | undefined;
  return {
    project,
    organization,
    revision: project.revision,
    flags: rows,
    compiled,
    groupTypes,
    groupTypeIndexByName: new Map(groupTypes.map((g) => [g.groupType, g.groupTypeIndex])),
    staticCohortIds: reachableStaticCohorts(compiled),
    reads: propertyReads(flags, cohorts),
    flagReads: () => (readsByFlag ??= propertyReadsByFlag(flags, cohorts)),
    continuityFlagKeys: flags.filter((f) => f.active && f.ensureExperienceContinuity).map((f) => f.key),
    usage,
    definitions(sendCohorts) {
      let body = bodies.get(sendCohorts);
      if (!body) {
        body = definitionsBody(buildDefinitions({ flags, cohorts, groupTypes, sendCohorts, projectId }), sendCohorts);
        bodies.set(sendCohorts, body);
      }
      return body;
    },
  };
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
}

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
    if (!entry) this.entries.set(projectId, (entry = { built: false, stale: false, started: 0, applied: 0, usage: { flagsEvaluated: 0 } }));
    const current = entry;
    const build = ++current.started;
    const started = performance.now();
    const rebuilt = (ok: boolean) => {
      for (const listener of this.rebuildListeners) listener(projectId, (performance.now() - started) / 1000, ok);
    };
    const promise = buildSnapshot(this.ctx, projectId, current.usage).then(
      (snapshot) => {
        rebuilt(true);
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
    current.pending = promise;
    return promise;
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

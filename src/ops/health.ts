// Liveness and readiness, as PostHog's probes answer them (README "Health"): /_livez says the
// process answers; /_readyz checks the database, its migrations and this instance's snapshots, and
// answers 503 naming what is missing; /_health is PostHog's older probe (migrations applied).
// Every check has a deadline, so the probes answer while the database is down or hung.
import { databaseFailure, pgErrorCode } from '../platform/db/errors.ts';
import { MIGRATIONS_DIR, type Database } from '../platform/db/index.ts';
import { migrationStatus, type MigrationStatus } from '../platform/db/migration-status.ts';
import type { SnapshotStore } from '../sdk/snapshots.ts';

/** PostHog's check names (`postgres`, `postgres_migrations_uptodate`) and flaghost's own. */
export const READINESS_CHECKS = ['postgres', 'postgres_migrations_uptodate', 'snapshots_loaded'] as const;
export type ReadinessCheck = (typeof READINESS_CHECKS)[number];

export interface ReadinessAnswer {
  status: 200 | 503;
  /** `{"http": true, <check>: boolean…}`, and `reasons` (check → why) when a check failed. */
  body: Record<string, unknown>;
}

export interface HealthDeps {
  database: Database;
  snapshots: SnapshotStore;
  /** How long the database check may take before it counts as failed. */
  timeoutMs: number;
}

class DeadlineExceeded extends Error {}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

interface DatabaseCheck {
  /** Why each failed; absent when it passed. */
  postgres?: string;
  migrations?: string;
}

export class Health {
  /** The check query in flight: probes arriving meanwhile wait for it rather than send another. */
  private query?: Promise<MigrationStatus>;

  constructor(private readonly deps: HealthDeps) {}

  /** /_livez: the process answers HTTP. Nothing else is checked, so a busy database never restarts flaghost. */
  live(): Record<string, unknown> {
    return { http: true };
  }

  /** /_readyz. A failed check in `exclude` is still reported but does not make the answer 503 (PostHog's `?exclude=`). */
  async readiness(exclude: ReadonlySet<string>): Promise<ReadinessAnswer> {
    const reasons: Partial<Record<ReadinessCheck, string>> = {};
    const db = await this.checkDatabase();
    if (db.postgres) reasons.postgres = db.postgres;
    if (db.migrations) reasons.postgres_migrations_uptodate = db.migrations;
    const { snapshots } = this.deps;
    if (!snapshots.loaded) {
      reasons.snapshots_loaded = 'the snapshots of the projects are not all built yet';
      snapshots.loadAll().catch(() => {
        // Readiness reports it until a later check's attempt succeeds.
      });
    }
    const body: Record<string, unknown> = { http: true };
    for (const check of READINESS_CHECKS) body[check] = reasons[check] === undefined;
    const failed = READINESS_CHECKS.filter((check) => reasons[check] !== undefined);
    if (failed.length) body.reasons = reasons;
    return { status: failed.some((check) => !exclude.has(check)) ? 503 : 200, body };
  }

  /** /_health: PostHog's "ok", or why not, as text. */
  async health(): Promise<{ status: 200 | 503; text: string }> {
    const db = await this.checkDatabase();
    if (db.postgres) return { status: 503, text: 'Database unavailable' };
    if (db.migrations) return { status: 503, text: 'Migrations are not up to date' };
    return { status: 200, text: 'ok' };
  }

  /** One query answers both: the database responds, and has every migration this version ships. */
  private async checkDatabase(): Promise<DatabaseCheck> {
    const { database, timeoutMs } = this.deps;
    if (!database.health.available) {
      return {
        postgres: 'the database stopped answering; this instance probes it until it answers again',
        migrations: 'not checked: the database is unavailable',
      };
    }
    this.query ??= migrationStatus(database.db, MIGRATIONS_DIR).finally(() => {
      this.query = undefined;
    });
    try {
      const { pending } = await withDeadline(this.query, timeoutMs);
      return pending.length ? { migrations: `not applied: ${pending.join(', ')}` } : {};
    } catch (error) {
      return { postgres: describeFailure(error, timeoutMs), migrations: 'not checked: the database did not answer' };
    }
  }
}

/** Why the check query failed, without the driver's message (it can name hosts and users). */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DeadlineExceeded) return `the database did not answer within ${timeoutMs} ms`;
  const failure = databaseFailure(error);
  if (failure?.kind === 'unavailable') return 'the database cannot be reached';
  if (failure?.kind === 'timeout') return `the database timed out (${failure.what})`;
  const code = pgErrorCode(error);
  return code ? `the database refused the check (SQLSTATE ${code})` : 'the check failed';
}

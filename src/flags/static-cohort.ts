// POST …/feature_flags/:id/create_static_cohort_for_flag (docs/compatibility.md#api-7.7): a
// static cohort of every known person the flag matches right now, evaluated by the engine on each
// person's stored properties, static cohorts and continuity override, a page of persons at a time
// (yielding between pages so other requests keep being served), then written in one transaction.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { transact, type AppContext } from '../platform/context.ts';
import type { RequestAuth } from '../access/auth.ts';
import type { SnapshotStore } from '../sdk/snapshots.ts';
import { recordCohortCreated } from '../cohorts/service.ts';
import { evaluateFlags } from '../evaluation/index.ts';
import { findFlag } from './repository.ts';
import { addExistingPersonsToCohort, pagePersonsForEvaluation } from '../persons/repository.ts';
import { countCohortMembers, insertCohort, updateCohort } from '../cohorts/repository.ts';
import { findUsersByIds } from '../access/organizations/users-repository.ts';
import { toCohort, type CohortOut } from '../cohorts/schemas.ts';
import { NotFoundError } from '../platform/errors.ts';
import { requireProject } from '../access/require-auth.ts';

/** Persons read and evaluated per step. */
const PAGE_SIZE = 1000;

/** `YYYY-MM-DD HH:MM:SS` in UTC, as PostHog's strftime names the cohort. */
const stamp = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

/** Ids of the persons the flag matches now (none for inactive flags and group flags, as in PostHog). */
async function matchingPersonIds(ctx: AppContext, snapshots: SnapshotStore, projectId: number, flagKey: string): Promise<number[]> {
  const snapshot = await snapshots.forProject(projectId);
  const compiled = snapshot?.compiled;
  const index = compiled?.flagIndexByKey.get(flagKey);
  if (!compiled || index === undefined) return [];
  const flag = compiled.flags[index];
  if (!flag.active || flag.aggregation !== null) return [];

  const matched: number[] = [];
  const now = ctx.now();
  for (let after = 0; ; ) {
    const page = await pagePersonsForEvaluation(ctx.db, projectId, after, PAGE_SIZE, flagKey);
    for (const person of page) {
      // Persons without a distinct id cannot be evaluated (PostHog skips them too).
      if (!person.distinctId) continue;
      const [result] = evaluateFlags(compiled, {
        distinctId: person.distinctId,
        personProperties: { ...person.properties, distinct_id: person.distinctId },
        staticCohortIds: new Set(person.staticCohortIds),
        hashKeyOverrides: person.hashKeyOverride !== null ? { [flagKey]: person.hashKeyOverride } : {},
        flagKeys: [flagKey],
        runtime: 'all',
        now,
      }).filter((r) => r.key === flagKey);
      if (result?.enabled) matched.push(person.id);
    }
    if (page.length < PAGE_SIZE) return matched;
    after = page[page.length - 1].id;
    await nextTurn();
  }
}

export async function createStaticCohortForFlag(ctx: AppContext, snapshots: SnapshotStore, auth: RequestAuth, flagId: number): Promise<CohortOut> {
  const project = requireProject(auth);
  const flag = await findFlag(ctx.db, project.id, flagId);
  if (!flag) throw new NotFoundError();
  const now = ctx.now();
  const actorId = auth.user?.id ?? null;
  const personIds = flag.deleted ? [] : await matchingPersonIds(ctx, snapshots, project.id, flag.key);
  const row = await transact(ctx, async (tx, changes) => {
    let cohort = await insertCohort(tx, {
      projectId: project.id,
      name: `Users with feature flag ${flag.key} enabled at ${stamp(now)}`,
      isStatic: true,
      isCalculating: false,
      createdById: actorId,
      createdAt: now,
      updatedAt: now,
    });
    // Persons deleted meanwhile are gone from the table: keep only those still there.
    await addExistingPersonsToCohort(tx, cohort.id, personIds);
    cohort = await updateCohort(tx, cohort.id, { count: await countCohortMembers(tx, cohort.id) });
    await recordCohortCreated(tx, changes, project, cohort, actorId, now);
    return cohort;
  });
  const users = await findUsersByIds(ctx.db, actorId !== null ? [actorId] : []);
  return toCohort(row, users);
}

// Incremental snapshot rebuilds (docs/architecture.md#snapshots-and-change-notifications): after
// each of a random sequence of changes, the snapshot this instance rebuilt from the changed rows
// must equal one built from scratch: compiled flags, evaluation order, evaluation results for many
// requests, property reads, static cohorts, continuity keys, and both definitions bodies byte for
// byte (and the reference buildDefinitions()). A rebuild after one change reads one flag row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createProject } from '../../src/access/organizations/admin.ts';
import { transact } from '../../src/platform/context.ts';
import { cohorts as cohortsTable, featureFlags, groupTypeMappings, projects } from '../../src/platform/db/schema.ts';
import { hardDeleteSoftDeletedWithKey, insertFlag, updateFlag } from '../../src/flags/repository.ts';
import { buildProject } from '../../src/sdk/snapshot-build.ts';
import { toFlagDefinition, type ProjectSnapshot } from '../../src/sdk/snapshots.ts';
import { renderDefinitions } from '../../src/sdk/snapshot-pieces.ts';
import { TimeSlicer } from '../../src/sdk/time-slice.ts';
import { buildDefinitions, evaluateFlags, type EvaluationRequest } from '../../src/evaluation/index.ts';

let t: TestApp;
let projectId: number;

beforeAll(async () => {
  t = await createTestApp();
  projectId = (await createProject(t.ctx, { name: 'incremental' })).id;
});
afterAll(async () => t?.close());

/** A small deterministic PRNG, so a failure replays. */
function random(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] };
}

const PLANS = ['free', 'pro', 'enterprise'];
const COUNTRIES = ['US', 'FR', 'DE'];

function randomFilters(rnd: ReturnType<typeof random>, flagIds: number[], cohortIds: number[]): Record<string, unknown> {
  const groups: Record<string, unknown>[] = [];
  for (let g = 0, n = 1 + rnd.int(2); g < n; g++) {
    const properties: Record<string, unknown>[] = [];
    const kind = rnd.int(6);
    if (kind === 0) properties.push({ key: 'plan', value: rnd.pick(PLANS), operator: 'exact', type: 'person' });
    if (kind === 1) properties.push({ key: 'email', value: '@example.com', operator: 'icontains', type: 'person' });
    if (kind === 2 && flagIds.length)
      properties.push({ key: String(rnd.pick(flagIds)), value: rnd.next() < 0.7 ? true : 'test', operator: 'flag_evaluates_to', type: 'flag' });
    if (kind === 3 && cohortIds.length) properties.push({ key: 'id', value: rnd.pick(cohortIds), type: 'cohort' });
    if (kind === 4) properties.push({ key: 'country', value: rnd.pick(COUNTRIES), operator: 'exact', type: 'group', group_type_index: 0 });
    if (kind === 5) properties.push({ key: 'signup', value: '2026-06-01 12:00', operator: 'is_date_before', type: 'person' });
    groups.push({ properties, rollout_percentage: rnd.pick([100, 50, 10]) });
  }
  const filters: Record<string, unknown> = { groups };
  if (rnd.next() < 0.3) {
    filters.multivariate = {
      variants: [
        { key: 'control', rollout_percentage: 50 },
        { key: 'test', rollout_percentage: 50 },
      ],
    };
    filters.payloads = { control: '"c"', test: '{"t":1}' };
  }
  return filters;
}

function randomCohortFilters(rnd: ReturnType<typeof random>, cohortIds: number[]): Record<string, unknown> {
  const values: Record<string, unknown>[] = [{ key: 'plan', value: rnd.pick(PLANS), operator: 'exact', type: 'person' }];
  if (rnd.next() < 0.3) values.push({ key: 'country', value: rnd.pick(COUNTRIES), operator: 'exact', type: 'person', negation: rnd.next() < 0.3 });
  if (cohortIds.length && rnd.next() < 0.2) values.push({ key: 'id', value: rnd.pick(cohortIds), type: 'cohort' });
  return { properties: { type: 'OR', values: [{ type: 'AND', values }] } };
}

function requests(rnd: ReturnType<typeof random>): EvaluationRequest[] {
  return Array.from({ length: 40 }, (_, i) => ({
    distinctId: `user-${i}-${rnd.int(1000)}`,
    personProperties: {
      plan: rnd.pick(PLANS),
      email: rnd.next() < 0.5 ? `u${i}@example.com` : `u${i}@other.org`,
      signup: '2026-05-01',
      country: rnd.pick(COUNTRIES),
    },
    groups: (rnd.next() < 0.5 ? { company: `c${i}` } : {}) as Record<string, string>,
    groupProperties: { company: { country: rnd.pick(COUNTRIES) } },
    staticCohortIds: new Set<number>(),
    now: new Date('2026-07-01T00:00:00Z'),
  }));
}

function shape(snapshot: Pick<ProjectSnapshot, 'compiled' | 'staticCohortIds' | 'reads' | 'continuityFlagKeys' | 'flags'>) {
  const c = snapshot.compiled;
  return {
    flags: c.flags.map((f) => ({ id: f.id, key: f.key, index: f.index, active: f.active, dependencies: f.dependencies, broken: f.brokenDependencies })),
    order: c.evaluationOrder,
    byKey: [...c.flagIndexByKey],
    cohorts: [...c.cohorts.keys()],
    groupTypeNames: c.groupTypeNames,
    staticCohortIds: [...snapshot.staticCohortIds].sort(),
    reads: {
      person: [...snapshot.reads.person].sort(),
      groups: [...snapshot.reads.groups].map(([i, k]) => [i, [...k].sort()]),
      static: snapshot.reads.staticCohorts,
    },
    continuity: snapshot.continuityFlagKeys,
    rows: snapshot.flags.map((r) => [r.id, r.changeStamp]),
  };
}

async function change(fn: (tx: Parameters<Parameters<typeof transact>[1]>[0]) => Promise<unknown>): Promise<void> {
  await transact(t.ctx, async (tx, changes) => {
    await fn(tx);
    changes.project(projectId);
  });
}

describe('incremental snapshot rebuilds', () => {
  it('equal a build from scratch after every change of a random sequence', async () => {
    const rnd = random(20261203);
    const db = t.ctx.db;
    await db.insert(groupTypeMappings).values({ projectId, groupType: 'company', groupTypeIndex: 0 });
    const cohortIds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [row] = await db
        .insert(cohortsTable)
        .values({ projectId, name: `c${i}`, filters: randomCohortFilters(rnd, cohortIds), isStatic: i === 2 })
        .returning();
      cohortIds.push(row.id);
    }
    const flagIds: number[] = [];
    let n = 0;
    const create = async () => {
      const key = `f-${n++}`;
      await change(async (tx) => {
        const row = await insertFlag(tx, {
          projectId,
          key,
          name: key,
          filters: randomFilters(rnd, flagIds, cohortIds),
          ensureExperienceContinuity: rnd.next() < 0.1,
        });
        flagIds.push(row.id);
      });
    };
    for (let i = 0; i < 25; i++) await create();
    // Definitions asked for once: every later rebuild prepares both variants.
    let snapshot = (await t.app.services.snapshots.forProject(projectId))!;
    await snapshot.definitions(true);
    await snapshot.definitions(false);

    const modes = new Set<string>();
    for (let step = 0; step < 60; step++) {
      const op = rnd.int(10);
      const id = rnd.pick(flagIds);
      if (op <= 1) await create();
      else if (op <= 4) await change((tx) => updateFlag(tx, id, { filters: randomFilters(rnd, flagIds, cohortIds), active: rnd.next() < 0.85 }));
      else if (op === 5) await change((tx) => updateFlag(tx, id, { deleted: true }));
      else if (op === 6) await change((tx) => updateFlag(tx, id, { deleted: false, key: `f-${n++}` }));
      else if (op === 7) {
        const cohort = rnd.pick(cohortIds);
        await change((tx) =>
          tx
            .update(cohortsTable)
            .set({ filters: randomCohortFilters(rnd, cohortIds) })
            .where(eq(cohortsTable.id, cohort)),
        );
      } else if (op === 8) {
        // A soft-deleted flag removed for good, or (no path does this, but a hand edit might) a live one.
        const [row] = await db.select().from(featureFlags).where(eq(featureFlags.id, id));
        if (row?.deleted) await change((tx) => hardDeleteSoftDeletedWithKey(tx, projectId, row.key));
        else await change((tx) => tx.delete(featureFlags).where(eq(featureFlags.id, id)));
      } else {
        await change((tx) =>
          tx
            .update(projects)
            .set({ timezone: rnd.pick(['UTC', 'Europe/Paris', 'America/New_York']) })
            .where(eq(projects.id, projectId)),
        );
      }

      snapshot = (await t.app.services.snapshots.forProject(projectId))!;
      modes.add(t.app.services.snapshots.lastBuild(projectId)!.mode);
      const scratch = (await buildProject(t.ctx, projectId, undefined)) as Exclude<Awaited<ReturnType<typeof buildProject>>, 'unchanged' | undefined>;
      const fresh = { ...scratch.built, continuityFlagKeys: scratch.built.continuityFlagKeys };
      expect(shape(snapshot), `step ${step}`).toEqual(shape(fresh));
      for (const request of requests(rnd)) {
        expect(evaluateFlags(snapshot.compiled, request), `step ${step}`).toEqual(evaluateFlags(fresh.compiled, request));
      }
      expect([...snapshot.flagReads()].map(([k, r]) => [k, [...r.person].sort()])).toEqual([...fresh.readsByFlag()].map(([k, r]) => [k, [...r.person].sort()]));

      const defs = snapshot.flags.map(toFlagDefinition);
      const cohortRows = await db.select().from(cohortsTable).where(eq(cohortsTable.projectId, projectId));
      const cohorts = cohortRows.map((c) => ({ id: c.id, name: c.name, filters: c.filters, isStatic: c.isStatic, deleted: c.deleted }));
      for (const sendCohorts of [true, false]) {
        const body = await snapshot.definitions(sendCohorts);
        const reference = JSON.stringify(buildDefinitions({ flags: defs, cohorts, groupTypes: snapshot.groupTypes, sendCohorts, projectId }));
        expect(body.json.toString('utf8'), `step ${step}`).toBe(reference);
        const scratchBody = await renderDefinitions(fresh.definitions, sendCohorts, new TimeSlicer());
        expect(body.etag).toBe(scratchBody.etag);
      }
    }
    // The sequence went through both paths: incremental rebuilds, and full ones after a hard delete.
    expect(modes).toEqual(new Set(['incremental', 'full']));
  });

  it('reads only the changed flag row after a change, and the soft-deleted row after a deletion', async () => {
    const other = (await createProject(t.ctx, { name: 'rows-read' })).id;
    const ids: number[] = [];
    await transact(t.ctx, async (tx, changes) => {
      for (let i = 0; i < 30; i++)
        ids.push((await insertFlag(tx, { projectId: other, key: `r-${i}`, filters: { groups: [{ properties: [], rollout_percentage: 50 }] } })).id);
      changes.project(other);
    });
    await t.app.services.snapshots.forProject(other);
    expect(t.app.services.snapshots.lastBuild(other)).toEqual({ mode: 'full', flagRowsRead: 30 });

    await transact(t.ctx, async (tx, changes) => {
      await updateFlag(tx, ids[7], { name: 'renamed' });
      changes.project(other);
    });
    const after = (await t.app.services.snapshots.forProject(other))!;
    expect(t.app.services.snapshots.lastBuild(other)).toEqual({ mode: 'incremental', flagRowsRead: 1 });
    expect(after.flags.find((f) => f.id === ids[7])?.name).toBe('renamed');

    // The same change notified again (on PostgreSQL, this instance hears its own NOTIFY): nothing to read, the snapshot stays.
    t.ctx.changes.projectChanged(other);
    expect(await t.app.services.snapshots.forProject(other)).toBe(after);

    await transact(t.ctx, async (tx, changes) => {
      await updateFlag(tx, ids[3], { deleted: true });
      changes.project(other);
    });
    const deleted = (await t.app.services.snapshots.forProject(other))!;
    expect(t.app.services.snapshots.lastBuild(other)).toEqual({ mode: 'incremental', flagRowsRead: 1 });
    expect(deleted.compiled.flagIndexByKey.has('r-3')).toBe(false);
    expect(deleted.flags).toHaveLength(29);
  });
});

describe('change stamps', () => {
  it('every column a snapshot holds stamps the row with the next revision; capture-written columns do not', async () => {
    const other = (await createProject(t.ctx, { name: 'stamps' })).id;
    const [flag] = await t.ctx.db.insert(featureFlags).values({ projectId: other, key: 'stamped' }).returning();
    const revision = async () => (await t.ctx.db.select({ r: projects.revision }).from(projects).where(eq(projects.id, other)))[0].r;
    expect(flag.changeStamp).toBe(await revision());
    const columns = await t.sql<{ column_name: string }>(
      `select column_name from information_schema.columns where table_name = 'feature_flags' and table_schema = current_schema()`,
    );
    const untracked = new Set(['last_called_at', 'has_enriched_analytics', 'change_stamp']);
    expect(columns.length).toBeGreaterThan(20);
    for (const { column_name: column } of columns) {
      const before = (await t.ctx.db.select().from(featureFlags).where(eq(featureFlags.id, flag.id)))[0].changeStamp;
      await t.ctx.db.execute(sql.raw(`update feature_flags set "${column}" = "${column}" where id = ${flag.id}`));
      const after = (await t.ctx.db.select().from(featureFlags).where(eq(featureFlags.id, flag.id)))[0].changeStamp;
      if (untracked.has(column)) expect(after, column).toBe(before);
      else {
        expect(after, column).toBeGreaterThan(before);
        expect(after, column).toBe(await revision());
      }
    }
    // A deleted row leaves no stamp: the project counts it (and its revision moves).
    const removals = async () => (await t.ctx.db.select({ n: projects.flagRemovals }).from(projects).where(eq(projects.id, other)))[0].n;
    const [before, revisionBefore] = [await removals(), await revision()];
    await t.ctx.db.delete(featureFlags).where(eq(featureFlags.id, flag.id));
    expect(await removals()).toBe(before + 1);
    expect(await revision()).toBeGreaterThan(revisionBefore);
  });
});

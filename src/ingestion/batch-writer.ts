// One project's batch of captured events in one transaction: duplicates dropped by uuid, persons
// created, linked, merged and updated, then flag usage, last_called_at and group properties
// (the ingestor's group commit, src/ingestion/ingestor.ts, calls it).
import { transact, type AppContext } from '../platform/context.ts';
import type { IngestEvent } from './events.ts';
import { PersonBatch, resolvePerson, type PersonState } from './persons.ts';
import { ensureGroupTypes } from '../groups/service.ts';
import type { SnapshotStore } from '../sdk/snapshots.ts';
import type { Db } from '../platform/db/index.ts';
import { insertPersons, linkDistinctIds, loadPersonsByDistinctIds, mergePersonInto, updatePersonRows } from '../persons/repository.ts';
import { listGroupTypes } from '../groups/repository.ts';
import {
  addFlagUsage,
  addFlagUsagePersons,
  advanceLastCalledAt,
  claimEventUuids,
  lockProjectIngestion,
  markFlagsEnriched,
  upsertGroupProperties,
  type UsageCount,
} from './usage-repository.ts';

/** The batch met a concurrent write it cannot merge with (a distinct id linked meanwhile): run it again. */
export class RetryBatch extends Error {}

export interface BatchOutcome {
  ingested: number;
  duplicates: number;
  warnings: string[];
}

const dayOf = (t: Date) => t.toISOString().slice(0, 10);

/** Inserts new persons, links ids, performs merges and writes changed persons. */
async function writePersons(tx: Db, projectId: number, batch: PersonBatch): Promise<void> {
  const plan = batch.plan();
  const ids = await insertPersons(
    tx,
    projectId,
    plan.created.map((p) => ({ uuid: p.uuid, properties: p.properties, createdAt: p.createdAt, isIdentified: p.isIdentified })),
  );
  for (const p of plan.created) p.id = ids.get(p.uuid);
  const links = plan.distinctIds.map(({ distinctId, person }) => ({ distinctId, personId: person.id! }));
  // Someone else (another instance, /flags, a cohort upload) linked one of these ids meanwhile.
  if ((await linkDistinctIds(tx, projectId, links)) < links.length) throw new RetryBatch('distinct id linked concurrently');
  for (const { from, into } of plan.merges) {
    const target: PersonState = into.id !== undefined ? into : resolvePerson(into);
    await mergePersonInto(tx, projectId, from.id!, target.id!);
  }
  await updatePersonRows(
    tx,
    plan.updated.map((p) => ({ id: p.id!, properties: p.properties, createdAt: p.createdAt, isIdentified: p.isIdentified })),
  );
}

/** One batch of one project in one transaction. */
export async function writeBatch(ctx: AppContext, snapshots: SnapshotStore, projectId: number, events: IngestEvent[]): Promise<BatchOutcome> {
  const now = ctx.now();
  const groupTypeNames = [...new Set(events.flatMap((e) => (e.group ? [e.group.type] : [])))];
  if (groupTypeNames.length) {
    const snapshot = await snapshots.forProject(projectId);
    const unseen = groupTypeNames.filter((name) => !snapshot?.groupTypeIndexByName.has(name));
    // Its own transactions: on PGlite the outer handle must not be used inside ours.
    if (unseen.length) await ensureGroupTypes(ctx, projectId, unseen);
  }

  return transact(ctx, async (tx) => {
    // Ingestion of one project is serialized across instances: persons are read, changed in
    // memory and written back, and usage counters are upserted.
    await lockProjectIngestion(tx, projectId);

    let fresh = events;
    const window = ctx.config.eventDedupWindowMs;
    if (window > 0) {
      const seen = new Set<string>();
      fresh = events.filter((e) => {
        if (!e.uuid) return true;
        if (seen.has(e.uuid)) return false;
        seen.add(e.uuid);
        return true;
      });
      if (seen.size) {
        const claimed = await claimEventUuids(tx, projectId, [...seen], now, new Date(now.getTime() - window));
        fresh = fresh.filter((e) => !e.uuid || claimed.has(e.uuid));
      }
    }

    const persons = new PersonBatch(await loadPersonsByDistinctIds(tx, projectId, PersonBatch.distinctIdsOf(fresh)));
    const personOf = fresh.map((e) => persons.apply(e));
    await writePersons(tx, projectId, persons);

    const usage = new Map<string, UsageCount>();
    const usagePersons = new Map<string, { flagKey: string; day: string; personKey: string }>();
    const lastCalled = new Map<string, Date>();
    const enrichedKeys = new Set<string>();
    const groupSets = new Map<string, { type: string; key: string; set: Record<string, unknown>; at: Date }>();
    const count = (flagKey: string, day: string, value: string) => {
      const k = `${flagKey}\0${day}\0${value}`;
      const row = usage.get(k);
      if (row) row.count++;
      else usage.set(k, { flagKey, day, value, count: 1 });
    };
    fresh.forEach((e, i) => {
      const day = dayOf(e.timestamp);
      if (e.flagCalled) {
        const { key, value } = e.flagCalled;
        count(key, day, value);
        const person = personOf[i];
        const personKey = person ? resolvePerson(person).uuid : e.distinctId;
        usagePersons.set(`${key}\0${day}\0${personKey}`, { flagKey: key, day, personKey });
        const at = e.timestamp > now ? now : e.timestamp;
        const prev = lastCalled.get(key);
        if (!prev || prev < at) lastCalled.set(key, at);
      } else if (e.enriched) {
        count(e.enriched.key, day, e.enriched.kind);
        enrichedKeys.add(e.enriched.key);
      } else if (e.group) {
        const k = `${e.group.type}\0${e.group.key}`;
        const prev = groupSets.get(k);
        groupSets.set(k, { ...e.group, set: { ...prev?.set, ...e.group.set }, at: prev?.at ?? e.timestamp });
      }
    });
    await addFlagUsage(tx, projectId, [...usage.values()]);
    await addFlagUsagePersons(tx, projectId, [...usagePersons.values()]);
    await advanceLastCalledAt(
      tx,
      projectId,
      [...lastCalled].map(([key, at]) => ({ key, at })),
    );
    await markFlagsEnriched(tx, projectId, [...enrichedKeys]);
    if (groupSets.size) {
      const indexOf = new Map((await listGroupTypes(tx, projectId)).map((g) => [g.groupType, g.groupTypeIndex]));
      const rows = [...groupSets.values()].flatMap((g) => {
        const index = indexOf.get(g.type);
        return index === undefined ? [] : [{ index, key: g.key, set: g.set, at: g.at }];
      });
      await upsertGroupProperties(tx, projectId, rows);
    }
    return { ingested: fresh.length, duplicates: events.length - fresh.length, warnings: persons.warnings };
  });
}

// Group types: the list, flaghost's explicit create (PostHog only creates them during ingestion),
// name metadata, delete, and ensureGroupTypes, which /flags calls for group types it has not seen.
import type { z } from 'zod';
import { transact, type AppContext } from '../platform/context.ts';
import { MAX_GROUP_TYPES, deleteGroupType, insertGroupTypeIfFree, listGroupTypes, updateGroupTypeNames, type GroupTypeRow } from './repository.ts';
import { GroupTypeCreateBody, GroupTypeMetadataRow, toGroupType, type GroupTypeOut } from './schemas.ts';
import { parseOrThrow } from '../platform/http/drf.ts';
import { NotFoundError, ValidationError } from '../platform/errors.ts';

const MAX_NAME_LENGTH = 400;

function lowestFreeIndex(rows: GroupTypeRow[]): number | undefined {
  const used = new Set(rows.map((r) => r.groupTypeIndex));
  for (let i = 0; i < MAX_GROUP_TYPES; i++) if (!used.has(i)) return i;
  return undefined;
}

/** The first reason `wanted` cannot be added next to `rows`, in DRF's unique-validator words. */
function conflictOf(rows: GroupTypeRow[], groupType: string, index: number | null | undefined): ValidationError | undefined {
  if (rows.some((r) => r.groupType === groupType)) {
    return new ValidationError('group type mapping with this group type already exists.', 'unique', 'group_type');
  }
  if (index !== undefined && index !== null && rows.some((r) => r.groupTypeIndex === index)) {
    return new ValidationError('group type mapping with this group type index already exists.', 'unique', 'group_type_index');
  }
  if (rows.length >= MAX_GROUP_TYPES) {
    return new ValidationError(`A project can have at most ${MAX_GROUP_TYPES} group types (indexes 0 to ${MAX_GROUP_TYPES - 1}).`, 'max_group_types', null);
  }
  return undefined;
}

export async function listGroupTypesOf(ctx: AppContext, projectId: number): Promise<GroupTypeOut[]> {
  return (await listGroupTypes(ctx.db, projectId)).map(toGroupType);
}

export async function createGroupType(ctx: AppContext, projectId: number, body: unknown): Promise<GroupTypeOut> {
  const input = parseOrThrow(GroupTypeCreateBody, body ?? {});
  const row = await transact(ctx, async (tx, changes) => {
    // A concurrent writer may take the name or the index between our read and insert; the insert
    // then waits for it and does nothing, and a fresh read (its row is committed by then) either
    // names the conflict or, for an automatic index, offers the next free one.
    for (let attempt = 0; attempt <= MAX_GROUP_TYPES; attempt++) {
      const rows = await listGroupTypes(tx, projectId);
      const conflict = conflictOf(rows, input.group_type, input.group_type_index);
      if (conflict) throw conflict;
      const created = await insertGroupTypeIfFree(tx, {
        projectId,
        groupType: input.group_type,
        groupTypeIndex: input.group_type_index ?? lowestFreeIndex(rows)!,
        nameSingular: input.name_singular ?? null,
        namePlural: input.name_plural ?? null,
      });
      if (created) {
        changes.project(projectId);
        return created;
      }
    }
    throw (
      conflictOf(await listGroupTypes(tx, projectId), input.group_type, input.group_type_index) ??
      new ValidationError('group type mapping with this group type index already exists.', 'unique', 'group_type_index')
    );
  });
  return toGroupType(row);
}

/** PostHog's PATCH update_metadata: a list of {group_type_index, name_singular?, name_plural?}. */
export async function updateGroupTypesMetadata(ctx: AppContext, projectId: number, body: unknown): Promise<GroupTypeOut[]> {
  if (!Array.isArray(body)) {
    throw new ValidationError(
      `Expected a list of items but got type "${body === null || body === undefined ? 'NoneType' : typeof body === 'object' ? 'dict' : 'str'}".`,
      'not_a_list',
      null,
    );
  }
  const updates: Array<z.infer<typeof GroupTypeMetadataRow>> = body.map((row) => {
    if (!row || typeof row !== 'object' || Array.isArray(row)) throw new ValidationError('Invalid data. Expected a dictionary.', 'invalid_input', null);
    return parseOrThrow(GroupTypeMetadataRow, row);
  });
  await transact(ctx, async (tx) => {
    for (const u of updates) {
      const names: { nameSingular?: string | null; namePlural?: string | null } = {};
      if (u.name_singular !== undefined) names.nameSingular = u.name_singular;
      if (u.name_plural !== undefined) names.namePlural = u.name_plural;
      const row = Object.keys(names).length
        ? await updateGroupTypeNames(tx, projectId, u.group_type_index, names)
        : (await listGroupTypes(tx, projectId)).find((r) => r.groupTypeIndex === u.group_type_index);
      if (!row) throw new NotFoundError('Group type not found');
    }
  });
  return listGroupTypesOf(ctx, projectId);
}

export async function deleteGroupTypeByIndex(ctx: AppContext, projectId: number, groupTypeIndex: number): Promise<void> {
  await transact(ctx, async (tx, changes) => {
    if (!(await deleteGroupType(tx, projectId, groupTypeIndex))) throw new NotFoundError('Group type not found');
    changes.project(projectId);
  });
}

/**
 * Registers group type names the project does not know yet, each at the lowest free index 0–4;
 * names beyond the fifth type are ignored. Each insert is its own transaction and relies on the
 * two unique indexes, so concurrent callers (in this or other instances) never give one name two
 * indexes or one index two names: a caller that loses a race re-reads and tries again.
 * `changes.project` fires only for transactions that inserted a row.
 */
export async function ensureGroupTypes(ctx: AppContext, projectId: number, names: string[]): Promise<void> {
  const wanted = [...new Set(names.filter((n) => typeof n === 'string' && n.length > 0 && n.length <= MAX_NAME_LENGTH))];
  if (!wanted.length) return;
  // Every round inserts one of our names or loses to another writer's insert; both fill one of
  // the five slots, so the loop ends well within this bound.
  for (let round = 0; round <= 2 * MAX_GROUP_TYPES + 1; round++) {
    const rows = await listGroupTypes(ctx.db, projectId);
    const known = new Set(rows.map((r) => r.groupType));
    const name = wanted.find((n) => !known.has(n));
    const index = lowestFreeIndex(rows);
    if (name === undefined || index === undefined) return;
    await transact(ctx, async (tx, changes) => {
      if (await insertGroupTypeIfFree(tx, { projectId, groupType: name, groupTypeIndex: index })) changes.project(projectId);
    });
  }
}

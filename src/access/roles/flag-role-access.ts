// Sharing a flag with roles (role_access, docs/compatibility.md#api-8.1): list, retrieve, add, remove.
// A role of the flag's organization only; writes follow PostHog's FeatureFlagRoleAccessPermissions.
import type { Db } from '../../platform/db/index.ts';
import { transact, type AppContext } from '../../platform/context.ts';
import type { RequestAuth } from '../auth.ts';
import { assertCanEditRoleAccess } from './flag-access.ts';
import { presentFlags } from '../../flags/service.ts';
import { presentRoles } from './service.ts';
import { findFlag, type FeatureFlagRow } from '../../flags/repository.ts';
import {
  deleteFlagRoleAccess,
  findFlagRoleAccess,
  findRole,
  findRolesByIds,
  insertFlagRoleAccess,
  listFlagRoleAccess,
  type FlagRoleAccess,
} from './repository.ts';
import { FlagRoleAccessBody, type FlagRoleAccessSchema, toFlagRoleAccess } from './schemas.ts';
import { parseOrThrow } from '../../platform/http/drf.ts';
import { NotFoundError, ValidationError } from '../../platform/errors.ts';
import { limitOffsetLinks, parseLimitOffset, type Paginated } from '../../platform/pagination.ts';
import type { z } from 'zod';
import { requireOrganization, requireProject } from '../require-auth.ts';

type FlagRoleAccessOut = z.infer<typeof FlagRoleAccessSchema>;

/** The flag of the request's project named in the URL, soft-deleted ones included. */
async function flagOf(db: Db, auth: RequestAuth, rawId: string): Promise<FeatureFlagRow> {
  const flag = /^\d{1,9}$/.test(rawId) ? await findFlag(db, requireProject(auth).id, Number(rawId)) : undefined;
  if (!flag) throw new NotFoundError('Feature flag not found.');
  return flag;
}

async function accessOf(db: Db, flag: FeatureFlagRow, rawId: string): Promise<FlagRoleAccess> {
  const row = /^\d{1,9}$/.test(rawId) ? await findFlagRoleAccess(db, flag.id, Number(rawId)) : undefined;
  if (!row) throw new NotFoundError();
  return row;
}

async function present(ctx: AppContext, auth: RequestAuth, flag: FeatureFlagRow, rows: FlagRoleAccess[]): Promise<FlagRoleAccessOut[]> {
  if (!rows.length) return [];
  const [[flagOut], roles] = await Promise.all([
    presentFlags(ctx, ctx.db, auth, [flag]),
    findRolesByIds(
      ctx.db,
      rows.map((r) => r.roleId),
    ).then((found) => presentRoles(ctx.db, found)),
  ]);
  const byId = new Map(roles.map((r) => [r.id, r]));
  return rows.map((row) => toFlagRoleAccess(row, flagOut, byId.get(row.roleId)!));
}

export async function listRoleAccess(
  ctx: AppContext,
  auth: RequestAuth,
  flagId: string,
  query: Record<string, unknown>,
  url: URL,
): Promise<Paginated<FlagRoleAccessOut>> {
  const flag = await flagOf(ctx.db, auth, flagId);
  const { limit, offset } = parseLimitOffset(query);
  const { count, rows } = await listFlagRoleAccess(ctx.db, flag.id, { limit, offset });
  return { count, ...limitOffsetLinks(url, count, limit, offset), results: await present(ctx, auth, flag, rows) };
}

export async function getRoleAccess(ctx: AppContext, auth: RequestAuth, flagId: string, id: string): Promise<FlagRoleAccessOut> {
  const flag = await flagOf(ctx.db, auth, flagId);
  const [out] = await present(ctx, auth, flag, [await accessOf(ctx.db, flag, id)]);
  return out;
}

/** POST {"role_id"}: the permission is checked before the body, as PostHog does. */
export async function addRoleAccess(ctx: AppContext, auth: RequestAuth, flagId: string, body: unknown): Promise<FlagRoleAccessOut> {
  const { flag, row } = await transact(ctx, async (tx, changes) => {
    const flag = await flagOf(tx, auth, flagId);
    await assertCanEditRoleAccess(tx, auth, flag);
    const { role_id: roleId } = parseOrThrow(FlagRoleAccessBody, body);
    const role = await findRole(tx, requireOrganization(auth).id, roleId);
    if (!role) throw new ValidationError(`Invalid pk "${roleId}" - object does not exist.`, 'does_not_exist', 'role_id');
    const row = await insertFlagRoleAccess(tx, flag.id, role.id);
    if (!row) throw new ValidationError('This role already has access to this feature flag.', 'unique', 'role_id');
    changes.authChanged();
    return { flag, row };
  });
  const [out] = await present(ctx, auth, flag, [row]);
  return out;
}

export async function removeRoleAccess(ctx: AppContext, auth: RequestAuth, flagId: string, id: string): Promise<void> {
  await transact(ctx, async (tx, changes) => {
    const flag = await flagOf(tx, auth, flagId);
    await assertCanEditRoleAccess(tx, auth, flag);
    const row = await accessOf(tx, flag, id);
    await deleteFlagRoleAccess(tx, row.id);
    changes.authChanged();
  });
}

// Who may edit which flag: `can_edit` and `user_access_level` for a caller (API §8).
import type { FeatureFlagRow } from '../repositories/feature-flags.ts';
import type { RequestAuth } from './auth.ts';
import type { Db } from '../db/index.ts';
import { MembershipLevel } from '../repositories/users.ts';
import type { AccessLevel } from '../schemas/feature-flags.ts';
import { PermissionDeniedError } from '../lib/errors.ts';

export type FlagAccess = (flag: FeatureFlagRow) => { canEdit: boolean; level: AccessLevel };

/**
 * The caller's access to flags of the request's project. Organization owners and admins manage
 * every flag; members edit them.
 */
export async function flagAccessResolver(_db: Db, auth: RequestAuth, _flags: FeatureFlagRow[]): Promise<FlagAccess> {
  const admin = (auth.membership?.level ?? 0) >= MembershipLevel.admin || auth.principal.kind === 'project_secret';
  return () => ({ canEdit: true, level: admin ? 'manager' : 'editor' });
}

export async function assertCanEdit(db: Db, auth: RequestAuth, flag: FeatureFlagRow): Promise<void> {
  const access = (await flagAccessResolver(db, auth, [flag]))(flag);
  if (!access.canEdit) throw new PermissionDeniedError("You don't have edit permissions for this feature flag.");
}

// The first admin after the first start: a new key when the printed one was lost (`flaghost
// reset-admin-key`), and which FLAGHOST_INIT_* values an already initialised database does not hold
// (README "First start": they apply to an empty database only, and the server names the ignored ones).
import { transact, type AppContext } from '../../platform/context.ts';
import type { InitConfig } from '../../platform/config.ts';
import { findFirstOrganization, findProjectBySecretToken, findProjectByToken } from './projects-repository.ts';
import { findUserByEmail, listMembersOfOrganization, MembershipLevel, type User } from './users-repository.ts';
import { deleteKey, findKeyWithUserByHash, listKeysOfUser, lockKeysOfUser, type PersonalApiKey } from '../keys/repository.ts';
import { hashKeyValue } from '../tokens.ts';
import { verifyPassword } from '../sign-in/passwords.ts';
import { AdminError, createKeyIn, DEFAULT_ADMIN_EMAIL, INITIAL_KEY_LABEL } from './admin.ts';

/** Keys made by `reset-admin-key` are labelled `reset-admin-key <time>`; the next reset revokes them. */
const RESET_KEY_LABEL = 'reset-admin-key';

export interface ResetAdminKeyResult {
  user: User;
  key: PersonalApiKey;
  value: string;
  /** Ids of the keys revoked: the first start's key and those of earlier resets. */
  revoked: string[];
}

/**
 * A new full-access key for the first admin (the earliest owner of the first organization). The key
 * printed at first start and those of earlier resets are revoked: whoever lost it cannot tell where
 * it went (a terminal's scrollback, container logs), so it should not keep working. The admin's
 * other keys stay.
 */
export async function resetFirstAdminKey(ctx: AppContext): Promise<ResetAdminKeyResult> {
  return transact(ctx, async (tx, changes) => {
    const org = await findFirstOrganization(tx);
    if (!org) throw new AdminError('The database has no organization yet: run `flaghost init` first.');
    const owner = (await listMembersOfOrganization(tx, org.id)).find((m) => m.membership.level === MembershipLevel.owner);
    if (!owner) throw new AdminError(`The organization ${org.name} has no owner: create one with \`flaghost users create --level owner\`.`);
    await lockKeysOfUser(tx, owner.user.id);
    const revoked: string[] = [];
    for (const key of await listKeysOfUser(tx, owner.user.id)) {
      if (key.label === INITIAL_KEY_LABEL || key.label.startsWith(`${RESET_KEY_LABEL} `)) {
        await deleteKey(tx, key.id);
        revoked.push(key.id);
      }
    }
    const { key, value } = await createKeyIn(tx, owner.user, { label: `${RESET_KEY_LABEL} ${ctx.now().toISOString()}`, scopes: null });
    changes.authChanged();
    return { user: owner.user, key, value, revoked };
  });
}

export interface IgnoredInitVariable {
  variable: string;
  reason: string;
}

const AFTERWARDS = 'FLAGHOST_INIT_* only apply to an empty database (README "First start")';

/**
 * The FLAGHOST_INIT_* variables set in `init` whose value the database does not hold, for a database
 * initialised before. A variable whose value is in effect (compose files keep them set) is not
 * named: only one that someone could believe applied.
 */
export async function ignoredInitVariables(ctx: AppContext, init: InitConfig): Promise<IgnoredInitVariable[]> {
  const ignored: IgnoredInitVariable[] = [];
  const db = ctx.db;
  if (init.adminEmail && !(await findUserByEmail(db, init.adminEmail))) {
    ignored.push({ variable: 'FLAGHOST_INIT_ADMIN_EMAIL', reason: `no user has this email; ${AFTERWARDS}. Add one with \`flaghost users create\`.` });
  }
  if (init.adminPassword) {
    const admin = await findUserByEmail(db, init.adminEmail ?? DEFAULT_ADMIN_EMAIL);
    if (!admin || !(await verifyPassword(init.adminPassword, admin.passwordHash))) {
      ignored.push({
        variable: 'FLAGHOST_INIT_ADMIN_PASSWORD',
        reason: `it is not the admin's password; ${AFTERWARDS}. Set one with \`flaghost users set-password\`.`,
      });
    }
  }
  if (init.personalApiKey && !(await findKeyWithUserByHash(db, hashKeyValue(init.personalApiKey)))) {
    ignored.push({
      variable: 'FLAGHOST_INIT_PERSONAL_API_KEY',
      reason: `no personal API key has this value, so requests with it get 401; ${AFTERWARDS}. Get a key with \`flaghost reset-admin-key\` or \`flaghost keys create\`.`,
    });
  }
  if (init.projectToken && !(await findProjectByToken(db, init.projectToken))) {
    ignored.push({ variable: 'FLAGHOST_INIT_PROJECT_TOKEN', reason: `no project has this token; ${AFTERWARDS}. \`flaghost projects list\` shows the tokens.` });
  }
  if (init.secretToken && !(await findProjectBySecretToken(db, init.secretToken))) {
    ignored.push({
      variable: 'FLAGHOST_INIT_SECRET_TOKEN',
      reason: `no project has this secret token; ${AFTERWARDS}. \`flaghost projects list\` shows the tokens.`,
    });
  }
  return ignored;
}

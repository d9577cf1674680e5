// Organization invites (PostHog's): an admin invites an email at a level; the invitee opens
// /signup/<invite id>, sets a password and is signed in (or, already signed in as that email,
// joins). An invite is valid for 3 days and is used once.
import crypto from 'node:crypto';
import type { AppContext } from '../../platform/context.ts';
import { transact } from '../../platform/context.ts';
import type { RequestAuth } from '../auth.ts';
import { findMembership, findUserByEmail, insertUser, MembershipLevel, updateUser, upsertMembership, type User } from '../organizations/users-repository.ts';
import { listAllProjects } from '../organizations/projects-repository.ts';
import { toUserBasic } from '../organizations/user-schemas.ts';
import { isoTime } from '../../platform/time.ts';
import { NotFoundError, PermissionDeniedError, ValidationError } from '../../platform/errors.ts';
import { setPasswordIn, type Client } from './accounts.ts';
import { startSession, type NewSession } from './sessions.ts';
import { checkNewPassword } from './passwords.ts';
import { deleteInvite, deleteInvitesFor, findInviteWithOrganization, insertInvite, listInvitesOfOrganization, type Invite } from './invite-repository.ts';
import { requireMembership, requireOrganization } from '../require-auth.ts';

/** PostHog's INVITE_DAYS_VALIDITY. */
export const INVITE_VALIDITY_MS = 3 * 24 * 3_600_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface InviteBody {
  target_email: string;
  first_name?: string;
  level?: number;
  message?: string | null;
}

const isExpired = (ctx: AppContext, invite: Invite) => ctx.now().getTime() - invite.createdAt.getTime() > INVITE_VALIDITY_MS;

function render(ctx: AppContext, invite: Invite, createdBy: User | null) {
  return {
    id: invite.id,
    target_email: invite.targetEmail,
    first_name: invite.firstName,
    emailing_attempt_made: false,
    level: invite.level,
    is_expired: isExpired(ctx, invite),
    created_by: createdBy ? toUserBasic(createdBy) : null,
    created_at: isoTime(invite.createdAt)!,
    updated_at: isoTime(invite.updatedAt)!,
    message: invite.message,
    private_project_access: [] as unknown[],
  };
}

export type InviteOut = ReturnType<typeof render>;

/** PostHog lowercases the domain only: the local part may be case-sensitive. */
const normalizeEmail = (email: string) => {
  const at = email.lastIndexOf('@');
  return `${email.slice(0, at)}@${email.slice(at + 1).toLowerCase()}`;
};

export async function createInvite(ctx: AppContext, auth: RequestAuth, body: InviteBody): Promise<InviteOut> {
  const [created] = await createInvites(ctx, auth, [body]);
  return created;
}

/** Several invites at once (PostHog's `invites/bulk/`): all are created, or none. */
export async function createInvites(ctx: AppContext, auth: RequestAuth, bodies: InviteBody[]): Promise<InviteOut[]> {
  const organization = requireOrganization(auth);
  const ownLevel = requireMembership(auth).level;
  for (const body of bodies) {
    if ((body.level ?? MembershipLevel.member) > ownLevel)
      throw new PermissionDeniedError('You cannot invite a user with a higher permission level than your own.');
  }
  return transact(ctx, async (tx) => {
    const out: InviteOut[] = [];
    for (const body of bodies) {
      const email = normalizeEmail(body.target_email);
      const existing = await findUserByEmail(tx, email);
      if (existing && (await findMembership(tx, organization.id, existing.id))) {
        throw new ValidationError('A user with this email address already belongs to the organization.');
      }
      await deleteInvitesFor(tx, organization.id, email);
      const now = ctx.now();
      const invite = await insertInvite(tx, {
        organizationId: organization.id,
        targetEmail: email,
        firstName: body.first_name ?? '',
        level: body.level ?? MembershipLevel.member,
        message: body.message ?? null,
        createdById: auth.user?.id ?? null,
        createdAt: now,
        updatedAt: now,
      });
      out.push(render(ctx, invite, auth.user ?? null));
    }
    return out;
  });
}

export async function listInvites(ctx: AppContext, auth: RequestAuth): Promise<InviteOut[]> {
  return (await listInvitesOfOrganization(ctx.db, requireOrganization(auth).id)).map((r) => render(ctx, r.invite, r.createdBy));
}

export async function revokeInvite(ctx: AppContext, auth: RequestAuth, id: string): Promise<void> {
  if (!UUID.test(id) || !(await deleteInvite(ctx.db, requireOrganization(auth).id, id.toLowerCase()))) throw new NotFoundError();
}

const invalidInvite = () => new ValidationError('The provided invite ID is not valid.');

async function usableInvite(ctx: AppContext, id: string, signedIn?: User) {
  const found = UUID.test(id) ? await findInviteWithOrganization(ctx.db, id.toLowerCase()) : undefined;
  if (!found) throw invalidInvite();
  if (isExpired(ctx, found.invite)) throw new ValidationError('This invite has expired. Please ask your admin for a new one.', 'expired');
  if (signedIn && signedIn.email.toLowerCase() !== found.invite.targetEmail.toLowerCase()) {
    throw new ValidationError('This invite is intended for another email address.', 'invalid_recipient');
  }
  return found;
}

/** GET /api/signup/<id>/: what the invite page shows. */
export async function describeInvite(ctx: AppContext, id: string, signedIn?: User) {
  const { invite, organizationName } = await usableInvite(ctx, id, signedIn);
  return { id: invite.id, target_email: invite.targetEmail, first_name: invite.firstName, organization_name: organizationName };
}

export interface SignupBody {
  first_name?: string;
  last_name?: string;
  password?: string;
}

/**
 * POST /api/signup/<id>/: a new person sets a password and is signed in; someone signed in as the
 * invited email joins the organization. The invite is used up either way.
 */
export async function acceptInvite(
  ctx: AppContext,
  id: string,
  body: SignupBody,
  client: Client,
  signedIn?: User,
): Promise<{ user: User; session?: NewSession }> {
  const { invite } = await usableInvite(ctx, id, signedIn);
  if (!signedIn) {
    for (const attr of ['first_name', 'password'] as const) {
      if (!body[attr]) throw new ValidationError('This field is required.', 'required', attr);
    }
    checkNewPassword(body.password!);
  }
  return transact(ctx, async (tx, changes) => {
    // Used once: deleting it first makes a concurrent second use wait, then find nothing.
    if (!(await deleteInvite(tx, invite.organizationId, invite.id))) throw invalidInvite();
    let user = signedIn;
    if (!user) {
      if (await findUserByEmail(tx, invite.targetEmail)) {
        throw new ValidationError(`There already exists an account with email address ${invite.targetEmail}. Please log in instead.`);
      }
      const [project] = (await listAllProjects(tx)).filter((p) => p.organizationId === invite.organizationId);
      user = await insertUser(tx, {
        email: invite.targetEmail,
        firstName: body.first_name!,
        lastName: body.last_name ?? '',
        distinctId: crypto.randomUUID(),
        currentOrganizationId: invite.organizationId,
        currentProjectId: project?.id ?? null,
        createdAt: ctx.now(),
      });
      await setPasswordIn(tx, user, body.password!);
    } else if (await findMembership(tx, invite.organizationId, user.id)) {
      throw new ValidationError('User already is a member of the organization.');
    }
    await upsertMembership(tx, invite.organizationId, user.id, invite.level);
    if (!user.currentOrganizationId) await updateUser(tx, user.id, { currentOrganizationId: invite.organizationId });
    changes.authChanged();
    const session = signedIn ? undefined : await startSession(ctx, tx, user, client);
    return { user, session };
  });
}

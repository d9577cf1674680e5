// Access: who is in the organization and at which level, invitations, roles and who may edit
// feature flags, with what the signed-in user can and cannot do, and why.
import { api } from '../api.ts';
import { isAdmin, useSession } from '../session.tsx';
import { EmptyState } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { LEVELS } from '../format.ts';
import type { OrganizationMember, Page } from '../types.ts';
import { Members } from '../access/Members.tsx';
import { Invites } from '../access/Invites.tsx';
import { Roles } from '../access/Roles.tsx';
import { flagRightsSummary, loadPolicy } from '../access/policy.ts';

export function AccessPage() {
  useDocumentTitle('Access');
  const { me } = useSession();
  const orgId = me.organization?.id;
  const admin = isAdmin(me);
  const members = useResource((signal) => api.get<Page<OrganizationMember>>(`/api/organizations/${orgId}/members/?limit=500`, { signal }), [orgId]);
  const policy = useResource((signal) => loadPolicy(orgId!, signal), [orgId]);

  if (!orgId)
    return (
      <div className="page">
        <EmptyState title="No organization">Your account does not belong to an organization.</EmptyState>
      </div>
    );
  const level = me.organization?.membership_level ?? 0;
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Access</h1>
          <p className="muted">People in {me.organization?.name}, their levels and roles. Everyone here can sign in to the console.</p>
        </div>
      </div>
      <section className="card your-access" aria-labelledby="you-title">
        <h2 id="you-title">Your access</h2>
        <p data-testid="your-access">
          You are {level >= 8 ? 'an' : 'a'} <strong>{(LEVELS[level] ?? 'member').toLowerCase()}</strong> of {me.organization?.name}.{' '}
          {admin
            ? 'You can invite people, change levels (never above your own), manage roles, and reset or rotate project tokens.'
            : 'Admins and owners invite people, manage roles and rotate project tokens; you can see them here.'}
        </p>
        {policy.data ? <p data-testid="flag-rights">{flagRightsSummary(me, policy.data)}</p> : null}
      </section>
      {admin ? <Invites orgId={orgId} myLevel={level} /> : null}
      <Members orgId={orgId} members={members} />
      <Roles orgId={orgId} admin={admin} policy={policy} members={members.data?.results ?? []} />
    </div>
  );
}

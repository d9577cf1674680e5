// The organization's members: their levels, changed in place by admins within PostHog's rules
// (never their own, never above their own, owners only by owners), removal, and leaving.
import { useState } from 'react';
import { api } from '../api.ts';
import { navigate } from '../router.tsx';
import { useSession } from '../session.tsx';
import { Alert, ConfirmDialog, ErrorState, Spinner, Button } from '../components/ui.tsx';
import type { Resource } from '../components/hooks.ts';
import { dateTime, LEVELS, relativeTime, userName } from '../format.ts';
import type { OrganizationMember, Page } from '../types.ts';

/** Why this user may not change the member's level (null: they may), as the server would refuse. */
function levelLock(myLevel: number, self: boolean, target: OrganizationMember): string | null {
  if (self) return "You can't change your own level.";
  if (myLevel < 8) return 'Only admins and owners change levels.';
  if (target.level > myLevel) return 'Only an owner changes an owner.';
  return null;
}

export function Members({ orgId, members }: { orgId: string; members: Resource<Page<OrganizationMember>> }) {
  const { me, refresh } = useSession();
  const myLevel = me.organization?.membership_level ?? 0;
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState<OrganizationMember | null>(null);
  const leaving = removing?.user.uuid === me.uuid;

  const changeLevel = async (member: OrganizationMember, level: number) => {
    setError(null);
    try {
      await api.patch(`/api/organizations/${orgId}/members/${member.user.uuid}/`, { level });
    } catch (e) {
      setError((e as Error).message);
    }
    members.reload();
  };

  return (
    <section className="card" aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      {myLevel < 8 ? (
        <p className="muted" data-testid="members-reason">
          You are a member: you can see who is here and leave. Admins and owners invite people, change levels and remove members.
        </p>
      ) : null}
      {error ? <Alert>{error}</Alert> : null}
      {members.error ? (
        <ErrorState error={members.error} retry={members.reload} />
      ) : members.loading && !members.data ? (
        <Spinner />
      ) : (
        <table className="table compact members-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Level</th>
              <th scope="col">Joined</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {members.data!.results.map((m) => {
              const self = m.user.uuid === me.uuid;
              const lock = levelLock(myLevel, self, m);
              const canRemove = self || (myLevel >= 8 && m.level <= myLevel);
              return (
                <tr key={m.id}>
                  <td data-label="Name">
                    {userName(m.user)}
                    {self ? <span className="muted"> (you)</span> : null}
                  </td>
                  <td data-label="Email">{m.user.email}</td>
                  <td data-label="Level">
                    {lock ? (
                      <span title={lock}>{LEVELS[m.level] ?? m.level}</span>
                    ) : (
                      <select aria-label={`Level of ${userName(m.user)}`} value={m.level} onChange={(e) => void changeLevel(m, Number(e.target.value))}>
                        {[1, 8, 15]
                          .filter((l) => l <= myLevel)
                          .map((l) => (
                            <option key={l} value={l}>
                              {LEVELS[l]}
                            </option>
                          ))}
                      </select>
                    )}
                  </td>
                  <td data-label="Joined" title={dateTime(m.joined_at)}>
                    {relativeTime(m.joined_at)}
                  </td>
                  <td className="cell-actions">
                    {canRemove ? (
                      <Button kind="ghost" className="btn-small" onClick={() => setRemoving(m)}>
                        {self ? 'Leave' : 'Remove'}
                        <span className="visually-hidden">{self ? ' the organization' : ` ${userName(m.user)}`}</span>
                      </Button>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <ConfirmDialog
        open={removing !== null}
        title={leaving ? 'Leave this organization?' : 'Remove this member?'}
        confirmLabel={leaving ? 'Leave organization' : 'Remove member'}
        tone="danger"
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          await api.delete(`/api/organizations/${orgId}/members/${removing!.user.uuid}/`);
          if (leaving) {
            await refresh();
            navigate('/');
          } else members.reload();
        }}
      >
        <p>
          {leaving
            ? 'You lose access to its projects and flags, and leave its roles.'
            : `${userName(removing?.user)} loses access to this organization's projects and flags at once, and leaves its roles.`}
        </p>
      </ConfirmDialog>
    </section>
  );
}

// The organization's members and, for admins, its pending invites and the "Invite member" form.
// flaghost sends no email: the form shows the invite link to pass on.
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { isAdmin, useSession } from '../session.tsx';
import { Alert, Badge, Button, ConfirmDialog, CopyButton, EmptyState, ErrorState, Field, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { dateTime, LEVELS, relativeTime, userName } from '../format.ts';
import type { Invite, OrganizationMember, Page } from '../types.ts';

const inviteLink = (id: string) => `${window.location.origin}/signup/${id}`;

function InviteForm({ orgId, onInvited }: { orgId: string; onInvited: (invite: Invite) => void }) {
  const [email, setEmail] = useState('');
  const [firstName, setFirstName] = useState('');
  const [level, setLevel] = useState('1');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ attr: string | null; message: string } | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!/^\S+@\S+\.\S+$/.test(email.trim())) return setError({ attr: 'target_email', message: 'Enter a valid email address.' });
    setBusy(true);
    setError(null);
    try {
      const invite = await api.post<Invite>(`/api/organizations/${orgId}/invites/`, {
        target_email: email.trim(),
        first_name: firstName.trim(),
        level: Number(level),
      });
      onInvited(invite);
      setEmail('');
      setFirstName('');
    } catch (e) {
      setError({ attr: e instanceof ApiError ? e.attr : null, message: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (attr: string) => (error?.attr === attr ? error.message : null);
  return (
    <form className="card invite-form" onSubmit={submit} noValidate aria-labelledby="invite-title">
      <h2 id="invite-title">Invite member</h2>
      {error && !['target_email', 'first_name', 'level'].includes(error.attr ?? '') ? <Alert>{error.message}</Alert> : null}
      <div className="form-grid">
        <Field label="Email" error={fieldError('target_email')}>
          {(p) => <input {...p} type="email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="teammate@example.com" />}
        </Field>
        <Field label="First name (optional)" error={fieldError('first_name')}>
          {(p) => <input {...p} value={firstName} onChange={(e) => setFirstName(e.target.value)} />}
        </Field>
        <Field label="Level" error={fieldError('level')}>
          {(p) => (
            <select {...p} value={level} onChange={(e) => setLevel(e.target.value)}>
              <option value="1">Member</option>
              <option value="8">Admin</option>
            </select>
          )}
        </Field>
      </div>
      <Button kind="primary" type="submit" busy={busy}>
        Create invite link
      </Button>
    </form>
  );
}

export function MembersPage() {
  useDocumentTitle('Members');
  const { me } = useSession();
  const orgId = me.organization?.id;
  const admin = isAdmin(me);
  const members = useResource((signal) => api.get<Page<OrganizationMember>>(`/api/organizations/${orgId}/members/?limit=500`, { signal }), [orgId]);
  const invites = useResource(
    (signal) => (admin ? api.get<Page<Invite>>(`/api/organizations/${orgId}/invites/?limit=500`, { signal }) : Promise.resolve(null)),
    [orgId, admin],
  );
  const [created, setCreated] = useState<Invite | null>(null);
  const [revoking, setRevoking] = useState<Invite | null>(null);

  if (!orgId)
    return (
      <div className="page">
        <EmptyState title="No organization">Your account does not belong to an organization.</EmptyState>
      </div>
    );
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Members</h1>
          <p className="muted">People in {me.organization?.name}. Everyone here can sign in to the console.</p>
        </div>
      </div>

      {admin ? (
        <>
          <InviteForm
            orgId={orgId}
            onInvited={(invite) => {
              setCreated(invite);
              invites.reload();
            }}
          />
          {created ? (
            <Alert tone="success">
              <p>
                Invite created for <strong>{created.target_email}</strong>. Send them this link (valid for 3 days, usable once):
              </p>
              <div className="link-box">
                <code data-testid="invite-link">{inviteLink(created.id)}</code>
                <CopyButton text={inviteLink(created.id)} label="Copy link" />
              </div>
            </Alert>
          ) : null}
          <section className="card" aria-labelledby="pending-title">
            <h2 id="pending-title">Pending invites</h2>
            {invites.error ? (
              <ErrorState error={invites.error} retry={invites.reload} />
            ) : invites.loading && !invites.data ? (
              <Spinner />
            ) : (invites.data?.results ?? []).length === 0 ? (
              <p className="muted">No pending invites.</p>
            ) : (
              <ul className="plain-list invite-list">
                {invites.data!.results.map((inv) => (
                  <li key={inv.id}>
                    <div>
                      <strong>{inv.target_email}</strong> <Badge>{LEVELS[inv.level] ?? inv.level}</Badge>{' '}
                      {inv.is_expired ? <Badge tone="warning">Expired</Badge> : null}
                      <div className="muted small">
                        Invited {relativeTime(inv.created_at)} by {userName(inv.created_by)}
                      </div>
                    </div>
                    <div className="button-row">
                      {!inv.is_expired ? <CopyButton text={inviteLink(inv.id)} label="Copy link" /> : null}
                      <Button kind="ghost" className="btn-small" onClick={() => setRevoking(inv)}>
                        Revoke
                      </Button>
                    </div>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </>
      ) : null}

      <section className="card" aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
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
              </tr>
            </thead>
            <tbody>
              {members.data!.results.map((m) => (
                <tr key={m.id}>
                  <td data-label="Name">
                    {userName(m.user)}
                    {m.user.uuid === me.uuid ? <span className="muted"> (you)</span> : null}
                  </td>
                  <td data-label="Email">{m.user.email}</td>
                  <td data-label="Level">{LEVELS[m.level] ?? m.level}</td>
                  <td data-label="Joined" title={dateTime(m.joined_at)}>
                    {relativeTime(m.joined_at)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this invite?"
        confirmLabel="Revoke invite"
        tone="danger"
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          await api.delete(`/api/organizations/${orgId}/invites/${revoking!.id}/`);
          if (created?.id === revoking!.id) setCreated(null);
          invites.reload();
        }}
      >
        <p>
          The link sent to <strong>{revoking?.target_email}</strong> stops working.
        </p>
      </ConfirmDialog>
    </div>
  );
}

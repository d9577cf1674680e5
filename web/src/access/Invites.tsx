// The "Invite member" form and the pending invites (admins). flaghost sends no email: the form
// shows the invite link to pass on.
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { Alert, Badge, Button, ConfirmDialog, CopyButton, ErrorState, Field, Spinner } from '../components/ui.tsx';
import { useResource } from '../components/hooks.ts';
import { LEVELS, relativeTime, userName } from '../format.ts';
import type { Invite, Page } from '../types.ts';

const inviteLink = (id: string) => `${window.location.origin}/signup/${id}`;

function InviteForm({ orgId, myLevel, onInvited }: { orgId: string; myLevel: number; onInvited: (invite: Invite) => void }) {
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
              {[1, 8, 15]
                .filter((l) => l <= myLevel)
                .map((l) => (
                  <option key={l} value={l}>
                    {LEVELS[l]}
                  </option>
                ))}
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

export function Invites({ orgId, myLevel }: { orgId: string; myLevel: number }) {
  const invites = useResource((signal) => api.get<Page<Invite>>(`/api/organizations/${orgId}/invites/?limit=100`, { signal }), [orgId]);
  const [created, setCreated] = useState<Invite | null>(null);
  const [revoking, setRevoking] = useState<Invite | null>(null);
  return (
    <>
      <InviteForm
        orgId={orgId}
        myLevel={myLevel}
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
    </>
  );
}

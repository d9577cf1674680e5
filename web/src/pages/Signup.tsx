// Accepting an invite (/signup/<id>): shows who invited whom, then creates the account and signs in.
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { navigate } from '../router.tsx';
import { Alert, Button, Field, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { AuthCard } from './Login.tsx';

interface InviteInfo {
  id: string;
  target_email: string;
  first_name: string;
  organization_name: string;
}

export const MIN_PASSWORD = 8;

export function SignupPage({ inviteId, onSignedIn }: { inviteId: string; onSignedIn: () => Promise<void> }) {
  useDocumentTitle('Join');
  const invite = useResource((signal) => api.get<InviteInfo>(`/api/signup/${encodeURIComponent(inviteId)}/`, { quiet401: true, signal }), [inviteId]);
  const [firstName, setFirstName] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ attr: string | null; message: string } | null>(null);

  if (invite.loading)
    return (
      <AuthCard title="Join flaghost">
        <Spinner label="Checking your invite…" />
      </AuthCard>
    );
  if (invite.error || !invite.data) {
    const message = invite.error instanceof ApiError && invite.error.status !== 0 ? invite.error.message : 'The invite could not be loaded.';
    return (
      <AuthCard title="This invite link does not work">
        <Alert>{message}</Alert>
        <p className="muted">Invite links expire and can be used once. Ask an admin for a new one.</p>
        <a className="btn btn-secondary btn-block" href="/login">
          Go to sign in
        </a>
      </AuthCard>
    );
  }
  const data = invite.data;
  const name = firstName ?? data.first_name ?? '';
  const tooShort = password.length > 0 && password.length < MIN_PASSWORD;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password.length < MIN_PASSWORD) {
      setError({ attr: 'password', message: `Use at least ${MIN_PASSWORD} characters.` });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.post(`/api/signup/${encodeURIComponent(inviteId)}/`, { first_name: name, password, email: data.target_email }, { quiet401: true });
      await onSignedIn();
      navigate('/', { replace: true });
    } catch (e) {
      setError({ attr: e instanceof ApiError ? e.attr : null, message: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (attr: string) => (error?.attr === attr ? error.message : null);

  return (
    <AuthCard
      title={`Join ${data.organization_name}`}
      subtitle={
        <>
          You were invited as <strong>{data.target_email}</strong>.
        </>
      }
    >
      <form onSubmit={submit} noValidate>
        {error && !['first_name', 'password'].includes(error.attr ?? '') ? <Alert>{error.message}</Alert> : null}
        <Field label="First name" error={fieldError('first_name')}>
          {(p) => <input {...p} autoComplete="given-name" value={name} onChange={(e) => setFirstName(e.target.value)} autoFocus />}
        </Field>
        <Field
          label="Password"
          hint={`At least ${MIN_PASSWORD} characters.`}
          error={fieldError('password') ?? (tooShort ? `Use at least ${MIN_PASSWORD} characters.` : null)}
        >
          {(p) => <input {...p} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <Button kind="primary" type="submit" busy={busy} className="btn-block">
          Create account
        </Button>
      </form>
    </AuthCard>
  );
}

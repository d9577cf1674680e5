// Setting a password from a one-time link (/reset/<user uuid>/<token>): the first admin's link
// printed at first start, or a reset link. The token is checked before the form is shown.
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { navigate } from '../router.tsx';
import { Alert, Button, Field, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { AuthCard } from './Login.tsx';
import { MIN_PASSWORD } from './Signup.tsx';

export function ResetPage({ uuid, token, onSignedIn }: { uuid: string; token: string; onSignedIn: () => Promise<void> }) {
  useDocumentTitle('Set your password');
  const base = `/api/reset/${encodeURIComponent(uuid)}/`;
  const check = useResource((signal) => api.get<unknown>(`${base}?token=${encodeURIComponent(token)}`, { quiet401: true, signal }), [uuid, token]);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ attr: string | null; message: string } | null>(null);

  if (check.loading)
    return (
      <AuthCard title="Set your password">
        <Spinner label="Checking your link…" />
      </AuthCard>
    );
  if (check.error) {
    return (
      <AuthCard title="This link does not work">
        <Alert>
          {check.error instanceof ApiError && check.error.status === 400 ? 'The link has expired or was already used.' : (check.error as Error).message}
        </Alert>
        <p className="muted">A password link is valid for 24 hours and works once.</p>
        <a className="btn btn-secondary btn-block" href="/login">
          Go to sign in
        </a>
      </AuthCard>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password.length < MIN_PASSWORD) return setError({ attr: 'password', message: `Use at least ${MIN_PASSWORD} characters.` });
    if (password !== confirm) return setError({ attr: 'confirm', message: 'The passwords do not match.' });
    setBusy(true);
    setError(null);
    try {
      await api.post(base, { token, password }, { quiet401: true });
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
    <AuthCard title="Set your password" subtitle="Choose the password you will sign in with.">
      <form onSubmit={submit} noValidate>
        {error && !['password', 'confirm'].includes(error.attr ?? '') ? <Alert>{error.message}</Alert> : null}
        <Field label="New password" hint={`At least ${MIN_PASSWORD} characters.`} error={fieldError('password')}>
          {(p) => <input {...p} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />}
        </Field>
        <Field label="Repeat the password" error={fieldError('confirm')}>
          {(p) => <input {...p} type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />}
        </Field>
        <Button kind="primary" type="submit" busy={busy} className="btn-block">
          Set password and sign in
        </Button>
      </form>
    </AuthCard>
  );
}

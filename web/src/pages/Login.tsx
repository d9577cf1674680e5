// Sign in: email and password (POST /api/login/), and "Sign in with SSO" when the server says an
// OIDC provider is configured (GET /_preflight/).
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError } from '../api.ts';
import { navigate, useLocation } from '../router.tsx';
import { Alert, Button, Field } from '../components/ui.tsx';
import { Logo } from '../components/Shell.tsx';
import { useDocumentTitle } from '../components/hooks.ts';
import type { Preflight } from '../types.ts';

export function AuthCard({ title, subtitle, children }: { title: string; subtitle?: ReactNode; children: ReactNode }) {
  return (
    <div className="auth-card">
      <div className="auth-brand">
        <Logo />
        <span className="brand-name">flaghost</span>
      </div>
      <h1>{title}</h1>
      {subtitle ? <p className="muted auth-subtitle">{subtitle}</p> : null}
      {children}
    </div>
  );
}

/** Only same-site paths are followed after signing in (never another host). */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function LoginPage({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  useDocumentTitle('Sign in');
  const { search } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(search.get('error') ? 'Single sign-on did not complete. Try again or sign in with your password.' : null);
  const [oidc, setOidc] = useState(false);

  // Someone already signed in who opens this page goes straight on.
  useEffect(() => {
    api.get('/api/users/@me/', { quiet401: true }).then(
      () => navigate(safeNext(new URLSearchParams(window.location.search).get('next')), { replace: true }),
      () => {
        // Not signed in (401): this page is the right one.
      },
    );
  }, []);

  useEffect(() => {
    api.get<Preflight>('/_preflight/', { quiet401: true }).then(
      (p) => setOidc(Boolean(p?.available_social_auth_providers?.oidc)),
      () => setOidc(false),
    );
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/login/', { email, password }, { quiet401: true });
      await onSignedIn();
      navigate(safeNext(search.get('next')), { replace: true });
    } catch (e) {
      setError(e instanceof ApiError && e.status === 429 ? 'Too many attempts. Wait a moment and try again.' : (e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard title="Sign in" subtitle="Manage your feature flags.">
      <form onSubmit={submit} noValidate>
        {error ? <Alert>{error}</Alert> : null}
        <Field label="Email">
          {(p) => <input {...p} type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />}
        </Field>
        <Field label="Password">
          {(p) => <input {...p} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <Button kind="primary" type="submit" busy={busy} className="btn-block">
          Sign in
        </Button>
      </form>
      {oidc ? (
        <>
          <div className="divider">
            <span>or</span>
          </div>
          <a className="btn btn-secondary btn-block" href="/login/oidc/">
            Sign in with SSO
          </a>
        </>
      ) : null}
      <p className="auth-footnote muted">
        No account? Ask an admin of your organization for an invite link. The first admin sets a password with the link flaghost printed when it started.
      </p>
    </AuthCard>
  );
}

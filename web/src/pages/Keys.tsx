// The user's personal API keys: list, create (the value is shown once), revoke.
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { Alert, Button, ConfirmDialog, CopyButton, EmptyState, ErrorState, Field, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { relativeTime } from '../format.ts';
import type { PersonalApiKey } from '../types.ts';

export function KeysPage() {
  useDocumentTitle('Personal API keys');
  const keys = useResource(
    (signal) =>
      api.get<PersonalApiKey[] | { results: PersonalApiKey[] }>('/api/personal_api_keys/', { signal }).then((d) => (Array.isArray(d) ? d : d.results)),
    [],
  );
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<PersonalApiKey | null>(null);
  const [revoking, setRevoking] = useState<PersonalApiKey | null>(null);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    if (!label.trim()) return setError('Give the key a label, e.g. "CI" or "my laptop".');
    setBusy(true);
    setError(null);
    try {
      setCreated(await api.post<PersonalApiKey>('/api/personal_api_keys/', { label: label.trim(), scopes: ['*'] }));
      setLabel('');
      keys.reload();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Personal API keys</h1>
          <p className="muted">
            Keys authenticate scripts and server SDKs (local evaluation) against the management API: <span className="mono">Authorization: Bearer phx_…</span>
          </p>
        </div>
      </div>
      <form className="card inline-form" onSubmit={create} noValidate aria-labelledby="new-key-title">
        <h2 id="new-key-title">Create a key</h2>
        <div className="inline-form-row">
          <Field label="Label" error={error}>
            {(p) => <input {...p} value={label} maxLength={40} onChange={(e) => setLabel(e.target.value)} placeholder="e.g. CI" />}
          </Field>
          <Button kind="primary" type="submit" busy={busy}>
            Create key
          </Button>
        </div>
      </form>
      {created?.value ? (
        <Alert tone="success">
          <p>
            Key <strong>{created.label}</strong> created. Copy it now: it is shown only this once.
          </p>
          <div className="link-box">
            <code>{created.value}</code>
            <CopyButton text={created.value} />
          </div>
        </Alert>
      ) : null}
      <section className="card" aria-labelledby="keys-title">
        <h2 id="keys-title">Your keys</h2>
        {keys.error ? (
          <ErrorState error={keys.error} retry={keys.reload} />
        ) : keys.loading && !keys.data ? (
          <Spinner />
        ) : !keys.data?.length ? (
          <EmptyState title="No keys yet">Create one above for scripts and server-side SDKs.</EmptyState>
        ) : (
          <table className="table compact keys-table">
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">Key</th>
                <th scope="col">Scopes</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id}>
                  <td data-label="Label">{k.label || <span className="muted">No label</span>}</td>
                  <td data-label="Key" className="mono">
                    {k.mask_value}
                  </td>
                  <td data-label="Scopes">{k.scopes.join(', ')}</td>
                  <td data-label="Last used">{relativeTime(k.last_used_at)}</td>
                  <td className="cell-actions">
                    <Button kind="ghost" className="btn-small" onClick={() => setRevoking(k)}>
                      Revoke
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this key?"
        confirmLabel="Revoke key"
        tone="danger"
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          await api.delete(`/api/personal_api_keys/${revoking!.id}/`);
          keys.reload();
        }}
      >
        <p>
          Requests with <strong>{revoking?.label || revoking?.mask_value}</strong> are refused from now on.
        </p>
      </ConfirmDialog>
    </div>
  );
}

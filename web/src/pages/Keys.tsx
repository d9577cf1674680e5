// The user's personal API keys: list (label, mask, scopes, projects, last used), create with a scope
// picker, roll and revoke. A new or rolled value is shown once.
import { useState } from 'react';
import { api } from '../api.ts';
import { useSession } from '../session.tsx';
import { Alert, Button, ConfirmDialog, CopyButton, EmptyState, ErrorState, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { dateTime, relativeTime } from '../format.ts';
import type { PersonalApiKey } from '../types.ts';
import { KeyForm } from '../access/KeyForm.tsx';
import { projectSummary, scopeSummary } from '../access/scopes.ts';

export function KeysPage() {
  useDocumentTitle('Personal API keys');
  const { me } = useSession();
  const projects = me.organization?.teams ?? [];
  const keys = useResource((signal) => api.get<PersonalApiKey[]>('/api/personal_api_keys/', { signal }), []);
  const [shown, setShown] = useState<{ key: PersonalApiKey; rolled: boolean } | null>(null);
  const [revoking, setRevoking] = useState<PersonalApiKey | null>(null);
  const [rolling, setRolling] = useState<PersonalApiKey | null>(null);

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
      <KeyForm
        projects={projects}
        onCreated={(key) => {
          setShown({ key, rolled: false });
          keys.reload();
        }}
      />
      {shown?.key.value ? (
        <Alert tone="success">
          <p>
            Key <strong>{shown.key.label}</strong> {shown.rolled ? 'rolled: the old value no longer works.' : 'created.'} Copy it now: it is shown only this
            once.
          </p>
          <div className="link-box">
            <code data-testid="key-value">{shown.key.value}</code>
            <CopyButton text={shown.key.value} />
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
                <th scope="col">Projects</th>
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
                  <td data-label="Key">
                    <span className="mono">{k.mask_value}</span>
                    <div className="muted small" title={dateTime(k.last_rolled_at ?? k.created_at)}>
                      {k.last_rolled_at ? `Rolled ${relativeTime(k.last_rolled_at)}` : `Created ${relativeTime(k.created_at)}`}
                    </div>
                  </td>
                  <td data-label="Scopes">{scopeSummary(k)}</td>
                  <td data-label="Projects">{projectSummary(k, projects)}</td>
                  <td data-label="Last used">{k.last_used_at ? relativeTime(k.last_used_at) : 'Never'}</td>
                  <td className="cell-actions">
                    <div className="button-row">
                      <Button kind="ghost" className="btn-small" onClick={() => setRolling(k)}>
                        Roll<span className="visually-hidden"> {k.label || k.mask_value}</span>
                      </Button>
                      <Button kind="ghost" className="btn-small" onClick={() => setRevoking(k)}>
                        Revoke<span className="visually-hidden"> {k.label || k.mask_value}</span>
                      </Button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <ConfirmDialog
        open={rolling !== null}
        title="Roll this key?"
        confirmLabel="Roll key"
        onClose={() => setRolling(null)}
        onConfirm={async () => {
          const rolled = await api.post<PersonalApiKey>(`/api/personal_api_keys/${rolling!.id}/roll/`);
          setShown({ key: rolled, rolled: true });
          keys.reload();
        }}
      >
        <p>
          <strong>{rolling?.label || rolling?.mask_value}</strong> gets a new value, shown once. Requests with the current value are refused from now on; the
          label, scopes and projects stay.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this key?"
        confirmLabel="Revoke key"
        tone="danger"
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          await api.delete(`/api/personal_api_keys/${revoking!.id}/`);
          if (shown?.key.id === revoking!.id) setShown(null);
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

// A project's settings: name and time zone, the project token (reset) and the secret token (rotate,
// with the previous one kept as a backup until deleted), and creating projects and organizations.
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { isAdmin, useSession } from '../session.tsx';
import { Alert, Button, ConfirmDialog, CopyButton, ErrorState, Field, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import type { Project } from '../types.ts';
import { CreateOrganizationForm, CreateProjectForm } from '../access/CreateForms.tsx';

const TIME_ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];

function GeneralForm({ project, onSaved }: { project: Project; onSaved: (p: Project) => void }) {
  const { refresh } = useSession();
  const [name, setName] = useState(project.name);
  const [timezone, setTimezone] = useState(project.timezone);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<{ attr: string | null; message: string } | null>(null);
  useEffect(() => {
    setName(project.name);
    setTimezone(project.timezone);
  }, [project.name, project.timezone]);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return setError({ attr: 'name', message: 'Enter a name.' });
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      onSaved(await api.patch<Project>(`/api/projects/${project.id}/`, { name: name.trim(), timezone }));
      setSaved(true);
      await refresh();
    } catch (e) {
      setError({ attr: e instanceof ApiError ? e.attr : null, message: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  const zones = TIME_ZONES.includes(project.timezone) ? TIME_ZONES : [project.timezone, ...TIME_ZONES];
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="general-title">
      <h2 id="general-title">General</h2>
      {error && !['name', 'timezone'].includes(error.attr ?? '') ? <Alert>{error.message}</Alert> : null}
      <div className="form-grid">
        <Field label="Project name" error={error?.attr === 'name' ? error.message : null}>
          {(p) => <input {...p} value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Time zone" hint="Date conditions in flags evaluate in this time zone." error={error?.attr === 'timezone' ? error.message : null}>
          {(p) => (
            <select {...p} value={timezone} onChange={(e) => setTimezone(e.target.value)}>
              {zones.map((z) => (
                <option key={z} value={z}>
                  {z}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div className="button-row">
        <Button kind="primary" type="submit" busy={busy}>
          Save
        </Button>
        {saved ? (
          <span className="muted" role="status">
            Saved.
          </span>
        ) : null}
      </div>
    </form>
  );
}

function TokenRow({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="token-row">
      <span className="token-label">{label}</span>
      <div className="link-box">
        <code data-testid={testId}>{value}</code>
        <CopyButton text={value} />
      </div>
    </div>
  );
}

type TokenAction = 'reset_token' | 'rotate_secret_token' | 'delete_secret_token_backup';

const ACTIONS: Record<TokenAction, { title: string; confirm: string; tone: 'primary' | 'danger'; text: string }> = {
  reset_token: {
    title: 'Reset the project token?',
    confirm: 'Reset project token',
    tone: 'danger',
    text: 'Browsers and SDKs sending the current project token get 401 at once, until they are given the new token.',
  },
  rotate_secret_token: {
    title: 'Rotate the secret token?',
    confirm: 'Rotate secret token',
    tone: 'primary',
    text: 'A new secret token is made. The current one is kept as a backup and keeps working, so running server SDKs do not break; delete the backup once they all use the new one.',
  },
  delete_secret_token_backup: {
    title: 'Delete the backup secret token?',
    confirm: 'Delete backup',
    tone: 'danger',
    text: 'Server SDKs still using the previous secret token are refused from now on.',
  },
};

function Tokens({ project, onChanged }: { project: Project; onChanged: (p: Project) => void }) {
  const { me } = useSession();
  const admin = isAdmin(me);
  const [pending, setPending] = useState<TokenAction | null>(null);
  const action = pending ? ACTIONS[pending] : null;
  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title">Tokens</h2>
      <p className="muted">
        The project token identifies this project to SDKs (it is public, e.g. in posthog-js). The secret token lets server SDKs fetch flag definitions for local
        evaluation and remote config without a personal API key.
      </p>
      {!admin ? (
        <Alert tone="info">
          <p data-testid="tokens-reason">Only organization admins and owners can reset or rotate tokens. You are a member of {me.organization?.name}.</p>
        </Alert>
      ) : null}
      <TokenRow label="Project token" value={project.api_token} testId="project-token" />
      <div className="button-row">
        <Button kind="secondary" className="btn-small" disabled={!admin} onClick={() => setPending('reset_token')}>
          Reset project token
        </Button>
      </div>
      {project.secret_api_token ? <TokenRow label="Secret token" value={project.secret_api_token} testId="secret-token" /> : null}
      <div className="button-row">
        <Button kind="secondary" className="btn-small" disabled={!admin} onClick={() => setPending('rotate_secret_token')}>
          Rotate secret token
        </Button>
      </div>
      {project.secret_api_token_backup ? (
        <>
          <TokenRow label="Backup secret token (still accepted)" value={project.secret_api_token_backup} testId="secret-token-backup" />
          <div className="button-row">
            <Button kind="danger" className="btn-small" disabled={!admin} onClick={() => setPending('delete_secret_token_backup')}>
              Delete backup
            </Button>
          </div>
        </>
      ) : null}
      <ConfirmDialog
        open={action !== null}
        title={action?.title ?? ''}
        confirmLabel={action?.confirm ?? ''}
        tone={action?.tone}
        onClose={() => setPending(null)}
        onConfirm={async () => onChanged(await api.patch<Project>(`/api/projects/${project.id}/${pending}/`, {}))}
      >
        <p>{action?.text}</p>
      </ConfirmDialog>
    </section>
  );
}

export function ProjectSettingsPage({ projectId }: { projectId: number }) {
  useDocumentTitle('Project settings');
  const project = useResource((signal) => api.get<Project>(`/api/projects/${projectId}/`, { signal }), [projectId]);
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Project settings</h1>
          <p className="muted">{project.data ? project.data.name : 'This project'}: its name, time zone and tokens.</p>
        </div>
      </div>
      {project.error ? (
        <ErrorState error={project.error} retry={project.reload} />
      ) : !project.data ? (
        <Spinner />
      ) : (
        <>
          <GeneralForm project={project.data} onSaved={project.setData} />
          <Tokens project={project.data} onChanged={project.setData} />
        </>
      )}
      <CreateProjectForm />
      <CreateOrganizationForm />
    </div>
  );
}

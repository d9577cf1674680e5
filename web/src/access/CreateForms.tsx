// Creating a project in the current organization (admins) and a new organization (anyone, who
// becomes its owner). Both become the user's current ones, as in PostHog.
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { navigate } from '../router.tsx';
import { isAdmin, useSession } from '../session.tsx';
import { Alert, Button, Field } from '../components/ui.tsx';
import type { Project } from '../types.ts';

function NameForm({
  id,
  title,
  intro,
  label,
  max,
  action,
  submit,
}: {
  id: string;
  title: string;
  intro: string;
  label: string;
  max: number;
  action: string;
  submit: (name: string) => Promise<void>;
}) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ attr: string | null; message: string } | null>(null);
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return setError({ attr: 'name', message: 'Enter a name.' });
    setBusy(true);
    setError(null);
    try {
      await submit(name.trim());
      setName('');
    } catch (e) {
      setError({ attr: e instanceof ApiError ? e.attr : null, message: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card inline-form" onSubmit={onSubmit} noValidate aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <p className="muted">{intro}</p>
      {error && error.attr !== 'name' ? <Alert>{error.message}</Alert> : null}
      <div className="inline-form-row">
        <Field label={label} error={error?.attr === 'name' ? error.message : null}>
          {(p) => <input {...p} value={name} maxLength={max} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Button kind="primary" type="submit" busy={busy}>
          {action}
        </Button>
      </div>
    </form>
  );
}

export function CreateProjectForm() {
  const { me, refresh } = useSession();
  if (!me.organization) return null;
  if (!isAdmin(me))
    return (
      <section className="card" aria-labelledby="new-project-title">
        <h2 id="new-project-title">New project</h2>
        <p className="muted" data-testid="create-project-reason">
          Only admins and owners of {me.organization.name} can create projects. Ask one of them, or create an organization of your own below.
        </p>
      </section>
    );
  return (
    <NameForm
      id="new-project-title"
      title="New project"
      intro={`A project of ${me.organization.name} with its own flags and tokens.`}
      label="Project name"
      max={200}
      action="Create project"
      submit={async (name) => {
        const project = await api.post<Project>(`/api/organizations/${me.organization!.id}/projects/`, { name });
        await refresh();
        navigate(`/project/${project.id}/settings`);
      }}
    />
  );
}

export function CreateOrganizationForm() {
  const { refresh } = useSession();
  return (
    <NameForm
      id="new-organization-title"
      title="New organization"
      intro="You become its owner, with a first project."
      label="Organization name"
      max={64}
      action="Create organization"
      submit={async (name) => {
        const org = await api.post<{ id: string; teams: Project[] }>('/api/organizations/', { name });
        await refresh();
        navigate(org.teams[0] ? `/project/${org.teams[0].id}/settings` : '/settings/access');
      }}
    />
  );
}

// Creating a personal API key: its label, "all access" or selected scopes (read or write per
// object), and optionally the projects it is limited to.
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { Alert, Button, Field } from '../components/ui.tsx';
import type { PersonalApiKey, ProjectBasic } from '../types.ts';
import { objectLabel, SCOPE_OBJECTS, SERVED_OBJECTS } from './scopes.ts';

type Access = 'none' | 'read' | 'write';

const ORDERED = [...SERVED_OBJECTS, ...SCOPE_OBJECTS.filter((o) => !SERVED_OBJECTS.includes(o))];

export function KeyForm({ projects, onCreated }: { projects: ProjectBasic[]; onCreated: (key: PersonalApiKey) => void }) {
  const [label, setLabel] = useState('');
  const [mode, setMode] = useState<'all' | 'selected'>('all');
  const [levels, setLevels] = useState<Record<string, Access>>({ feature_flag: 'read' });
  const [showAll, setShowAll] = useState(false);
  const [limitProjects, setLimitProjects] = useState(false);
  const [teams, setTeams] = useState<number[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ attr: string | null; message: string } | null>(null);

  const scopes = mode === 'all' ? ['*'] : Object.entries(levels).flatMap(([object, access]) => (access === 'none' ? [] : [`${object}:${access}`]));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!label.trim()) return setError({ attr: 'label', message: 'Give the key a label, e.g. "CI" or "my laptop".' });
    if (!scopes.length) return setError({ attr: 'scopes', message: 'Choose at least one scope, or give the key all access.' });
    if (limitProjects && !teams.length) return setError({ attr: 'scoped_teams', message: 'Choose at least one project, or allow all of them.' });
    setBusy(true);
    setError(null);
    try {
      const created = await api.post<PersonalApiKey>('/api/personal_api_keys/', {
        label: label.trim(),
        scopes,
        ...(limitProjects ? { scoped_teams: teams } : {}),
      });
      onCreated(created);
      setLabel('');
    } catch (e) {
      setError({ attr: e instanceof ApiError ? e.attr : null, message: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (attr: string) => (error?.attr === attr ? error.message : null);
  const visible = showAll ? ORDERED : ORDERED.slice(0, SERVED_OBJECTS.length);

  return (
    <form className="card key-form" onSubmit={submit} noValidate aria-labelledby="new-key-title">
      <h2 id="new-key-title">Create a key</h2>
      {error && !['label', 'scopes', 'scoped_teams'].includes(error.attr ?? '') ? <Alert>{error.message}</Alert> : null}
      <Field label="Label" error={fieldError('label')}>
        {(p) => <input {...p} value={label} maxLength={40} onChange={(e) => setLabel(e.target.value)} placeholder="e.g. CI" />}
      </Field>
      <fieldset aria-describedby={fieldError('scopes') ? 'scopes-error' : undefined}>
        <legend>Scopes</legend>
        <div className="radio-group inline">
          <label>
            <input type="radio" name="key-mode" checked={mode === 'all'} onChange={() => setMode('all')} /> All access
          </label>
          <label>
            <input type="radio" name="key-mode" checked={mode === 'selected'} onChange={() => setMode('selected')} /> Selected scopes
          </label>
        </div>
        {mode === 'all' ? (
          <p className="hint">The key may do everything you may do, in every project you belong to.</p>
        ) : (
          <div className="scope-grid">
            {visible.map((object) => (
              <label key={object} className="scope-row">
                <span>{objectLabel(object)}</span>
                <select value={levels[object] ?? 'none'} onChange={(e) => setLevels({ ...levels, [object]: e.target.value as Access })}>
                  <option value="none">No access</option>
                  <option value="read">Read</option>
                  <option value="write">Write</option>
                </select>
              </label>
            ))}
            <Button kind="ghost" className="btn-small" onClick={() => setShowAll(!showAll)}>
              {showAll ? 'Show only what flaghost serves' : `Show all ${ORDERED.length} objects`}
            </Button>
          </div>
        )}
        {fieldError('scopes') ? (
          <p className="error-text" id="scopes-error" role="alert">
            {fieldError('scopes')}
          </p>
        ) : null}
      </fieldset>
      <fieldset>
        <legend>Projects</legend>
        <label className="check">
          <input type="checkbox" checked={limitProjects} onChange={(e) => setLimitProjects(e.target.checked)} />
          <span>Limit the key to some projects</span>
        </label>
        {limitProjects ? (
          <div className="radio-group">
            {projects.map((p) => (
              <label key={p.id}>
                <input
                  type="checkbox"
                  checked={teams.includes(p.id)}
                  onChange={(e) => setTeams(e.target.checked ? [...teams, p.id] : teams.filter((id) => id !== p.id))}
                />
                {p.name}
              </label>
            ))}
          </div>
        ) : null}
        {fieldError('scoped_teams') ? (
          <p className="error-text" role="alert">
            {fieldError('scoped_teams')}
          </p>
        ) : null}
      </fieldset>
      <Button kind="primary" type="submit" busy={busy}>
        Create key
      </Button>
    </form>
  );
}

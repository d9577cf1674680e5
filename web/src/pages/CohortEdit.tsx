// Creating and editing a cohort: name and description; a dynamic cohort's criteria (groups of
// person-property and cohort conditions), or a static cohort's members from a CSV upload or a
// pasted list of distinct ids (sent as the API takes them: multipart with a `csv` file, or JSON
// `distinct_ids`). API errors show beside the field their `attr` names.
import { useState, type FormEvent } from 'react';
import { api, ApiError, cohortsPath } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { Alert, Button, ErrorState, Field, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { CriteriaEditor } from '../cohort/Criteria.tsx';
import {
  criteriaProblems,
  emptyCohortForm,
  filtersFromForm,
  formFromCohort,
  loadAllCohorts,
  parseDistinctIds,
  type CohortForm,
  type CohortFull,
} from '../cohort/model.ts';

type Source = 'csv' | 'paste';

export function CohortEditPage({ projectId, cohortId }: { projectId: number; cohortId?: number }) {
  const editing = cohortId !== undefined;
  const cohort = useResource(
    (signal) => (editing ? api.get<CohortFull>(cohortsPath(projectId, `${cohortId}/`), { signal }) : Promise.resolve(null)),
    [projectId, cohortId],
  );
  const cohorts = useResource((signal) => loadAllCohorts(projectId, signal), [projectId]);
  useDocumentTitle(editing ? `Edit ${cohort.data?.name ?? 'cohort'}` : 'New cohort');
  if (cohort.error)
    return (
      <div className="page">
        <ErrorState error={cohort.error} retry={cohort.reload} />
      </div>
    );
  if (cohort.loading)
    return (
      <div className="page">
        <Spinner label="Loading the cohort…" />
      </div>
    );
  return (
    <Editor key={cohort.data?.id ?? 'new'} projectId={projectId} cohort={cohort.data ?? null} cohorts={(cohorts.data ?? []).filter((c) => c.id !== cohortId)} />
  );
}

function Editor({ projectId, cohort, cohorts }: { projectId: number; cohort: CohortFull | null; cohorts: CohortFull[] }) {
  const [form, setFormState] = useState<CohortForm>(() => (cohort ? formFromCohort(cohort) : emptyCohortForm()));
  const setForm = (update: (f: CohortForm) => CohortForm) => setFormState(update);
  const [source, setSource] = useState<Source>('csv');
  const [file, setFile] = useState<File | null>(null);
  const [pasted, setPasted] = useState('');
  const [attempted, setAttempted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<{ attr: string | null; message: string } | null>(null);

  const ids = parseDistinctIds(pasted);
  // A new static cohort needs members; an existing one may get more.
  const membersProblem =
    form.isStatic && !cohort ? (source === 'csv' ? (file ? null : 'Choose a CSV file.') : ids.length ? null : 'Paste at least one distinct id.') : null;
  const nameProblem = attempted && !form.name.trim() ? 'Give the cohort a name.' : null;
  const problems = [...(form.name.trim() ? [] : ['The cohort needs a name.']), ...criteriaProblems(form), ...(membersProblem ? [membersProblem] : [])];
  const attr = serverError?.attr ?? null;
  const errorFor = (name: string) => (serverError && attr === name ? serverError.message : null);
  const formError = serverError && !['name', 'description', 'filters', 'csv', 'distinct_ids'].includes(attr ?? '') ? serverError.message : null;

  const body = (): FormData | Record<string, unknown> => {
    const fields: Record<string, unknown> = { name: form.name.trim(), description: form.description };
    if (!form.isStatic) return form.unsupported ? fields : { ...fields, filters: filtersFromForm(form) };
    if (!cohort) fields.is_static = true;
    if (source === 'paste') return ids.length ? { ...fields, distinct_ids: ids } : fields;
    if (!file) return fields;
    const data = new FormData();
    for (const [k, v] of Object.entries(fields)) data.append(k, String(v));
    data.append('csv', file, file.name);
    return data;
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    if (problems.length) {
      requestAnimationFrame(() => document.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    setSaving(true);
    setServerError(null);
    try {
      const saved = cohort
        ? await api.patch<CohortFull>(cohortsPath(projectId, `${cohort.id}/`), body())
        : await api.post<CohortFull>(cohortsPath(projectId), body());
      navigate(`/project/${projectId}/cohorts/${saved.id}`);
    } catch (e) {
      setServerError({ attr: e instanceof ApiError ? e.attr : null, message: (e as Error).message });
    } finally {
      setSaving(false);
    }
  };

  const cancelTo = cohort ? `/project/${projectId}/cohorts/${cohort.id}` : `/project/${projectId}/cohorts`;
  const membersError = errorFor('csv') ?? errorFor('distinct_ids') ?? (attempted ? membersProblem : null);

  return (
    <form className="page editor" onSubmit={submit} noValidate>
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to={`/project/${projectId}/cohorts`}>Cohorts</Link>
        <span aria-hidden="true">/</span>
        {cohort ? <Link to={cancelTo}>{cohort.name || `Cohort ${cohort.id}`}</Link> : <span>New</span>}
      </nav>
      <div className="page-header">
        <h1>{cohort ? `Edit ${cohort.name || `cohort ${cohort.id}`}` : 'New cohort'}</h1>
      </div>
      {formError ? <Alert>{formError}</Alert> : null}

      <section className="card" aria-labelledby="sec-basics">
        <h2 id="sec-basics">Basics</h2>
        <Field label="Name" error={nameProblem ?? errorFor('name')}>
          {(p) => (
            <input
              {...p}
              value={form.name}
              placeholder="e.g. Beta testers"
              onChange={(e) => setForm((f) => ({ ...f, name: e.target.value }))}
              autoFocus={!cohort}
            />
          )}
        </Field>
        <Field label="Description" error={errorFor('description')}>
          {(p) => (
            <textarea
              {...p}
              rows={2}
              value={form.description}
              placeholder="Who is in it and why (optional)"
              onChange={(e) => setForm((f) => ({ ...f, description: e.target.value }))}
            />
          )}
        </Field>
        {cohort ? (
          <p className="muted">{cohort.is_static ? 'Static cohort: a fixed list of persons.' : 'Dynamic cohort: persons who match the criteria.'}</p>
        ) : (
          <fieldset className="radio-group">
            <legend>Type</legend>
            <label>
              <input type="radio" name="kind" checked={!form.isStatic} onChange={() => setForm((f) => ({ ...f, isStatic: false }))} />
              Dynamic: persons whose properties match criteria, updated as they change
            </label>
            <label>
              <input type="radio" name="kind" checked={form.isStatic} onChange={() => setForm((f) => ({ ...f, isStatic: true }))} />
              Static: a fixed list of persons, from a CSV file or pasted distinct ids
            </label>
          </fieldset>
        )}
      </section>

      {form.isStatic ? (
        <section className="card" aria-labelledby="sec-members">
          <h2 id="sec-members">{cohort ? 'Add persons' : 'Persons'}</h2>
          <p className="muted section-intro">
            A CSV with one column of distinct ids, or with a <span className="mono">distinct_id</span>, <span className="mono">person_id</span> or{' '}
            <span className="mono">email</span> column. Distinct ids never seen get a new person.
            {cohort ? ' Persons already in the cohort stay.' : ''}
          </p>
          <fieldset className="radio-group">
            <legend>Source</legend>
            <label>
              <input type="radio" name="source" checked={source === 'csv'} onChange={() => setSource('csv')} />
              Upload a CSV file
            </label>
            <label>
              <input type="radio" name="source" checked={source === 'paste'} onChange={() => setSource('paste')} />
              Paste distinct ids
            </label>
          </fieldset>
          {source === 'csv' ? (
            <Field label="CSV file" error={membersError}>
              {(p) => <input {...p} type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />}
            </Field>
          ) : (
            <Field
              label="Distinct ids"
              hint={`One per line or separated by commas.${ids.length ? ` ${ids.length} distinct id${ids.length === 1 ? '' : 's'}.` : ''}`}
              error={membersError}
            >
              {(p) => <textarea {...p} className="mono" rows={6} value={pasted} placeholder={'user-1\nuser-2'} onChange={(e) => setPasted(e.target.value)} />}
            </Field>
          )}
        </section>
      ) : (
        <section className="card" aria-labelledby="sec-criteria">
          <h2 id="sec-criteria">Criteria</h2>
          {form.unsupported ? (
            <Alert tone="info">
              These criteria use filters the console cannot edit (events, or groups nested deeper than two levels). They are kept as they are; change them
              through the API.
            </Alert>
          ) : (
            <CriteriaEditor form={form} setForm={setForm} cohorts={cohorts} attempted={attempted} error={errorFor('filters')} />
          )}
        </section>
      )}

      <div className="form-footer">
        {attempted && problems.length ? (
          <div className="footer-problems" role="alert">
            {problems.length === 1 ? problems[0] : `${problems.length} things need fixing: ${problems.join(' ')}`}
          </div>
        ) : (
          <span />
        )}
        <div className="button-row">
          <Link to={cancelTo} className="btn btn-secondary">
            Cancel
          </Link>
          <Button kind="primary" type="submit" busy={saving}>
            {cohort ? 'Save changes' : 'Create cohort'}
          </Button>
        </div>
      </div>
    </form>
  );
}

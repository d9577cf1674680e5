// Creating and editing a flag: every field the API accepts, inline validation, API errors beside
// the field their `attr` names, and the version check (409) with reload or re-apply.
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, flagsPath } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { Alert, Button, ChipsInput, ErrorState, Field, Spinner, Switch } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { jsonProblem } from '../components/JsonEditor.tsx';
import type { Cohort, FeatureFlag, GroupType, Page } from '../types.ts';
import { bodyFromForm, emptyForm, formFromFlag, loadAllFlags, type FlagForm } from '../flag/model.ts';
import { ConditionsEditor, groupProblems } from '../flag/Conditions.tsx';
import { VariantsEditor, variantProblems } from '../flag/Variants.tsx';
import { changedFields, ConflictDialog } from '../flag/Conflict.tsx';
import { ReadOnlyNotice } from '../access/FlagAccess.tsx';

const KEY_PATTERN = /^[a-zA-Z0-9_-]+$/;

/** The API's own messages for a key, checked as the user types. */
function keyProblem(key: string, attempted: boolean): string | null {
  if (!key.trim()) return attempted ? 'This field is required.' : null;
  if (key.length > 400) return 'Ensure this field has no more than 400 characters.';
  if (!KEY_PATTERN.test(key)) return 'Only letters, numbers, hyphens (-) & underscores (_) are allowed.';
  return null;
}

interface ServerError {
  attr: string | null;
  message: string;
}

/** Which section an API error belongs to: its `attr`, and for `filters` what the message is about. */
function errorSlot(error: ServerError | null): string | null {
  if (!error) return null;
  if (error.attr === 'filters') {
    if (/payload/i.test(error.message)) return 'payloads';
    if (/variant/i.test(error.message)) return 'variants';
    return 'filters';
  }
  if (error.attr && ['key', 'name', 'tags', 'evaluation_tags', 'evaluation_runtime', 'ensure_experience_continuity'].includes(error.attr)) return error.attr;
  if (!error.attr && /evaluation tag/i.test(error.message)) return 'evaluation_tags';
  if (!error.attr && /variant/i.test(error.message)) return 'variants';
  if (!error.attr && /release conditions|condition set|depend/i.test(error.message)) return 'filters';
  return 'form';
}

export function FlagEditPage({ projectId, flagId }: { projectId: number; flagId?: number }) {
  const editing = flagId !== undefined;
  const flag = useResource(
    (signal) => (editing ? api.get<FeatureFlag>(flagsPath(projectId, `${flagId}/`), { signal }) : Promise.resolve(null)),
    [projectId, flagId],
  );
  const cohorts = useResource(
    async (signal) => (await api.get<Page<Cohort>>(`/api/projects/${projectId}/cohorts/?limit=500`, { signal })).results.filter((c) => !c.deleted),
    [projectId],
  );
  const groupTypes = useResource(
    (signal) => api.get<GroupType[]>(`/api/projects/${projectId}/groups_types/`, { signal }).catch(() => [] as GroupType[]),
    [projectId],
  );
  const flags = useResource((signal) => loadAllFlags(projectId, signal), [projectId]);
  useDocumentTitle(editing ? `Edit ${flag.data?.key ?? 'flag'}` : 'New feature flag');

  if (flag.error)
    return (
      <div className="page">
        <ErrorState error={flag.error} retry={flag.reload} />
      </div>
    );
  if (flag.loading)
    return (
      <div className="page">
        <Spinner label="Loading the flag…" />
      </div>
    );
  return (
    <Editor
      key={flag.data?.id ?? 'new'}
      projectId={projectId}
      flag={flag.data ?? null}
      cohorts={cohorts.data ?? []}
      groupTypes={groupTypes.data ?? []}
      flags={(flags.data ?? []).filter((f) => f.id !== flagId)}
      tagSuggestions={[...new Set((flags.data ?? []).flatMap((f) => f.tags))].sort()}
    />
  );
}

function Editor({
  projectId,
  flag: initial,
  cohorts,
  groupTypes,
  flags,
  tagSuggestions,
}: {
  projectId: number;
  flag: FeatureFlag | null;
  cohorts: Cohort[];
  groupTypes: GroupType[];
  flags: FeatureFlag[];
  tagSuggestions: string[];
}) {
  const [flag, setFlag] = useState<FeatureFlag | null>(initial);
  const [form, setFormState] = useState<FlagForm>(() => (initial ? formFromFlag(initial) : emptyForm()));
  const [attempted, setAttempted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<ServerError | null>(null);
  const [conflict, setConflict] = useState<{ latest: FeatureFlag | null; mine: Record<string, unknown> } | null>(null);
  const [dirty, setDirty] = useState(false);
  const setForm = (update: (f: FlagForm) => FlagForm) => {
    setFormState(update);
    setDirty(true);
  };

  // Leaving with unsaved changes asks first.
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const slot = errorSlot(serverError);
  const errorFor = (name: string) => (slot === name ? serverError!.message : null);
  const keyError = keyProblem(form.key, attempted) ?? errorFor('key');
  const payloadProblems = [form.booleanPayload, ...form.variants.map((v) => v.payload)]
    .filter((_, i) => (form.multivariate ? i > 0 : i === 0))
    .some((t) => jsonProblem(t));
  const badEvalTags = form.evaluationTags.filter((t) => !form.tags.includes(t));
  const problems = [
    ...(keyProblem(form.key, true) ? ['The key needs fixing.'] : []),
    ...variantProblems(form),
    ...(payloadProblems ? ['A payload is not valid JSON.'] : []),
    ...groupProblems(form),
    ...(badEvalTags.length ? ['Evaluation tags must also be tags.'] : []),
  ];

  const finish = (saved: FeatureFlag) => {
    setDirty(false);
    navigate(`/project/${projectId}/flags/${saved.id}`);
  };

  const send = async (body: Record<string, unknown>, base: FeatureFlag | null) => {
    setSaving(true);
    setServerError(null);
    try {
      if (!base) return finish(await api.post<FeatureFlag>(flagsPath(projectId), body));
      return finish(await api.patch<FeatureFlag>(flagsPath(projectId, `${base.id}/`), { ...body, version: base.version, original_flag: base }));
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && base) {
        // biome-ignore lint/plugin: the conflict dialog works without the latest version (it says "someone else", and Reload starts over)
        const latest = await api.get<FeatureFlag>(flagsPath(projectId, `${base.id}/`)).catch(() => null);
        setConflict({ latest, mine: body });
      } else {
        setServerError({ attr: e instanceof ApiError ? e.attr : null, message: (e as Error).message });
        requestAnimationFrame(() => document.querySelector<HTMLElement>('[aria-invalid="true"], .section-error, .alert')?.focus?.());
      }
    } finally {
      setSaving(false);
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    if (problems.length) {
      requestAnimationFrame(() => document.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    await send(bodyFromForm(form, flag ?? undefined), flag);
  };

  const reapply = async () => {
    if (!conflict?.latest || !flag) return;
    const latest = conflict.latest;
    // Only the fields this user changed go on top of the other user's version.
    const mine = changedFields(flag as unknown as Record<string, unknown>, conflict.mine);
    const body = Object.fromEntries(mine.map((f) => [f, conflict.mine[f]]));
    setConflict(null);
    setFlag(latest);
    await send(body, latest);
  };

  const reload = () => {
    if (!conflict?.latest) return setConflict(null);
    setFlag(conflict.latest);
    setFormState(formFromFlag(conflict.latest));
    setDirty(false);
    setServerError(null);
    setConflict(null);
  };

  const cancelTo = flag ? `/project/${projectId}/flags/${flag.id}` : `/project/${projectId}/flags`;

  return (
    <form className="page editor" onSubmit={submit} noValidate>
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to={`/project/${projectId}/flags`}>Feature flags</Link>
        <span aria-hidden="true">/</span>
        {flag ? <Link to={cancelTo}>{flag.key}</Link> : <span>New</span>}
      </nav>
      <div className="page-header">
        <h1>{flag ? `Edit ${flag.key}` : 'New feature flag'}</h1>
      </div>
      {flag ? <ReadOnlyNotice projectId={projectId} flag={flag} /> : null}

      {slot === 'form' ? <Alert>{serverError!.message}</Alert> : null}
      {flag?.deleted ? <Alert tone="warning">This flag is deleted. Restore it from its page before it is evaluated again.</Alert> : null}

      <section className="card" aria-labelledby="sec-basics">
        <h2 id="sec-basics">Basics</h2>
        <Field label="Key" hint="Your code asks for the flag by this key. Letters, numbers, hyphens and underscores." error={keyError}>
          {(p) => (
            <input
              {...p}
              className="mono"
              autoComplete="off"
              spellCheck={false}
              value={form.key}
              placeholder="e.g. new-checkout"
              onChange={(e) => setForm((f) => ({ ...f, key: e.target.value }))}
              autoFocus={!flag}
            />
          )}
        </Field>
        <Field label="Description" error={errorFor('name')}>
          {(p) => (
            <textarea
              {...p}
              rows={2}
              value={form.name}
              placeholder="What this flag controls (optional)"
              onChange={(e) => setForm((f) => ({ ...f, name: e.target.value }))}
            />
          )}
        </Field>
        <Field label="Tags" hint="Press Enter after each tag." error={errorFor('tags')}>
          {(p) => (
            <ChipsInput
              {...p}
              values={form.tags}
              suggestions={tagSuggestions}
              placeholder="Add a tag"
              onChange={(tags) => setForm((f) => ({ ...f, tags: tags.map((t) => t.toLowerCase()) }))}
            />
          )}
        </Field>
        <div className="switch-field">
          <Switch checked={form.active} label="Enabled" onChange={(active) => setForm((f) => ({ ...f, active }))} />
          <span>{form.active ? 'Enabled: served to users who match the release conditions' : 'Disabled: evaluates to false for everyone'}</span>
        </div>
      </section>

      <section className="card" aria-labelledby="sec-value">
        <h2 id="sec-value">Variants and payloads</h2>
        <VariantsEditor form={form} setForm={setForm} variantsError={errorFor('variants')} payloadError={errorFor('payloads')} />
      </section>

      <section className="card" aria-labelledby="sec-conditions">
        <h2 id="sec-conditions">Release conditions</h2>
        <p className="muted section-intro">A user gets the flag when they match any condition set and fall within its rollout.</p>
        <ConditionsEditor
          form={form}
          setForm={setForm}
          cohorts={cohorts}
          flags={flags}
          groupTypes={groupTypes}
          error={errorFor('filters')}
          attempted={attempted}
          projectId={projectId}
        />
      </section>

      <section className="card" aria-labelledby="sec-advanced">
        <h2 id="sec-advanced">Evaluation</h2>
        <label className="check">
          <input type="checkbox" checked={form.persist} onChange={(e) => setForm((f) => ({ ...f, persist: e.target.checked }))} />
          <span>
            Persist flag across authentication steps
            <span className="hint">A user keeps the value they got while anonymous after they sign in.</span>
          </span>
        </label>
        <label className="check">
          <input type="checkbox" checked={form.remoteConfig} onChange={(e) => setForm((f) => ({ ...f, remoteConfig: e.target.checked }))} />
          <span>
            Remote configuration
            <span className="hint">Serve the payload as configuration (fetched with remote_config) instead of evaluating per user.</span>
          </span>
        </label>
        <fieldset className="radio-group">
          <legend>Evaluation runtime</legend>
          {(
            [
              ['all', 'Server and client'],
              ['server', 'Server only'],
              ['client', 'Client only'],
            ] as const
          ).map(([value, text]) => (
            <label key={value}>
              <input type="radio" name="runtime" value={value} checked={form.runtime === value} onChange={() => setForm((f) => ({ ...f, runtime: value }))} />
              {text}
            </label>
          ))}
          {errorFor('evaluation_runtime') ? (
            <p className="error-text" role="alert">
              {errorFor('evaluation_runtime')}
            </p>
          ) : null}
        </fieldset>
        <Field
          label="Evaluation tags"
          hint="Only SDKs that send one of these evaluation contexts evaluate the flag. Each must also be a tag."
          error={
            badEvalTags.length
              ? `Evaluation tags must be a subset of tags. Invalid evaluation tags: ${badEvalTags.sort().join(', ')}`
              : errorFor('evaluation_tags')
          }
        >
          {(p) => (
            <ChipsInput
              {...p}
              values={form.evaluationTags}
              suggestions={form.tags}
              placeholder="Add an evaluation tag"
              onChange={(evaluationTags) => setForm((f) => ({ ...f, evaluationTags: evaluationTags.map((t) => t.toLowerCase()) }))}
            />
          )}
        </Field>
      </section>

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
          <Button kind="primary" type="submit" busy={saving} disabled={flag ? !flag.can_edit : false}>
            {flag ? 'Save changes' : 'Create flag'}
          </Button>
        </div>
      </div>

      {conflict && flag ? (
        <ConflictDialog
          original={flag}
          latest={conflict.latest}
          mine={conflict.mine}
          busy={saving}
          onReload={reload}
          onReapply={() => void reapply()}
          onClose={() => setConflict(null)}
        />
      ) : null}
    </form>
  );
}

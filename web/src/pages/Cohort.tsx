// One cohort: what defines it (criteria or a fixed list), its members a page at a time (from
// GET …/cohorts/:id/persons/), the flags that target it, and a soft delete that names the cohort and
// shows the API's refusal when a flag or another cohort still uses it.
import { useState } from 'react';
import { api, cohortsPath, query } from '../api.ts';
import { Link, navigate, setSearch, useLocation } from '../router.tsx';
import { Alert, Badge, Button, ConfirmDialog, EmptyState, ErrorState, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { dateTime, flagStatus, userName } from '../format.ts';
import { loadAllFlags } from '../flag/model.ts';
import { CriteriaSummary } from '../cohort/Summary.tsx';
import { flagsUsingCohort, formFromCohort, loadAllCohorts, type CohortFull, type CohortPersonsPage } from '../cohort/model.ts';

const MEMBERS_PAGE = 20;

function Members({ projectId, cohort }: { projectId: number; cohort: CohortFull }) {
  const { search } = useLocation();
  const page = Math.max(1, Number(search.get('page')) || 1);
  const members = useResource(
    (signal) =>
      api.get<CohortPersonsPage>(cohortsPath(projectId, `${cohort.id}/persons/`) + query({ limit: MEMBERS_PAGE, offset: (page - 1) * MEMBERS_PAGE }), {
        signal,
      }),
    [projectId, cohort.id, page],
  );
  const results = members.data?.results ?? [];
  return (
    <section className="card" aria-labelledby="members-title">
      <h2 id="members-title">Persons in this cohort</h2>
      <p className="muted section-intro">
        {cohort.is_static
          ? `${(cohort.count ?? 0).toLocaleString('en')} persons, newest first.`
          : 'Persons whose stored properties match the criteria now, newest first (found among the 50,000 newest persons).'}
      </p>
      {members.error ? (
        <ErrorState error={members.error} retry={members.reload} />
      ) : members.loading && !members.data ? (
        <Spinner label="Finding the persons…" />
      ) : results.length === 0 && page === 1 ? (
        <EmptyState title="Nobody yet">{cohort.is_static ? 'Add persons by editing the cohort.' : 'No known person matches the criteria.'}</EmptyState>
      ) : (
        <>
          <div className={`table-wrap${members.loading ? ' is-refreshing' : ''}`} aria-busy={members.loading}>
            <table className="table cards-table">
              <caption className="visually-hidden">Persons in this cohort</caption>
              <thead>
                <tr>
                  <th scope="col">Person</th>
                  <th scope="col">Distinct ids</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {results.map((p) => (
                  <tr key={p.uuid}>
                    <td data-label="Person" className="cell-wide">
                      <Link to={`/project/${projectId}/persons/${p.uuid}`}>{p.name}</Link>
                    </td>
                    <td data-label="Distinct ids" className="mono cell-wide">
                      {p.distinct_ids.join(', ')}
                    </td>
                    <td data-label="Created">{dateTime(p.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pagination" aria-label="Member pages">
            <span className="muted" aria-live="polite">
              Page {page}
            </span>
            <div className="pagination-buttons">
              <Button disabled={page <= 1} onClick={() => setSearch({ page: page > 2 ? String(page - 1) : undefined }, { replace: false })}>
                Previous
              </Button>
              <Button disabled={!members.data?.next} onClick={() => setSearch({ page: String(page + 1) }, { replace: false })}>
                Next
              </Button>
            </div>
          </nav>
        </>
      )}
    </section>
  );
}

export function CohortPage({ projectId, cohortId }: { projectId: number; cohortId: number }) {
  const cohort = useResource((signal) => api.get<CohortFull>(cohortsPath(projectId, `${cohortId}/`), { signal }), [projectId, cohortId]);
  const flags = useResource((signal) => loadAllFlags(projectId, signal), [projectId]);
  const cohorts = useResource((signal) => loadAllCohorts(projectId, signal), [projectId]);
  const [deleting, setDeleting] = useState(false);
  const [restoreError, setRestoreError] = useState<string | null>(null);
  useDocumentTitle(cohort.data?.name || 'Cohort');

  if (cohort.error)
    return (
      <div className="page">
        <ErrorState error={cohort.error} retry={cohort.reload} />
      </div>
    );
  if (!cohort.data)
    return (
      <div className="page">
        <Spinner label="Loading the cohort…" />
      </div>
    );
  const c = cohort.data;
  const title = c.name || `Cohort ${c.id}`;
  const using = flags.data && cohorts.data ? flagsUsingCohort(c.id, flags.data, cohorts.data) : undefined;

  const restore = async () => {
    setRestoreError(null);
    try {
      cohort.setData(await api.patch<CohortFull>(cohortsPath(projectId, `${c.id}/`), { deleted: false }));
    } catch (e) {
      setRestoreError((e as Error).message);
    }
  };

  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to={`/project/${projectId}/cohorts`}>Cohorts</Link>
        <span aria-hidden="true">/</span>
        <span aria-current="page">{title}</span>
      </nav>
      <div className="page-header flag-header">
        <div className="flag-title">
          <h1>{title}</h1>
          <div className="flag-meta">
            {c.is_static ? <Badge tone="info">Static</Badge> : <Badge>Dynamic</Badge>}
            {c.deleted ? <Badge tone="danger">Deleted</Badge> : null}
            <span className="muted">
              Created {dateTime(c.created_at)}
              {c.created_by ? ` by ${userName(c.created_by)}` : ''}
            </span>
          </div>
          {c.description ? <p className="flag-description">{c.description}</p> : null}
        </div>
        <div className="flag-actions">
          {c.deleted ? (
            <Button kind="primary" onClick={() => void restore()}>
              Restore
            </Button>
          ) : (
            <>
              <Link to={`/project/${projectId}/cohorts/${c.id}/edit`} className="btn btn-primary">
                Edit
              </Link>
              <Button kind="danger" onClick={() => setDeleting(true)}>
                Delete
              </Button>
            </>
          )}
        </div>
      </div>
      {c.deleted ? <Alert tone="warning">This cohort is deleted: flags can no longer use it. Restore it to use it again.</Alert> : null}
      {restoreError ? <Alert>{restoreError}</Alert> : null}

      <div className="overview">
        <div className="summary">
          {!c.is_static ? (
            <section className="card" aria-labelledby="criteria-title">
              <h2 id="criteria-title">Criteria</h2>
              <CriteriaSummary projectId={projectId} form={formFromCohort(c)} cohorts={cohorts.data ?? []} />
            </section>
          ) : null}
          <Members projectId={projectId} cohort={c} />
        </div>
        <section className="card" aria-labelledby="used-title">
          <h2 id="used-title">Used by flags</h2>
          {flags.error || cohorts.error ? (
            <ErrorState error={flags.error || cohorts.error} retry={flags.error ? flags.reload : cohorts.reload} />
          ) : !using ? (
            <Spinner label="Looking for flags…" />
          ) : using.length === 0 ? (
            <p className="muted">No flag has a condition on this cohort, or on a cohort that includes it.</p>
          ) : (
            <ul className="plain-list">
              {using.map((f) => (
                <li key={f.id}>
                  <Link to={`/project/${projectId}/flags/${f.id}`} className="mono">
                    {f.key}
                  </Link>
                  <Badge tone={flagStatus(f).tone}>{flagStatus(f).label}</Badge>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>

      <ConfirmDialog
        open={deleting}
        title="Delete this cohort?"
        confirmLabel={`Delete ${title}`}
        tone="danger"
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          await api.patch<CohortFull>(cohortsPath(projectId, `${c.id}/`), { deleted: true });
          navigate(`/project/${projectId}/cohorts`);
        }}
      >
        <p>
          <strong>{title}</strong> leaves the cohort list and can no longer be chosen in flag conditions. A cohort that an active flag or another cohort uses
          cannot be deleted: remove it from them first.
        </p>
      </ConfirmDialog>
    </div>
  );
}

// One person: properties, distinct ids, every flag's value for them with the reason (from
// GET …/feature_flags/evaluation_reasons/ with their first distinct id), and deletion with a
// confirmation that lists what the API removes.
import { useState } from 'react';
import { api, flagsPath, personsPath, query } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { Badge, Button, ConfirmDialog, EmptyState, ErrorState, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { dateTime } from '../format.ts';
import { loadAllFlags } from '../flag/model.ts';
import { propertyText, reasonText, type EvaluationReasons, type Person } from '../person/model.ts';

function FlagValues({ projectId, distinctId }: { projectId: number; distinctId: string }) {
  const reasons = useResource(
    (signal) => api.get<EvaluationReasons>(flagsPath(projectId, 'evaluation_reasons/') + query({ distinct_id: distinctId }), { signal }),
    [projectId, distinctId],
  );
  const flags = useResource((signal) => loadAllFlags(projectId, signal), [projectId]);
  const idOf = new Map((flags.data ?? []).map((f) => [f.key, f.id]));
  const entries = Object.entries(reasons.data ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section className="card" aria-labelledby="flags-title">
      <h2 id="flags-title">Feature flags</h2>
      <p className="muted section-intro">
        What each flag evaluates to for <span className="mono">{distinctId}</span> with the stored properties, and why.
      </p>
      {reasons.error ? (
        <ErrorState error={reasons.error} retry={reasons.reload} />
      ) : !reasons.data ? (
        <Spinner label="Evaluating flags…" />
      ) : entries.length === 0 ? (
        <EmptyState title="No flags">This project has no feature flags yet.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table cards-table" data-testid="person-flags">
            <caption className="visually-hidden">Flag values for this person</caption>
            <thead>
              <tr>
                <th scope="col">Flag</th>
                <th scope="col">Value</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {entries.map(([key, r]) => (
                <tr key={key} data-flag={key}>
                  <td data-label="Flag" className="cell-wide">
                    {idOf.has(key) ? (
                      <Link to={`/project/${projectId}/flags/${idOf.get(key)}`} className="mono">
                        {key}
                      </Link>
                    ) : (
                      <span className="mono">{key}</span>
                    )}
                  </td>
                  <td data-label="Value">
                    <Badge tone={r.value === false ? 'neutral' : 'success'}>{String(r.value)}</Badge>
                  </td>
                  <td data-label="Reason">{reasonText(r.evaluation.reason, r.evaluation.condition_index)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function PersonPage({ projectId, personId }: { projectId: number; personId: string }) {
  const person = useResource((signal) => api.get<Person>(personsPath(projectId, `${encodeURIComponent(personId)}/`), { signal }), [projectId, personId]);
  const [deleting, setDeleting] = useState(false);
  useDocumentTitle(person.data?.name ?? 'Person');

  if (person.error)
    return (
      <div className="page">
        <ErrorState error={person.error} retry={person.reload} />
      </div>
    );
  if (!person.data)
    return (
      <div className="page">
        <Spinner label="Loading the person…" />
      </div>
    );
  const p = person.data;
  const properties = Object.entries(p.properties).sort(([a], [b]) => a.localeCompare(b));
  const ids = p.distinct_ids.length;

  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to={`/project/${projectId}/persons`}>People</Link>
        <span aria-hidden="true">/</span>
        <span aria-current="page">{p.name}</span>
      </nav>
      <div className="page-header flag-header">
        <div className="flag-title">
          <h1 className="person-name">{p.name}</h1>
          <div className="flag-meta">
            <span className="muted">Created {dateTime(p.created_at)}</span>
            <span className="muted mono small">{p.uuid}</span>
          </div>
        </div>
        <div className="flag-actions">
          <Button kind="danger" onClick={() => setDeleting(true)}>
            Delete person
          </Button>
        </div>
      </div>

      <div className="overview">
        <div className="summary">
          {p.distinct_ids.length ? (
            <FlagValues projectId={projectId} distinctId={p.distinct_ids[0]} />
          ) : (
            <EmptyState title="No distinct id">Flags are evaluated for a distinct id, and this person has none.</EmptyState>
          )}
          <section className="card" aria-labelledby="props-title">
            <h2 id="props-title">Properties</h2>
            {properties.length === 0 ? (
              <p className="muted">No properties: set them with $set, $set_once or $identify events.</p>
            ) : (
              <dl className="details person-properties">
                {properties.map(([key, value]) => (
                  <div key={key} className="details-row">
                    <dt className="mono">{key}</dt>
                    <dd className="mono">{propertyText(value)}</dd>
                  </div>
                ))}
              </dl>
            )}
          </section>
        </div>
        <section className="card" aria-labelledby="ids-title">
          <h2 id="ids-title">Distinct ids</h2>
          <ul className="plain-list">
            {p.distinct_ids.map((id) => (
              <li key={id} className="mono">
                {id}
              </li>
            ))}
          </ul>
        </section>
      </div>

      <ConfirmDialog
        open={deleting}
        title="Delete this person?"
        confirmLabel={`Delete ${p.name}`}
        tone="danger"
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          await api.delete(personsPath(projectId, `${p.uuid}/`));
          navigate(`/project/${projectId}/persons`);
        }}
      >
        <p>
          This deletes <strong>{p.name}</strong> for good:
        </p>
        <ul className="delete-list">
          <li>the person and its {properties.length} properties;</li>
          <li>
            its {ids} distinct id{ids === 1 ? '' : 's'}
            {ids ? (
              <>
                {' '}
                (<span className="mono">{p.distinct_ids.slice(0, 3).join(', ')}</span>
                {ids > 3 ? `, and ${ids - 3} more` : ''})
              </>
            ) : null}
            ;
          </li>
          <li>its memberships of static cohorts (their counts go down);</li>
          <li>the flag values kept for it by "persist flag across authentication steps";</li>
          <li>its part in the unique-user counts of flag usage.</li>
        </ul>
        <p>If an SDK sends events for one of these distinct ids again, a new person starts with no properties.</p>
      </ConfirmDialog>
    </div>
  );
}

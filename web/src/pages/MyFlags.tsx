// My flags: every flag's value for the signed-in user (my_flags evaluates them for the user's own
// distinct id, with the person's stored properties, as /flags would).
import { useState } from 'react';
import { api, flagsPath } from '../api.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { Badge, EmptyState, ErrorState, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';

interface MyFlag {
  feature_flag: { id: number; key: string; name: string; active: boolean };
  value: boolean | string;
}

function Value({ value, active }: { value: boolean | string; active: boolean }) {
  if (typeof value === 'string')
    return (
      <Badge tone="info">
        <span className="mono">{value}</span>
      </Badge>
    );
  if (value) return <Badge tone="success">true</Badge>;
  return <Badge tone="neutral">{active ? 'false' : 'false (disabled)'}</Badge>;
}

export function MyFlagsPage({ projectId }: { projectId: number }) {
  useDocumentTitle('My flags');
  const { me } = useSession();
  const flags = useResource((signal) => api.get<MyFlag[]>(flagsPath(projectId, 'my_flags/'), { signal }), [projectId]);
  const [search, setSearch] = useState('');
  const needle = search.trim().toLowerCase();
  const shown = (flags.data ?? []).filter(
    (f) => !needle || f.feature_flag.key.toLowerCase().includes(needle) || f.feature_flag.name.toLowerCase().includes(needle),
  );
  const on = (flags.data ?? []).filter((f) => f.value !== false).length;

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>My flags</h1>
          <p className="muted">
            What each flag evaluates to for you, as distinct id <span className="mono">{me.distinct_id}</span>, with the properties stored for you.
          </p>
        </div>
      </div>
      {flags.error ? (
        <ErrorState error={flags.error} retry={flags.reload} />
      ) : flags.loading && !flags.data ? (
        <Spinner label="Evaluating flags…" />
      ) : !flags.data!.length ? (
        <EmptyState
          title="No feature flags yet"
          action={
            <Link to={`/project/${projectId}/flags/new`} className="btn btn-primary">
              Create a flag
            </Link>
          }
        >
          Once the project has flags, their values for you show here.
        </EmptyState>
      ) : (
        <>
          <div className="toolbar" role="search">
            <label className="visually-hidden" htmlFor="my-flags-search">
              Search flags
            </label>
            <input
              id="my-flags-search"
              type="search"
              className="toolbar-search"
              placeholder="Search by key or description"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
            <span className="muted" aria-live="polite">
              {on} of {flags.data!.length} on for you
            </span>
          </div>
          {shown.length ? (
            <div className="table-wrap">
              <table className="table flags-table my-flags-table">
                <caption className="visually-hidden">Your flag values</caption>
                <thead>
                  <tr>
                    <th scope="col">Flag</th>
                    <th scope="col">Your value</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map(({ feature_flag: flag, value }) => (
                    <tr key={flag.id} data-flag-key={flag.key}>
                      <td data-label="Flag" className="cell-flag">
                        <Link to={`/project/${projectId}/flags/${flag.id}`} className="flag-key">
                          {flag.key}
                        </Link>
                        {flag.name ? <span className="muted flag-name">{flag.name}</span> : null}
                      </td>
                      <td data-label="Your value" className="cell-switch">
                        <Value value={value} active={flag.active} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <EmptyState title="No flags match this search">Try another key.</EmptyState>
          )}
        </>
      )}
    </div>
  );
}

// The project's persons: search by distinct id, email or name (the persons API's `search`), pages
// of 20, newest first.
import { useEffect, useState } from 'react';
import { api, personsPath, query } from '../api.ts';
import { Link, setSearch, useLocation } from '../router.tsx';
import { Button, EmptyState, ErrorState, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { dateTime } from '../format.ts';
import type { PersonsPage as Page } from '../person/model.ts';

const PAGE_SIZE = 20;

export function PersonsPage({ projectId }: { projectId: number }) {
  useDocumentTitle('People');
  const { search } = useLocation();
  const term = search.get('search') ?? '';
  const page = Math.max(1, Number(search.get('page')) || 1);
  const [draft, setDraft] = useState(term);
  useEffect(() => setDraft(term), [term]);
  useEffect(() => {
    if (draft === term) return;
    const timer = setTimeout(() => setSearch({ search: draft.trim(), page: undefined }), 250);
    return () => clearTimeout(timer);
  }, [draft, term]);

  const list = useResource(
    (signal) => api.get<Page>(personsPath(projectId) + query({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, search: term }), { signal }),
    [projectId, term, page],
  );
  const results = list.data?.results ?? [];

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>People</h1>
          <p className="muted">Persons your SDKs identified, with their properties and the flags they get.</p>
        </div>
      </div>

      <div className="toolbar toolbar-short" role="search">
        <label className="visually-hidden" htmlFor="person-search">
          Search people
        </label>
        <input
          id="person-search"
          type="search"
          className="toolbar-search"
          placeholder="Distinct id, email or name"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
        />
      </div>

      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : list.loading && !list.data ? (
        <Spinner label="Loading people…" />
      ) : results.length === 0 && page === 1 ? (
        term ? (
          <EmptyState title="Nobody matches" action={<Button onClick={() => setSearch({ search: undefined })}>Clear search</Button>}>
            Search takes a whole distinct id, or part of an email or name.
          </EmptyState>
        ) : (
          <EmptyState title="No people yet">Persons appear when an SDK sends events, or when a static cohort names a distinct id.</EmptyState>
        )
      ) : (
        <>
          <div className={`table-wrap${list.loading ? ' is-refreshing' : ''}`} aria-busy={list.loading}>
            <table className="table cards-table">
              <caption className="visually-hidden">People</caption>
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
                      {p.distinct_ids.slice(0, 3).join(', ')}
                      {p.distinct_ids.length > 3 ? <span className="muted"> and {p.distinct_ids.length - 3} more</span> : null}
                    </td>
                    <td data-label="Created">{dateTime(p.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pagination" aria-label="Pages">
            <span className="muted" aria-live="polite">
              Page {page}
            </span>
            <div className="pagination-buttons">
              <Button disabled={page <= 1} onClick={() => setSearch({ page: page > 2 ? String(page - 1) : undefined }, { replace: false })}>
                Previous
              </Button>
              <Button disabled={!list.data?.next} onClick={() => setSearch({ page: String(page + 1) }, { replace: false })}>
                Next
              </Button>
            </div>
          </nav>
        </>
      )}
    </div>
  );
}

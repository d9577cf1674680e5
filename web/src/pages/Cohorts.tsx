// The project's cohorts: search by name, static or dynamic, pages of 20, each with its person count
// (static cohorts; dynamic ones are computed on their page), creator and age.
import { useEffect, useState } from 'react';
import { api, cohortsPath, query } from '../api.ts';
import { Link, setSearch, useLocation } from '../router.tsx';
import { Badge, Button, EmptyState, ErrorState, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { relativeTime, userName } from '../format.ts';
import type { Page } from '../types.ts';
import type { CohortFull } from '../cohort/model.ts';

const PAGE_SIZE = 20;

export function CohortsPage({ projectId }: { projectId: number }) {
  useDocumentTitle('Cohorts');
  const { search } = useLocation();
  const filters = { search: search.get('search') ?? '', type: search.get('type') ?? '', page: Math.max(1, Number(search.get('page')) || 1) };
  const [searchDraft, setSearchDraft] = useState(filters.search);
  useEffect(() => setSearchDraft(filters.search), [filters.search]);
  useEffect(() => {
    if (searchDraft === filters.search) return;
    const timer = setTimeout(() => setSearch({ search: searchDraft, page: undefined }), 250);
    return () => clearTimeout(timer);
  }, [searchDraft, filters.search]);

  const list = useResource(
    (signal) =>
      api.get<Page<CohortFull>>(
        cohortsPath(projectId) + query({ limit: PAGE_SIZE, offset: (filters.page - 1) * PAGE_SIZE, search: filters.search, type: filters.type }),
        { signal },
      ),
    [projectId, filters.search, filters.type, filters.page],
  );
  const filtered = Boolean(filters.search || filters.type);
  const total = list.data?.count ?? 0;
  const first = (filters.page - 1) * PAGE_SIZE + 1;
  const last = Math.min(total, filters.page * PAGE_SIZE);

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Cohorts</h1>
          <p className="muted">Groups of persons to target in flag conditions: by their properties, or a fixed list.</p>
        </div>
        <Link to={`/project/${projectId}/cohorts/new`} className="btn btn-primary">
          New cohort
        </Link>
      </div>

      <div className="toolbar toolbar-short" role="search">
        <label className="visually-hidden" htmlFor="cohort-search">
          Search cohorts
        </label>
        <input
          id="cohort-search"
          type="search"
          className="toolbar-search"
          placeholder="Search by name"
          value={searchDraft}
          onChange={(e) => setSearchDraft(e.target.value)}
        />
        <label className="visually-hidden" htmlFor="filter-cohort-type">
          Type
        </label>
        <select id="filter-cohort-type" value={filters.type} onChange={(e) => setSearch({ type: e.target.value, page: undefined })}>
          <option value="">Any type</option>
          <option value="dynamic">Dynamic</option>
          <option value="static">Static</option>
        </select>
      </div>

      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : list.loading && !list.data ? (
        <Spinner label="Loading cohorts…" />
      ) : total === 0 ? (
        filtered ? (
          <EmptyState
            title="No cohorts match"
            action={<Button onClick={() => setSearch({ search: undefined, type: undefined, page: undefined })}>Clear filters</Button>}
          >
            Try another name or type.
          </EmptyState>
        ) : (
          <EmptyState
            title="No cohorts yet"
            action={
              <Link to={`/project/${projectId}/cohorts/new`} className="btn btn-primary">
                Create a cohort
              </Link>
            }
          >
            A cohort names a group of persons once, so that many flags can target it.
          </EmptyState>
        )
      ) : (
        <>
          <div className={`table-wrap${list.loading ? ' is-refreshing' : ''}`} aria-busy={list.loading}>
            <table className="table cards-table">
              <caption className="visually-hidden">Cohorts</caption>
              <thead>
                <tr>
                  <th scope="col">Cohort</th>
                  <th scope="col">Type</th>
                  <th scope="col">Persons</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {list.data!.results.map((c) => (
                  <tr key={c.id}>
                    <td data-label="Cohort" className="cell-flag cell-wide">
                      <Link to={`/project/${projectId}/cohorts/${c.id}`} className="flag-key">
                        {c.name || `Cohort ${c.id}`}
                      </Link>
                      {c.description ? <span className="muted flag-name">{c.description}</span> : null}
                    </td>
                    <td data-label="Type">{c.is_static ? <Badge tone="info">Static</Badge> : <Badge>Dynamic</Badge>}</td>
                    <td data-label="Persons">
                      {c.is_static ? (
                        (c.count ?? 0).toLocaleString('en')
                      ) : (
                        <span className="muted" title="Computed when you open the cohort">
                          By criteria
                        </span>
                      )}
                    </td>
                    <td data-label="Created" title={c.created_at ?? undefined}>
                      {relativeTime(c.created_at)}
                      {c.created_by ? <span className="muted"> by {userName(c.created_by)}</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pagination" aria-label="Pages">
            <span className="muted" aria-live="polite">
              {first}–{last} of {total}
            </span>
            <div className="pagination-buttons">
              <Button disabled={filters.page <= 1} onClick={() => setSearch({ page: String(filters.page - 1) }, { replace: false })}>
                Previous
              </Button>
              <Button disabled={last >= total} onClick={() => setSearch({ page: String(filters.page + 1) }, { replace: false })}>
                Next
              </Button>
            </div>
          </nav>
        </>
      )}
    </div>
  );
}

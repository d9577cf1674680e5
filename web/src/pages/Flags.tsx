// The project's flags: search, filters (state, type, tag, creator), sort, pagination, status
// badges, last call, and a switch per flag that asks before enabling or disabling it.
import { useEffect, useState } from 'react';
import { api, flagsPath, query } from '../api.ts';
import { Link, setSearch, useLocation } from '../router.tsx';
import { useSession } from '../session.tsx';
import { Badge, Button, ConfirmDialog, EmptyState, ErrorState, Spinner, Switch } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { flagStatus, isMultivariate, relativeTime, userName } from '../format.ts';
import type { FeatureFlag, OrganizationMember, Page } from '../types.ts';

const PAGE_SIZE = 20;
const SORTS: Array<[string, string]> = [
  ['-created_at', 'Newest first'],
  ['created_at', 'Oldest first'],
  ['key', 'Key A–Z'],
  ['-key', 'Key Z–A'],
  ['-updated_at', 'Recently updated'],
];

export function FlagsPage({ projectId }: { projectId: number }) {
  useDocumentTitle('Feature flags');
  const { me } = useSession();
  const { search } = useLocation();
  const filters = {
    search: search.get('search') ?? '',
    active: search.get('active') ?? '',
    type: search.get('type') ?? '',
    tag: search.get('tag') ?? '',
    created_by_id: search.get('created_by_id') ?? '',
    order: search.get('order') ?? '-created_at',
    page: Math.max(1, Number(search.get('page')) || 1),
  };
  const [searchDraft, setSearchDraft] = useState(filters.search);
  useEffect(() => setSearchDraft(filters.search), [filters.search]);
  // Searching waits for a pause in typing.
  useEffect(() => {
    if (searchDraft === filters.search) return;
    const timer = setTimeout(() => setSearch({ search: searchDraft, page: undefined }), 250);
    return () => clearTimeout(timer);
  }, [searchDraft, filters.search]);

  const list = useResource(
    (signal) =>
      api.get<Page<FeatureFlag>>(
        flagsPath(projectId) +
          query({
            limit: PAGE_SIZE,
            offset: (filters.page - 1) * PAGE_SIZE,
            search: filters.search,
            active: filters.active,
            type: filters.type,
            tags: filters.tag ? JSON.stringify([filters.tag]) : undefined,
            created_by_id: filters.created_by_id,
            order: filters.order,
          }),
        { signal },
      ),
    [projectId, filters.search, filters.active, filters.type, filters.tag, filters.created_by_id, filters.order, filters.page],
  );
  // Tag choices come from the 500 newest flags: enough for a filter menu, cheap for big projects.
  const tags = useResource(
    async (signal) =>
      [...new Set((await api.get<Page<FeatureFlag>>(flagsPath(projectId) + query({ limit: 500 }), { signal })).results.flatMap((f) => f.tags))].sort(),
    [projectId],
  );
  const members = useResource(
    (signal) =>
      me.organization ? api.get<Page<OrganizationMember>>(`/api/organizations/${me.organization.id}/members/?limit=200`, { signal }) : Promise.resolve(null),
    [me.organization?.id],
  );
  const [toggling, setToggling] = useState<FeatureFlag | null>(null);

  const filtered = Boolean(filters.search || filters.active || filters.type || filters.tag || filters.created_by_id);
  const set = (params: Record<string, string | undefined>) => setSearch({ ...params, page: undefined });
  const total = list.data?.count ?? 0;
  const first = (filters.page - 1) * PAGE_SIZE + 1;
  const last = Math.min(total, filters.page * PAGE_SIZE);

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Feature flags</h1>
          <p className="muted">Release features gradually, target users and run multivariate tests.</p>
        </div>
        <Link to={`/project/${projectId}/flags/new`} className="btn btn-primary">
          New feature flag
        </Link>
      </div>

      <div className="toolbar" role="search">
        <label className="visually-hidden" htmlFor="flag-search">
          Search flags
        </label>
        <input
          id="flag-search"
          type="search"
          className="toolbar-search"
          placeholder="Search by key or description"
          value={searchDraft}
          onChange={(e) => setSearchDraft(e.target.value)}
        />
        <label className="visually-hidden" htmlFor="filter-status">
          Status
        </label>
        <select id="filter-status" value={filters.active} onChange={(e) => set({ active: e.target.value })}>
          <option value="">Any status</option>
          <option value="true">Enabled</option>
          <option value="false">Disabled</option>
          <option value="STALE">Stale</option>
        </select>
        <label className="visually-hidden" htmlFor="filter-type">
          Type
        </label>
        <select id="filter-type" value={filters.type} onChange={(e) => set({ type: e.target.value })}>
          <option value="">Any type</option>
          <option value="boolean">Boolean</option>
          <option value="multivariant">Multivariate</option>
          <option value="remote_config">Remote config</option>
          <option value="experiment">Experiment</option>
        </select>
        <label className="visually-hidden" htmlFor="filter-tag">
          Tag
        </label>
        <select id="filter-tag" value={filters.tag} onChange={(e) => set({ tag: e.target.value })}>
          <option value="">Any tag</option>
          {(tags.data ?? []).map((tag) => (
            <option key={tag} value={tag}>
              {tag}
            </option>
          ))}
          {filters.tag && !(tags.data ?? []).includes(filters.tag) ? <option value={filters.tag}>{filters.tag}</option> : null}
        </select>
        <label className="visually-hidden" htmlFor="filter-creator">
          Created by
        </label>
        <select id="filter-creator" value={filters.created_by_id} onChange={(e) => set({ created_by_id: e.target.value })}>
          <option value="">Anyone</option>
          {(members.data?.results ?? []).map((m) => (
            <option key={m.user.id} value={m.user.id}>
              {userName(m.user)}
            </option>
          ))}
        </select>
        <label className="visually-hidden" htmlFor="sort">
          Sort
        </label>
        <select id="sort" value={filters.order} onChange={(e) => set({ order: e.target.value })}>
          {SORTS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>

      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : list.loading && !list.data ? (
        <Spinner label="Loading flags…" />
      ) : total === 0 ? (
        filtered ? (
          <EmptyState
            title="No flags match these filters"
            action={
              <Button
                onClick={() => setSearch({ search: undefined, active: undefined, type: undefined, tag: undefined, created_by_id: undefined, page: undefined })}
              >
                Clear filters
              </Button>
            }
          >
            Try another search or remove a filter.
          </EmptyState>
        ) : (
          <EmptyState
            title="No feature flags yet"
            action={
              <Link to={`/project/${projectId}/flags/new`} className="btn btn-primary">
                Create your first flag
              </Link>
            }
          >
            A flag turns a feature on for some of your users. Create one, then evaluate it with a PostHog SDK pointed at this server.
          </EmptyState>
        )
      ) : (
        <>
          <div className={`table-wrap${list.loading ? ' is-refreshing' : ''}`} aria-busy={list.loading}>
            <table className="table flags-table">
              <caption className="visually-hidden">Feature flags</caption>
              <thead>
                <tr>
                  <th scope="col">Flag</th>
                  <th scope="col">Type</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last called</th>
                  <th scope="col">Created by</th>
                  <th scope="col">
                    <span className="visually-hidden">Enabled</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data!.results.map((flag) => {
                  const status = flagStatus(flag);
                  return (
                    <tr key={flag.id}>
                      <td data-label="Flag" className="cell-flag">
                        <Link to={`/project/${projectId}/flags/${flag.id}`} className="flag-key">
                          {flag.key}
                        </Link>
                        {flag.name ? <span className="muted flag-name">{flag.name}</span> : null}
                      </td>
                      <td data-label="Type">{isMultivariate(flag) ? 'Multivariate' : flag.is_remote_configuration ? 'Remote config' : 'Boolean'}</td>
                      <td data-label="Tags">
                        {flag.tags.length ? (
                          <span className="tag-list">
                            {flag.tags.map((t) => (
                              <span className="tag" key={t}>
                                {t}
                              </span>
                            ))}
                          </span>
                        ) : (
                          <span className="muted">—</span>
                        )}
                      </td>
                      <td data-label="Status">
                        <Badge tone={status.tone}>{status.label}</Badge>
                      </td>
                      <td data-label="Last called" title={flag.last_called_at ?? undefined}>
                        {relativeTime(flag.last_called_at)}
                      </td>
                      <td data-label="Created by">{flag.created_by ? userName(flag.created_by) : <span className="muted">—</span>}</td>
                      <td data-label="Enabled" className="cell-switch">
                        <Switch
                          checked={flag.active}
                          label={flag.can_edit ? `${flag.active ? 'Disable' : 'Enable'} ${flag.key}` : `${flag.key} is read-only for you`}
                          disabled={!flag.can_edit}
                          title={flag.can_edit ? undefined : 'You may not edit this flag: open it to see why and who can share it with you.'}
                          onChange={() => setToggling(flag)}
                        />
                      </td>
                    </tr>
                  );
                })}
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

      <ToggleDialog
        flag={toggling}
        projectId={projectId}
        onClose={() => setToggling(null)}
        onDone={(updated) => list.data && list.setData({ ...list.data, results: list.data.results.map((f) => (f.id === updated.id ? updated : f)) })}
      />
    </div>
  );
}

/** Asks before switching a flag on or off, naming it; the server's refusal shows in the dialog. */
export function ToggleDialog({
  flag,
  projectId,
  onClose,
  onDone,
}: {
  flag: FeatureFlag | null;
  projectId: number;
  onClose: () => void;
  onDone: (flag: FeatureFlag) => void;
}) {
  const enabling = flag ? !flag.active : false;
  return (
    <ConfirmDialog
      open={flag !== null}
      title={enabling ? 'Enable this flag?' : 'Disable this flag?'}
      confirmLabel={enabling ? `Enable ${flag?.key ?? ''}` : `Disable ${flag?.key ?? ''}`}
      tone={enabling ? 'primary' : 'danger'}
      onClose={onClose}
      onConfirm={async () => {
        const updated = await api.patch<FeatureFlag>(flagsPath(projectId, `${flag!.id}/`), { active: enabling });
        onDone(updated);
      }}
    >
      <p>
        {enabling ? 'Enabling' : 'Disabling'} <strong className="mono">{flag?.key}</strong>{' '}
        {enabling ? 'starts serving it to users who match its release conditions.' : 'makes every SDK evaluate it to false for everyone.'}
      </p>
    </ConfirmDialog>
  );
}

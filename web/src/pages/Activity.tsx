// Activity: the project's whole activity log (advanced_activity_logs), filtered by scope, user and
// date, with each change's before and after; the filters live in the address.
import { api, query } from '../api.ts';
import { Link, setSearch, useLocation } from '../router.tsx';
import { useSession } from '../session.tsx';
import { Button, EmptyState, ErrorState, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { describeActivity, Timeline } from '../activity/Timeline.tsx';
import { userName } from '../format.ts';
import type { ActivityEntry, OrganizationMember, Page } from '../types.ts';

const PAGE_SIZE = 20;
const SCOPES: Array<[string, string]> = [
  ['', 'Everything'],
  ['FeatureFlag', 'Feature flags'],
  ['Cohort', 'Cohorts'],
];

interface NumberedPage {
  count: number;
  next: string | null;
  previous: string | null;
  results: ActivityEntry[];
}

/** The first and last moment of a day given as YYYY-MM-DD, in the browser's time zone, as ISO times. */
const dayStart = (day: string) => (day ? new Date(`${day}T00:00:00`).toISOString() : undefined);
const dayEnd = (day: string) => (day ? new Date(`${day}T23:59:59.999`).toISOString() : undefined);

export function ActivityPage({ projectId }: { projectId: number }) {
  useDocumentTitle('Activity');
  const { me } = useSession();
  const { search } = useLocation();
  const filters = {
    scope: search.get('scope') ?? '',
    user: search.get('user') ?? '',
    from: search.get('from') ?? '',
    to: search.get('to') ?? '',
    page: Math.max(1, Number(search.get('page')) || 1),
  };
  const log = useResource(
    (signal) =>
      api.get<NumberedPage>(
        `/api/projects/${projectId}/advanced_activity_logs/` +
          query({
            scopes: filters.scope,
            users: filters.user,
            start_date: dayStart(filters.from),
            end_date: dayEnd(filters.to),
            page: filters.page,
            page_size: PAGE_SIZE,
          }),
        { signal },
      ),
    [projectId, filters.scope, filters.user, filters.from, filters.to, filters.page],
  );
  const members = useResource(
    (signal) =>
      me.organization ? api.get<Page<OrganizationMember>>(`/api/organizations/${me.organization.id}/members/?limit=200`, { signal }) : Promise.resolve(null),
    [me.organization?.id],
  );
  const set = (params: Record<string, string | undefined>) => setSearch({ ...params, page: undefined });
  const filtered = Boolean(filters.scope || filters.user || filters.from || filters.to);
  const total = log.data?.count ?? 0;
  const first = (filters.page - 1) * PAGE_SIZE + 1;
  const last = Math.min(total, filters.page * PAGE_SIZE);

  const subject = (entry: ActivityEntry) =>
    entry.scope === 'FeatureFlag' && entry.activity !== 'deleted' ? (
      <>
        {describeActivity(entry)}{' '}
        <Link to={`/project/${projectId}/flags/${entry.item_id}`} className="mono">
          {entry.detail?.name ?? entry.item_id}
        </Link>
      </>
    ) : (
      <>
        {describeActivity(entry)} <span className="mono">{entry.detail?.name ?? entry.item_id}</span>
      </>
    );

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Activity</h1>
          <p className="muted">Every change to this project's flags and cohorts: who made it, when, and what changed.</p>
        </div>
      </div>

      <div className="toolbar" role="search" aria-label="Filter activity">
        <label className="visually-hidden" htmlFor="activity-scope">
          What changed
        </label>
        <select id="activity-scope" value={filters.scope} onChange={(e) => set({ scope: e.target.value })}>
          {SCOPES.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <label className="visually-hidden" htmlFor="activity-user">
          Who changed it
        </label>
        <select id="activity-user" value={filters.user} onChange={(e) => set({ user: e.target.value })}>
          <option value="">Anyone</option>
          {(members.data?.results ?? []).map((m) => (
            <option key={m.user.uuid} value={m.user.uuid}>
              {userName(m.user)}
            </option>
          ))}
        </select>
        <span className="date-range">
          <label htmlFor="activity-from">From</label>
          <input id="activity-from" type="date" value={filters.from} max={filters.to || undefined} onChange={(e) => set({ from: e.target.value })} />
          <label htmlFor="activity-to">to</label>
          <input id="activity-to" type="date" value={filters.to} min={filters.from || undefined} onChange={(e) => set({ to: e.target.value })} />
        </span>
      </div>

      {log.error ? (
        <ErrorState error={log.error} retry={log.reload} />
      ) : log.loading && !log.data ? (
        <Spinner label="Loading activity…" />
      ) : total === 0 ? (
        filtered ? (
          <EmptyState
            title="Nothing matches these filters"
            action={
              <Button onClick={() => setSearch({ scope: undefined, user: undefined, from: undefined, to: undefined, page: undefined })}>Clear filters</Button>
            }
          >
            Try another date range or remove a filter.
          </EmptyState>
        ) : (
          <EmptyState title="No activity yet">Changes to flags and cohorts will appear here.</EmptyState>
        )
      ) : (
        <>
          <section className={`card history${log.loading ? ' is-refreshing' : ''}`} aria-label="Activity log" aria-busy={log.loading}>
            <Timeline entries={log.data!.results} subject={subject} />
          </section>
          <nav className="pagination" aria-label="Pages">
            <span className="muted" aria-live="polite">
              {first}–{last} of {total}
            </span>
            <div className="pagination-buttons">
              <Button disabled={filters.page <= 1} onClick={() => setSearch({ page: String(filters.page - 1) }, { replace: false })}>
                Newer
              </Button>
              <Button disabled={last >= total} onClick={() => setSearch({ page: String(filters.page + 1) }, { replace: false })}>
                Older
              </Button>
            </div>
          </nav>
        </>
      )}
    </div>
  );
}

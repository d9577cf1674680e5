// The flag's activity log: who did what and when, with each changed field's before and after.
import { useEffect, useState } from 'react';
import { api, flagsPath, query } from '../api.ts';
import { Button, EmptyState, ErrorState, Spinner } from '../components/ui.tsx';
import { dateTime, relativeTime, userName } from '../format.ts';
import type { ActivityChange, ActivityEntry, ActivityPage } from '../types.ts';

const VERBS: Record<string, string> = { created: 'created the flag', updated: 'updated the flag', deleted: 'deleted the flag', restored: 'restored the flag' };

function show(value: unknown): string {
  if (value === null || value === undefined) return '(empty)';
  if (typeof value === 'string') return value === '' ? '(empty)' : value;
  return JSON.stringify(value, null, 2);
}

function Change({ change }: { change: ActivityChange }) {
  return (
    <div className="change">
      <div className="change-head">
        <span className="mono">{change.field}</span>
        <span className="muted">{change.action}</span>
      </div>
      <div className="diff">
        <div>
          <span className="diff-label">Before</span>
          <pre className="diff-before">{show(change.before)}</pre>
        </div>
        <div>
          <span className="diff-label">After</span>
          <pre className="diff-after">{show(change.after)}</pre>
        </div>
      </div>
    </div>
  );
}

export function History({ projectId, flagId, refreshKey }: { projectId: number; flagId: number; refreshKey: unknown }) {
  const [entries, setEntries] = useState<ActivityEntry[]>([]);
  const [page, setPage] = useState(1);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  const load = async (p: number) => {
    setLoading(true);
    setError(null);
    try {
      const data = await api.get<ActivityPage>(flagsPath(projectId, `${flagId}/activity`) + query({ page: p, limit: 10 }));
      setEntries((old) => (p === 1 ? data.results : [...old, ...data.results]));
      setTotal(data.total_count);
      setPage(p);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: the first page reloads when the flag or refreshKey changes; `load` is a new closure every render
  useEffect(() => {
    void load(1);
  }, [projectId, flagId, refreshKey]);

  if (error && !entries.length) return <ErrorState error={error} retry={() => void load(1)} />;
  if (loading && !entries.length) return <Spinner label="Loading history…" />;
  if (!entries.length) return <EmptyState title="No history yet">Changes to this flag will appear here.</EmptyState>;
  return (
    <section className="card history" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <ol className="timeline">
        {entries.map((entry, i) => (
          <li key={entry.id ?? i} className="timeline-item">
            <div className="timeline-head">
              <strong>{entry.user?.is_system ? 'System' : userName(entry.user ?? null)}</strong> {VERBS[entry.activity] ?? entry.activity}
              <time dateTime={entry.created_at} title={dateTime(entry.created_at)} className="muted">
                {relativeTime(entry.created_at)}
              </time>
            </div>
            {(entry.detail?.changes ?? []).length ? (
              <div className="changes">
                {entry.detail.changes!.map((c, j) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: an entry's changes never change or move
                  <Change key={j} change={c} />
                ))}
              </div>
            ) : null}
          </li>
        ))}
      </ol>
      {entries.length < total ? (
        <Button busy={loading} onClick={() => void load(page + 1)}>
          Show older changes ({total - entries.length} more)
        </Button>
      ) : null}
    </section>
  );
}

// The flag's activity log: who did what and when, with each changed field's before and after.
import { useEffect, useState } from 'react';
import { api, flagsPath, query } from '../api.ts';
import { Button, EmptyState, ErrorState, Spinner } from '../components/ui.tsx';
import { Timeline } from '../activity/Timeline.tsx';
import type { ActivityEntry, ActivityPage } from '../types.ts';

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
      <Timeline entries={entries} />
      {entries.length < total ? (
        <Button busy={loading} onClick={() => void load(page + 1)}>
          Show older changes ({total - entries.length} more)
        </Button>
      ) : null}
    </section>
  );
}

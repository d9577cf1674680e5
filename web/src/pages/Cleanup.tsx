// Clean-up: the project's stale flags (the list's STALE filter) with their last calls; select some,
// then disable them (a PATCH each) or soft-delete them (one bulk_delete), after a confirmation
// naming them, with each flag's refusal shown.
import { useState } from 'react';
import { api, ApiError, flagsPath, query } from '../api.ts';
import { Link } from '../router.tsx';
import { Alert, Badge, Button, ConfirmDialog, EmptyState, ErrorState, Spinner } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { dateTime, relativeTime } from '../format.ts';
import type { FeatureFlag, Page } from '../types.ts';

const PAGE_SIZE = 50;

interface BulkDeleteAnswer {
  deleted: Array<{ id: number; key: string }>;
  errors: Array<{ id: unknown; key?: string; reason: string }>;
}
interface Outcome {
  action: 'disable' | 'delete';
  done: string[];
  failed: Array<{ key: string; reason: string }>;
}

export function CleanupPage({ projectId }: { projectId: number }) {
  useDocumentTitle('Clean-up');
  const [page, setPage] = useState(1);
  const list = useResource(
    (signal) =>
      api.get<Page<FeatureFlag>>(flagsPath(projectId) + query({ active: 'STALE', order: 'last_called_at', limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }), {
        signal,
      }),
    [projectId, page],
  );
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [confirming, setConfirming] = useState<'disable' | 'delete' | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const flags = list.data?.results ?? [];
  const editable = flags.filter((f) => f.can_edit);
  const chosen = flags.filter((f) => selected.has(f.id));
  const allChosen = editable.length > 0 && editable.every((f) => selected.has(f.id));
  const toggle = (id: number) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const disable = async () => {
    const done: string[] = [];
    const failed: Outcome['failed'] = [];
    for (const flag of chosen) {
      try {
        await api.patch(flagsPath(projectId, `${flag.id}/`), { active: false });
        done.push(flag.key);
      } catch (e) {
        failed.push({ key: flag.key, reason: e instanceof ApiError ? e.message : String(e) });
      }
    }
    finish({ action: 'disable', done, failed });
  };
  const remove = async () => {
    const answer = await api.post<BulkDeleteAnswer>(flagsPath(projectId, 'bulk_delete/'), { ids: chosen.map((f) => f.id) });
    const keyOf = new Map(chosen.map((f) => [f.id, f.key]));
    finish({
      action: 'delete',
      done: answer.deleted.map((d) => d.key),
      failed: answer.errors.map((e) => ({ key: e.key ?? keyOf.get(Number(e.id)) ?? String(e.id), reason: e.reason })),
    });
  };
  const finish = (result: Outcome) => {
    setOutcome(result);
    setSelected(new Set());
    list.reload();
  };

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Clean-up</h1>
          <p className="muted">
            Stale flags: enabled, and either not called for 30 days or rolled out to everyone and 30 days old. Disable them or delete them in one go.
          </p>
        </div>
      </div>

      {outcome ? (
        <div className="cleanup-outcome">
          {outcome.done.length ? (
            <Alert tone="success">
              {outcome.action === 'delete' ? 'Deleted' : 'Disabled'} {outcome.done.length} {outcome.done.length === 1 ? 'flag' : 'flags'}:{' '}
              {outcome.done.join(', ')}.
            </Alert>
          ) : null}
          {outcome.failed.length ? (
            <Alert tone="danger">
              <p>
                {outcome.failed.length} {outcome.failed.length === 1 ? 'flag was' : 'flags were'} not {outcome.action === 'delete' ? 'deleted' : 'disabled'}:
              </p>
              <ul className="cleanup-errors">
                {outcome.failed.map((f) => (
                  <li key={f.key}>
                    <strong className="mono">{f.key}</strong>: {f.reason}
                  </li>
                ))}
              </ul>
            </Alert>
          ) : null}
        </div>
      ) : null}

      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : list.loading && !list.data ? (
        <Spinner label="Loading stale flags…" />
      ) : !flags.length ? (
        <EmptyState
          title="No stale flags"
          action={
            <Link to={`/project/${projectId}/flags`} className="btn btn-secondary">
              Back to all flags
            </Link>
          }
        >
          Every enabled flag has been called in the last 30 days or is still being rolled out.
        </EmptyState>
      ) : (
        <>
          <div className="toolbar cleanup-toolbar">
            <span className="muted" aria-live="polite">
              {chosen.length ? `${chosen.length} selected` : 'Select the flags to clean up'}
            </span>
            <Button kind="ghost" disabled={!editable.length} onClick={() => setSelected(allChosen ? new Set() : new Set(editable.map((f) => f.id)))}>
              {allChosen ? 'Select none' : 'Select all on this page'}
            </Button>
            <Button disabled={!chosen.length} onClick={() => setConfirming('disable')}>
              Disable selected
            </Button>
            <Button kind="danger" disabled={!chosen.length} onClick={() => setConfirming('delete')}>
              Delete selected
            </Button>
          </div>
          <div className={`table-wrap${list.loading ? ' is-refreshing' : ''}`} aria-busy={list.loading}>
            <table className="table flags-table cleanup-table">
              <caption className="visually-hidden">Stale flags</caption>
              <thead>
                <tr>
                  <th scope="col" className="cell-check">
                    <input
                      type="checkbox"
                      aria-label="Select every flag on this page"
                      checked={allChosen}
                      disabled={!editable.length}
                      onChange={() => setSelected(allChosen ? new Set() : new Set(editable.map((f) => f.id)))}
                    />
                  </th>
                  <th scope="col">Flag</th>
                  <th scope="col">Last called</th>
                  <th scope="col">Created</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {flags.map((flag) => (
                  <tr key={flag.id}>
                    <td className="cell-check cell-switch">
                      <input
                        type="checkbox"
                        aria-label={`Select ${flag.key}`}
                        checked={selected.has(flag.id)}
                        disabled={!flag.can_edit}
                        title={flag.can_edit ? undefined : 'You may not edit this flag'}
                        onChange={() => toggle(flag.id)}
                      />
                    </td>
                    <td data-label="Flag" className="cell-flag">
                      <Link to={`/project/${projectId}/flags/${flag.id}`} className="flag-key">
                        {flag.key}
                      </Link>
                      {flag.name ? <span className="muted flag-name">{flag.name}</span> : null}
                    </td>
                    <td data-label="Last called" title={flag.last_called_at ? dateTime(flag.last_called_at) : undefined}>
                      {flag.last_called_at ? relativeTime(flag.last_called_at) : <span className="muted">Never</span>}
                    </td>
                    <td data-label="Created" title={dateTime(flag.created_at)}>
                      {relativeTime(flag.created_at)}
                    </td>
                    <td data-label="Status">
                      <Badge tone="warning">Stale</Badge>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pagination" aria-label="Pages">
            <span className="muted">
              {(page - 1) * PAGE_SIZE + 1}–{Math.min(list.data!.count, page * PAGE_SIZE)} of {list.data!.count}
            </span>
            <div className="pagination-buttons">
              <Button disabled={page <= 1} onClick={() => setPage(page - 1)}>
                Previous
              </Button>
              <Button disabled={page * PAGE_SIZE >= list.data!.count} onClick={() => setPage(page + 1)}>
                Next
              </Button>
            </div>
          </nav>
        </>
      )}

      <ConfirmDialog
        open={confirming !== null}
        title={
          confirming === 'delete'
            ? `Delete ${chosen.length} ${chosen.length === 1 ? 'flag' : 'flags'}?`
            : `Disable ${chosen.length} ${chosen.length === 1 ? 'flag' : 'flags'}?`
        }
        confirmLabel={confirming === 'delete' ? `Delete ${chosen.length}` : `Disable ${chosen.length}`}
        tone="danger"
        onClose={() => setConfirming(null)}
        onConfirm={confirming === 'delete' ? remove : disable}
      >
        <p>
          {confirming === 'delete'
            ? 'These flags will be deleted: SDKs stop receiving them and their keys become free. You can restore a deleted flag from its page.'
            : 'These flags will evaluate to false for everyone until they are enabled again.'}
        </p>
        <ul className="confirm-list">
          {chosen.map((f) => (
            <li key={f.id} className="mono">
              {f.key}
            </li>
          ))}
        </ul>
      </ConfirmDialog>
    </div>
  );
}

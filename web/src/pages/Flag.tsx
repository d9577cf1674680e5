// One flag: overview, usage, history, dependent flags, "test a user", code snippets; enable or
// disable it, edit it, delete it softly and restore it.
import { useRef, useState, type KeyboardEvent } from 'react';
import { api, flagsPath } from '../api.ts';
import { Link, setSearch, useLocation } from '../router.tsx';
import { Alert, Badge, Button, ConfirmDialog, EmptyState, ErrorState, Spinner, Switch } from '../components/ui.tsx';
import { useDocumentTitle, useResource } from '../components/hooks.ts';
import { dateTime, flagStatus, isMultivariate, relativeTime, userName } from '../format.ts';
import type { Dashboard, FeatureFlag, GroupType, Project } from '../types.ts';
import { dependentsOf, loadAllFlags } from '../flag/model.ts';
import { FlagSummary } from '../flag/Summary.tsx';
import { UsageCharts } from '../flag/UsageChart.tsx';
import { History } from '../flag/History.tsx';
import { TestUser } from '../flag/TestUser.tsx';
import { Snippets } from '../flag/Snippets.tsx';
import { ToggleDialog } from './Flags.tsx';
import { FlagRoleAccess, ReadOnlyNotice } from '../access/FlagAccess.tsx';

const TABS: Array<[string, string]> = [
  ['overview', 'Overview'],
  ['usage', 'Usage'],
  ['history', 'History'],
  ['dependents', 'Dependent flags'],
  ['test', 'Test a user'],
  ['code', 'Code'],
  ['access', 'Access'],
];

function Usage({ projectId, flag, onFlag }: { projectId: number; flag: FeatureFlag; onFlag: () => void }) {
  const dashboard = useResource(
    (signal) =>
      flag.usage_dashboard ? api.get<Dashboard>(`/api/projects/${projectId}/dashboards/${flag.usage_dashboard}/`, { signal }) : Promise.resolve(null),
    [projectId, flag.usage_dashboard],
  );
  const [busy, setBusy] = useState(false);
  if (!flag.usage_dashboard)
    return (
      <EmptyState
        title="No usage dashboard"
        action={
          <Button
            busy={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await api.post(flagsPath(projectId, `${flag.id}/dashboard/`));
                onFlag();
              } finally {
                setBusy(false);
              }
            }}
          >
            Create usage dashboard
          </Button>
        }
      >
        Usage is charted from the $feature_flag_called events SDKs send.
      </EmptyState>
    );
  if (dashboard.error) return <ErrorState error={dashboard.error} retry={dashboard.reload} />;
  if (dashboard.loading || !dashboard.data) return <Spinner label="Loading usage…" />;
  return (
    <section className="card" aria-labelledby="usage-title">
      <h2 id="usage-title">Usage in the last 30 days</h2>
      <p className="muted section-intro">
        Last called {relativeTime(flag.last_called_at).toLowerCase()}. Counts come from the $feature_flag_called events SDKs send.
      </p>
      <UsageCharts dashboard={dashboard.data} />
    </section>
  );
}

function Dependents({ projectId, flag, flags }: { projectId: number; flag: FeatureFlag; flags: FeatureFlag[] | undefined }) {
  if (!flags) return <Spinner label="Looking for dependent flags…" />;
  const dependents = dependentsOf(flag.id, flags);
  if (!dependents.length) return <EmptyState title="No dependent flags">No other flag has a condition on this one.</EmptyState>;
  return (
    <section className="card" aria-labelledby="dep-title">
      <h2 id="dep-title">Flags that depend on this one</h2>
      <p className="muted section-intro">Disabling or deleting this flag is refused while these active flags depend on it.</p>
      <ul className="plain-list">
        {dependents.map((d) => (
          <li key={d.id}>
            <Link to={`/project/${projectId}/flags/${d.id}`} className="mono">
              {d.key}
            </Link>
            {d.name ? <span className="muted"> · {d.name}</span> : null}
            <Badge tone={flagStatus(d).tone}>{flagStatus(d).label}</Badge>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function FlagPage({ projectId, flagId }: { projectId: number; flagId: number }) {
  const flag = useResource((signal) => api.get<FeatureFlag>(flagsPath(projectId, `${flagId}/`), { signal }), [projectId, flagId]);
  const project = useResource((signal) => api.get<Project>(`/api/projects/${projectId}/`, { signal }), [projectId]);
  const flags = useResource((signal) => loadAllFlags(projectId, signal), [projectId, flag.data?.version]);
  const groupTypes = useResource(
    (signal) => api.get<GroupType[]>(`/api/projects/${projectId}/groups_types/`, { signal }).catch(() => [] as GroupType[]),
    [projectId],
  );
  const { search } = useLocation();
  const tab = TABS.some(([id]) => id === search.get('tab')) ? search.get('tab')! : 'overview';
  const [toggling, setToggling] = useState<FeatureFlag | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [restoreError, setRestoreError] = useState<string | null>(null);
  const tabRefs = useRef<Array<HTMLButtonElement | null>>([]);
  useDocumentTitle(flag.data?.key ?? 'Flag');

  if (flag.error)
    return (
      <div className="page">
        <ErrorState error={flag.error} retry={flag.reload} />
      </div>
    );
  if (!flag.data)
    return (
      <div className="page">
        <Spinner label="Loading the flag…" />
      </div>
    );
  const f = flag.data;
  const status = flagStatus(f);

  const onTabKey = (event: KeyboardEvent, index: number) => {
    const next =
      event.key === 'ArrowRight' ? index + 1 : event.key === 'ArrowLeft' ? index - 1 : event.key === 'Home' ? 0 : event.key === 'End' ? TABS.length - 1 : null;
    if (next === null) return;
    event.preventDefault();
    const target = (next + TABS.length) % TABS.length;
    setSearch({ tab: TABS[target][0] === 'overview' ? undefined : TABS[target][0] });
    tabRefs.current[target]?.focus();
  };

  const restore = async () => {
    setRestoreError(null);
    try {
      flag.setData(await api.patch<FeatureFlag>(flagsPath(projectId, `${f.id}/`), { deleted: false }));
    } catch (e) {
      setRestoreError((e as Error).message);
    }
  };

  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to={`/project/${projectId}/flags`}>Feature flags</Link>
        <span aria-hidden="true">/</span>
        <span aria-current="page">{f.key}</span>
      </nav>
      <div className="page-header flag-header">
        <div className="flag-title">
          <h1 className="mono">{f.key}</h1>
          <div className="flag-meta">
            <Badge tone={status.tone}>{status.label}</Badge>
            <Badge>{isMultivariate(f) ? 'Multivariate' : 'Boolean'}</Badge>
            {f.tags.map((t) => (
              <span className="tag" key={t}>
                {t}
              </span>
            ))}
          </div>
          {f.name ? <p className="flag-description">{f.name}</p> : null}
        </div>
        <div className="flag-actions">
          {!f.deleted ? (
            <>
              <div className="switch-field">
                <Switch checked={f.active} label={`${f.active ? 'Disable' : 'Enable'} ${f.key}`} disabled={!f.can_edit} onChange={() => setToggling(f)} />
                <span>{f.active ? 'Enabled' : 'Disabled'}</span>
              </div>
              {f.can_edit ? (
                <Link to={`/project/${projectId}/flags/${f.id}/edit`} className="btn btn-primary">
                  Edit
                </Link>
              ) : (
                <Button kind="primary" disabled>
                  Edit
                </Button>
              )}
              <Button kind="danger" onClick={() => setDeleting(true)} disabled={!f.can_edit}>
                Delete
              </Button>
            </>
          ) : (
            <Button kind="primary" onClick={() => void restore()} disabled={!f.can_edit}>
              Restore
            </Button>
          )}
        </div>
      </div>
      <ReadOnlyNotice projectId={projectId} flag={f} />
      {f.deleted ? <Alert tone="warning">This flag is deleted: SDKs no longer get it. Restore it to serve it again.</Alert> : null}
      {restoreError ? <Alert>{restoreError}</Alert> : null}

      <div className="tabs" role="tablist" aria-label="Flag sections">
        {TABS.map(([id, label], i) => (
          <button
            key={id}
            ref={(el) => {
              tabRefs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`panel-${id}`}
            tabIndex={tab === id ? 0 : -1}
            className="tab"
            onClick={() => setSearch({ tab: id === 'overview' ? undefined : id })}
            onKeyDown={(e) => onTabKey(e, i)}
          >
            {label}
          </button>
        ))}
      </div>

      <div className="tab-panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} tabIndex={0}>
        {tab === 'overview' ? (
          <div className="overview">
            <FlagSummary flag={f} flags={flags.data ?? []} projectId={projectId} groupTypes={groupTypes.data ?? []} />
            <section className="card" aria-labelledby="sum-details">
              <h2 id="sum-details">Details</h2>
              <dl className="details">
                <dt>Evaluation runtime</dt>
                <dd>{f.evaluation_runtime === 'all' ? 'Server and client' : f.evaluation_runtime === 'server' ? 'Server only' : 'Client only'}</dd>
                <dt>Persist across authentication</dt>
                <dd>{f.ensure_experience_continuity ? 'Yes' : 'No'}</dd>
                <dt>Evaluation tags</dt>
                <dd>{f.evaluation_tags.length ? f.evaluation_tags.join(', ') : <span className="muted">None</span>}</dd>
                <dt>Last called</dt>
                <dd>
                  {f.last_called_at ? (
                    <time dateTime={f.last_called_at} title={dateTime(f.last_called_at)}>
                      {relativeTime(f.last_called_at)}
                    </time>
                  ) : (
                    'Never'
                  )}
                </dd>
                <dt>Created</dt>
                <dd>
                  {dateTime(f.created_at)} by {userName(f.created_by)}
                </dd>
                <dt>Last changed</dt>
                <dd>
                  {dateTime(f.updated_at)} by {userName(f.last_modified_by)} (version {f.version ?? 0})
                </dd>
              </dl>
            </section>
          </div>
        ) : tab === 'usage' ? (
          <Usage projectId={projectId} flag={f} onFlag={flag.reload} />
        ) : tab === 'history' ? (
          <History projectId={projectId} flagId={f.id} refreshKey={`${f.version}-${f.deleted}-${f.active}`} />
        ) : tab === 'dependents' ? (
          <Dependents projectId={projectId} flag={f} flags={flags.data} />
        ) : tab === 'access' ? (
          <FlagRoleAccess projectId={projectId} flag={f} />
        ) : tab === 'test' ? (
          <TestUser flag={f} projectToken={project.data?.api_token} />
        ) : project.data ? (
          <Snippets flag={f} token={project.data.api_token} />
        ) : (
          <Spinner />
        )}
      </div>

      <ToggleDialog flag={toggling} projectId={projectId} onClose={() => setToggling(null)} onDone={(updated) => flag.setData(updated)} />
      <ConfirmDialog
        open={deleting}
        title="Delete this flag?"
        confirmLabel={`Delete ${f.key}`}
        tone="danger"
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          flag.setData(await api.patch<FeatureFlag>(flagsPath(projectId, `${f.id}/`), { deleted: true }));
        }}
      >
        <p>
          SDKs stop getting <strong className="mono">{f.key}</strong> at once. The flag and its history are kept: you can restore it from this page.
        </p>
      </ConfirmDialog>
    </div>
  );
}

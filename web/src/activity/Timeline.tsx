// Activity entries as a timeline: who did what and when, with each changed field's before and
// after. The flag's history and the project's activity page both show entries this way.
import type { ReactNode } from 'react';
import { dateTime, relativeTime, userName } from '../format.ts';
import type { ActivityChange, ActivityEntry } from '../types.ts';

const NOUNS: Record<string, string> = { FeatureFlag: 'flag', Cohort: 'cohort' };

/** "updated the flag", or with `named`, "updated the flag new-checkout". */
export function describeActivity(entry: ActivityEntry, named = false): string {
  const noun = NOUNS[entry.scope] ?? entry.scope;
  const verb = ['created', 'updated', 'deleted', 'restored'].includes(entry.activity) ? entry.activity : entry.activity.replace(/_/g, ' ');
  return `${verb} the ${noun}${named && entry.detail?.name ? ` ${entry.detail.name}` : ''}`;
}

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

export function Timeline({ entries, subject }: { entries: ActivityEntry[]; subject?: (entry: ActivityEntry) => ReactNode }) {
  return (
    <ol className="timeline">
      {entries.map((entry, i) => (
        <li key={entry.id ?? i} className="timeline-item">
          <div className="timeline-head">
            <strong>{entry.user?.is_system ? 'System' : userName(entry.user ?? null)}</strong> {subject ? subject(entry) : describeActivity(entry)}
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
  );
}

// What to show when a save answers 409: which fields someone else changed since the editor opened,
// which ones this user changed, and the two ways out (take theirs, or apply mine on top of theirs).
import type { FeatureFlag } from '../types.ts';
import { Button, Dialog } from '../components/ui.tsx';
import { userName } from '../format.ts';

export const COMPARED_FIELDS: Array<[keyof FeatureFlag & string, string]> = [
  ['key', 'Key'],
  ['name', 'Description'],
  ['active', 'Enabled'],
  ['filters', 'Release conditions, variants and payloads'],
  ['tags', 'Tags'],
  ['evaluation_tags', 'Evaluation tags'],
  ['ensure_experience_continuity', 'Persist across authentication'],
  ['evaluation_runtime', 'Evaluation runtime'],
  ['is_remote_configuration', 'Remote configuration'],
  ['deleted', 'Deleted'],
];

/** A stable JSON text (object keys sorted) so equal values compare equal. */
export function stable(value: unknown): string {
  return (
    JSON.stringify(value, (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
    ) ?? 'null'
  );
}

/** Normalised filters: absent, null and empty entries are the same thing to a person. */
function normalise(field: string, value: unknown): unknown {
  if (field !== 'filters' || !value || typeof value !== 'object') return value ?? null;
  const f = value as Record<string, unknown>;
  const groups = ((f.groups as Array<Record<string, unknown>>) ?? []).map((g) => ({
    properties: g.properties ?? [],
    rollout_percentage: g.rollout_percentage ?? null,
    variant: g.variant ?? null,
    ...(g.description ? { description: g.description } : {}),
  }));
  const variants = (f.multivariate as { variants?: unknown[] } | null)?.variants ?? [];
  return {
    ...f,
    groups,
    multivariate: variants.length ? f.multivariate : null,
    payloads: f.payloads ?? {},
    aggregation_group_type_index: f.aggregation_group_type_index ?? null,
  };
}

export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return COMPARED_FIELDS.filter(([field]) => field in after && stable(normalise(field, before[field])) !== stable(normalise(field, after[field]))).map(
    ([f]) => f,
  );
}

const label = (field: string) => COMPARED_FIELDS.find(([f]) => f === field)?.[1] ?? field;

function show(field: string, value: unknown): string {
  if (field === 'filters') return JSON.stringify(value, null, 2);
  if (Array.isArray(value)) return value.length ? value.join(', ') : '(none)';
  if (value === '' || value === null || value === undefined) return '(empty)';
  return String(value);
}

export function ConflictDialog({
  original,
  latest,
  mine,
  busy,
  onReload,
  onReapply,
  onClose,
}: {
  original: FeatureFlag;
  latest: FeatureFlag | null;
  mine: Record<string, unknown>;
  busy: boolean;
  onReload: () => void;
  onReapply: () => void;
  onClose: () => void;
}) {
  const theirs = latest ? changedFields(original as unknown as Record<string, unknown>, latest as unknown as Record<string, unknown>) : [];
  const yours = changedFields(original as unknown as Record<string, unknown>, mine);
  const who = latest?.last_modified_by ? userName(latest.last_modified_by) : 'Someone else';
  return (
    <Dialog
      open
      title="This flag was changed while you were editing"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onReload}>Reload their version</Button>
          <Button kind="primary" busy={busy} onClick={onReapply}>
            Re-apply my changes
          </Button>
        </>
      }
    >
      <p>
        {who} saved version {latest?.version ?? '?'} after you opened version {original.version ?? '?'}. Reload to start again from their version, or re-apply
        your changes on top of it.
      </p>
      <h3 className="conflict-heading">Their changes</h3>
      {theirs.length ? (
        <div className="conflict-list">
          {theirs.map((field) => (
            <div key={field} className="conflict-item">
              <strong>{label(field)}</strong>
              <div className="diff">
                <div>
                  <span className="diff-label">When you opened it</span>
                  <pre className="diff-before">{show(field, (original as unknown as Record<string, unknown>)[field])}</pre>
                </div>
                <div>
                  <span className="diff-label">Now</span>
                  <pre className="diff-after">{show(field, (latest as unknown as Record<string, unknown>)[field])}</pre>
                </div>
              </div>
            </div>
          ))}
        </div>
      ) : (
        <p className="muted">No visible field differs (the version changed).</p>
      )}
      <h3 className="conflict-heading">Your changes</h3>
      <p>{yours.length ? yours.map(label).join(', ') : 'None'}</p>
    </Dialog>
  );
}

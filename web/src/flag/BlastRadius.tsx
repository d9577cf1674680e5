// How many stored persons (or groups) one condition set reaches, asked of the server's
// user_blast_radius a moment after the filters stop changing.
import { useEffect, useState } from 'react';
import { api, flagsPath } from '../api.ts';
import type { PropertyFilter } from '../types.ts';

const DEBOUNCE_MS = 400;

interface Radius {
  users_affected: number;
  total_users: number;
}

function percent(part: number, whole: number): string {
  if (!whole) return '0';
  const p = (part / whole) * 100;
  return p === 0 || p === 100 || p >= 10 ? p.toFixed(0) : p.toFixed(1);
}

export function BlastRadius({
  projectId,
  properties,
  groupTypeIndex,
  rollout,
  subject,
  valid,
}: {
  projectId: number;
  properties: PropertyFilter[];
  groupTypeIndex: number | null;
  /** The set's rollout percentage, or null when it is not a number yet. */
  rollout: number | null;
  /** Plural noun: "persons" or the group type's plural. */
  subject: string;
  /** false while a filter is incomplete: nothing is asked. */
  valid: boolean;
}) {
  const [radius, setRadius] = useState<Radius | null>(null);
  const [state, setState] = useState<'idle' | 'loading' | 'error'>('idle');
  const condition = JSON.stringify(properties);
  useEffect(() => {
    if (!valid) {
      setState('idle');
      return;
    }
    const controller = new AbortController();
    setState('loading');
    const timer = setTimeout(() => {
      api
        .post<Radius>(
          flagsPath(projectId, 'user_blast_radius/'),
          { condition: { properties: JSON.parse(condition) }, group_type_index: groupTypeIndex },
          { signal: controller.signal },
        )
        .then((r) => {
          setRadius(r);
          setState('idle');
        })
        .catch((e: Error) => {
          if (e.name !== 'AbortError') setState('error');
        });
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [projectId, condition, groupTypeIndex, valid]);

  let text: string;
  if (!valid) text = 'Complete the filters to see how many this set reaches.';
  else if (state === 'error') text = `Could not count the ${subject} this set reaches.`;
  else if (!radius) text = `Counting ${subject}…`;
  else {
    const { users_affected: n, total_users: m } = radius;
    text = `Affects ${n.toLocaleString()} of ${m.toLocaleString()} ${subject} (${percent(n, m)} %)`;
    if (rollout !== null && rollout < 100 && n > 0) text += `, about ${Math.round((n * rollout) / 100).toLocaleString()} at ${rollout} % rollout`;
  }
  return (
    <p className="blast-radius muted" aria-live="polite" aria-busy={state === 'loading' || undefined} data-state={state}>
      {text}
    </p>
  );
}

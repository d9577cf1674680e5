// Flag staleness (docs/compatibility.md#api-7.1, the [2025] rules): the /status endpoint and the
// `status` field.
import type { FeatureFlagRow } from './repository.ts';
import { DAY_MS } from '../platform/time.ts';
import { fullyRolledOutValue } from './filters.ts';

export type FlagStatus = 'active' | 'stale' | 'deleted' | 'unknown';

export interface FlagStatusResult {
  status: FlagStatus;
  reason: string;
}

const STALE_AFTER_DAYS = 30;

export function flagStatus(flag: FeatureFlagRow | undefined, now: Date): FlagStatusResult {
  if (!flag) return { status: 'unknown', reason: 'Flag could not be found' };
  if (flag.deleted) return { status: 'deleted', reason: 'Flag has been deleted' };
  if (!flag.active) return { status: 'active', reason: 'Flag is disabled (not evaluated for staleness)' };
  if (flag.lastCalledAt) {
    const sinceMs = now.getTime() - flag.lastCalledAt.getTime();
    const days = Math.floor(sinceMs / DAY_MS);
    // Same boundary as the `?active=STALE` query: called longer than 30 days ago.
    if (sinceMs > STALE_AFTER_DAYS * DAY_MS) {
      return { status: 'stale', reason: `Flag has not been called in ${days} days` };
    }
    if (days <= 0) return { status: 'active', reason: 'Flag was called today' };
    return { status: 'active', reason: `Flag was last called ${days} day${days === 1 ? '' : 's'} ago` };
  }
  const ageMs = now.getTime() - flag.createdAt.getTime();
  if (ageMs >= STALE_AFTER_DAYS * DAY_MS) {
    const value = fullyRolledOutValue(flag.filters);
    if (value === true) return { status: 'stale', reason: 'This boolean flag will always evaluate to "true"' };
    if (typeof value === 'string') return { status: 'stale', reason: `This flag will always use the variant "${value}"` };
  }
  return { status: 'active', reason: 'Flag has no usage data yet' };
}

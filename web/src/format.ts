// Formatting helpers: people, times, flag states.
import type { FeatureFlag, UserBasic } from './types.ts';

export function userName(user: { first_name?: string; last_name?: string; email?: string | null } | null | undefined): string {
  if (!user) return 'Unknown';
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ');
  return name || user.email || 'Unknown';
}

const RTF = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'Never';
  const seconds = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, size] of UNITS) if (Math.abs(seconds) >= size) return RTF.format(Math.round(seconds / size), unit);
  return 'just now';
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' });
}

export function isMultivariate(flag: Pick<FeatureFlag, 'filters'>): boolean {
  return (flag.filters?.multivariate?.variants?.length ?? 0) > 0;
}

export function flagStatus(flag: FeatureFlag): { label: string; tone: 'success' | 'warning' | 'danger' | 'neutral' } {
  if (flag.deleted) return { label: 'Deleted', tone: 'danger' };
  if (!flag.active) return { label: 'Disabled', tone: 'neutral' };
  if (flag.status === 'STALE') return { label: 'Stale', tone: 'warning' };
  return { label: 'Enabled', tone: 'success' };
}

export const LEVELS: Record<number, string> = { 1: 'Member', 8: 'Admin', 15: 'Owner' };

export function initials(user: UserBasic | { first_name?: string; email?: string } | null | undefined): string {
  const source = user?.first_name || user?.email || '?';
  return source.slice(0, 1).toUpperCase();
}

// Time rendering as PostHog does it: ISO 8601 UTC with microseconds and a Z.

export function isoTime(date: Date): string;
export function isoTime(date: Date | null | undefined): string | null;
export function isoTime(date: Date | null | undefined): string | null {
  if (!date) return null;
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export const DAY_MS = 24 * 60 * 60 * 1000;

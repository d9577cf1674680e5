// The personal-API-key scopes the server accepts (PostHog's API_SCOPE_OBJECTS), for the scope picker,
// and how a key's scopes and projects read in a list.
import type { PersonalApiKey, ProjectBasic } from '../types.ts';

// The server's own list, so the picker can never offer a scope the server refuses.
export { API_SCOPE_OBJECTS as SCOPE_OBJECTS } from '../../../src/access/scopes.ts';

/** The objects flaghost serves, listed first in the picker; the others are accepted for compatibility. */
export const SERVED_OBJECTS = [
  'feature_flag',
  'activity_log',
  'cohort',
  'person',
  'group',
  'dashboard',
  'project',
  'organization',
  'organization_member',
  'user',
];

export const objectLabel = (object: string) => object.replace(/_/g, ' ');

export function scopeSummary(key: PersonalApiKey): string {
  if (!key.scopes.length || key.scopes.includes('*')) return 'All access';
  return key.scopes.map((s) => s.replace(':', ': ').replace(/_/g, ' ')).join(', ');
}

export function projectSummary(key: PersonalApiKey, projects: ProjectBasic[]): string {
  const teams = key.scoped_teams ?? [];
  const orgs = key.scoped_organizations ?? [];
  if (!teams.length && !orgs.length) return 'All your projects';
  const parts = teams.map((id) => projects.find((p) => p.id === id)?.name ?? `Project ${id}`);
  if (orgs.length) parts.push(`${orgs.length} organization${orgs.length > 1 ? 's' : ''}`);
  return parts.join(', ');
}

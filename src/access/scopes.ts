// PostHog's personal-API-key scopes: the objects a scope may name, the check every writer of
// keys shares (the CLI and the /api/personal_api_keys/ routes), and what "full access" means.

/** PostHog's API_SCOPE_OBJECTS: a scoped key names `<object>:read` or `<object>:write`, or `*`. */
export const API_SCOPE_OBJECTS = [
  'action',
  'activity_log',
  'annotation',
  'batch_export',
  'cohort',
  'dashboard',
  'dashboard_template',
  'early_access_feature',
  'error_tracking',
  'event_definition',
  'experiment',
  'export',
  'feature_flag',
  'file_system',
  'group',
  'hog_function',
  'insight',
  'notebook',
  'organization',
  'organization_member',
  'person',
  'plugin',
  'project',
  'property_definition',
  'query',
  'session_recording',
  'session_recording_playlist',
  'sharing_configuration',
  'subscription',
  'survey',
  'user',
  'webhook',
] as const;

/** The first scope outside PostHog's format, or undefined when every scope is valid. */
export function findInvalidScope(scopes: readonly string[]): string | undefined {
  for (const scope of scopes) {
    if (scope === '*') continue;
    const [object, action, ...rest] = scope.split(':');
    const known = (API_SCOPE_OBJECTS as readonly string[]).includes(object);
    if (!known || (action !== 'read' && action !== 'write') || rest.length) return scope;
  }
  return undefined;
}

/** PostHog's message for a scope outside the format. */
export const invalidScopeMessage = (scope: string) => `Invalid scope: ${scope}`;

/**
 * A key that may do whatever its owner may: no scope limits (legacy null/empty scopes, or `*`)
 * and no project or organization scoping. Only such a key manages personal API keys.
 */
export function isFullAccessKey(key: { scopes: string[] | null; scopedTeams: number[] | null; scopedOrganizations: string[] | null }): boolean {
  const unlimited = !key.scopes?.length || key.scopes.includes('*');
  return unlimited && !key.scopedTeams?.length && !key.scopedOrganizations?.length;
}

// Shapes of the flaghost (PostHog-compatible) API responses the console reads.

export interface UserBasic {
  id: number;
  uuid: string;
  first_name: string;
  last_name: string;
  email: string;
}

export interface ProjectBasic {
  id: number;
  uuid: string;
  organization: string;
  api_token: string;
  name: string;
}

export interface Project extends ProjectBasic {
  secret_api_token: string | null;
  secret_api_token_backup: string | null;
  effective_membership_level: number | null;
  timezone: string;
}

export interface OrganizationBasic {
  id: string;
  name: string;
  membership_level: number | null;
}

export interface Me {
  uuid: string;
  distinct_id: string;
  first_name: string;
  last_name: string;
  email: string;
  team: ProjectBasic | null;
  organization: (OrganizationBasic & { teams: ProjectBasic[] }) | null;
  organizations: OrganizationBasic[];
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export type PropertyType = 'person' | 'cohort' | 'flag' | 'group';

export interface PropertyFilter {
  key: string;
  type: PropertyType;
  operator?: string;
  value?: unknown;
  group_type_index?: number | null;
  cohort_name?: string;
  negation?: boolean;
}

export interface ConditionGroup {
  properties?: PropertyFilter[];
  rollout_percentage?: number | null;
  variant?: string | null;
  description?: string | null;
}

export interface Variant {
  key: string;
  name?: string;
  rollout_percentage: number;
}

export interface Filters {
  groups?: ConditionGroup[];
  multivariate?: { variants: Variant[] } | null;
  payloads?: Record<string, unknown>;
  aggregation_group_type_index?: number | null;
  [other: string]: unknown;
}

export type FlagStatus = 'ACTIVE' | 'STALE' | 'DELETED' | 'UNKNOWN' | 'INACTIVE';

export interface FeatureFlag {
  id: number;
  name: string;
  key: string;
  filters: Filters;
  deleted: boolean;
  active: boolean;
  created_by: UserBasic | null;
  created_at: string;
  updated_at: string | null;
  version: number | null;
  last_modified_by: UserBasic | null;
  ensure_experience_continuity: boolean | null;
  tags: string[];
  evaluation_tags: string[];
  usage_dashboard: number | null;
  is_remote_configuration: boolean | null;
  status: FlagStatus;
  evaluation_runtime: 'server' | 'client' | 'all';
  last_called_at: string | null;
  can_edit: boolean;
}

export interface ActivityChange {
  type: string;
  action: 'created' | 'changed' | 'deleted';
  field: string;
  before: unknown;
  after: unknown;
}

export interface ActivityEntry {
  id?: string;
  user: { first_name: string; email: string | null; is_system?: boolean } | null;
  activity: string;
  scope: string;
  item_id: string;
  detail: { changes: ActivityChange[] | null; name: string | null };
  created_at: string;
}

export interface ActivityPage {
  results: ActivityEntry[];
  next: string | null;
  previous: string | null;
  total_count: number;
}

export interface Cohort {
  id: number;
  name: string;
  deleted?: boolean;
  is_static?: boolean;
}

export interface GroupType {
  group_type: string;
  group_type_index: number;
  name_singular: string | null;
  name_plural: string | null;
}

export interface OrganizationMember {
  id: string;
  user: UserBasic;
  level: number;
  joined_at: string;
}

export interface Invite {
  id: string;
  target_email: string;
  first_name: string;
  level: number;
  is_expired: boolean;
  created_by: UserBasic | null;
  created_at: string;
}

export interface PersonalApiKey {
  id: string;
  label: string;
  mask_value: string;
  scopes: string[];
  created_at: string;
  last_used_at: string | null;
  last_rolled_at: string | null;
  scoped_teams: number[] | null;
  scoped_organizations: string[] | null;
  value?: string | null;
}

export interface TrendSeries {
  label: string;
  count: number;
  data: number[];
  days: string[];
  breakdown_value?: string;
}

export interface Dashboard {
  id: number;
  name: string;
  tiles: Array<{ id: number; insight: { name: string; description: string; result: TrendSeries[] } }>;
}

export interface Preflight {
  available_social_auth_providers?: { oidc?: boolean };
  site_url?: string;
  email_service_available?: boolean;
}

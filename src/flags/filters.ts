// Pure helpers over PostHog's flag `filters` JSON: normalization, variants, cohort references,
// and the "fully rolled out" rule used by staleness.

export type Filters = Record<string, unknown>;
type Group = { properties?: unknown; rollout_percentage?: unknown; variant?: unknown };

/** PostHog's get_filters(): legacy flags without `groups` are presented as one group. */
export function normalizeFilters(filters: Filters | null | undefined, legacyRollout: number | null): Filters {
  const f = filters && typeof filters === 'object' && !Array.isArray(filters) ? filters : {};
  if ('groups' in f) return f;
  return { groups: [{ properties: Array.isArray(f.properties) ? f.properties : [], rollout_percentage: legacyRollout }] };
}

export function variantsOf(filters: Filters): Array<{ key: string; rollout_percentage?: unknown }> {
  const mv = filters.multivariate;
  if (mv && typeof mv === 'object' && Array.isArray((mv as { variants?: unknown }).variants)) {
    return (mv as { variants: Array<{ key: string; rollout_percentage?: unknown }> }).variants;
  }
  return [];
}

const isFullGroup = (g: Group): boolean =>
  typeof g.rollout_percentage === 'number' && g.rollout_percentage === 100 && (!Array.isArray(g.properties) || g.properties.length === 0);

/**
 * The value a fully rolled-out flag always serves, or undefined when the flag is not fully rolled
 * out: `true` for boolean flags, the variant key for multivariate ones.
 */
export function fullyRolledOutValue(rawFilters: Filters | null | undefined): true | string | undefined {
  const raw = rawFilters && typeof rawFilters === 'object' ? rawFilters : {};
  if (Object.keys(raw).length === 0) return true;
  const groups = (Array.isArray(raw.groups) ? raw.groups : []) as Group[];
  const full = groups.filter((g) => g && typeof g === 'object' && isFullGroup(g));
  if (!full.length) return undefined;
  const variants = variantsOf(raw);
  if (!variants.length) return true;
  const override = full.find((g) => typeof g.variant === 'string' && g.variant !== '');
  if (override) return override.variant as string;
  const fullVariant = variants.find((v) => v.rollout_percentage === 100);
  return fullVariant ? fullVariant.key : undefined;
}

export function cohortIdsInFilters(filters: Record<string, unknown>): number[] {
  const ids = new Set<number>();
  const groups = Array.isArray(filters.groups) ? filters.groups : [];
  for (const g of groups) {
    const props = g && typeof g === 'object' && Array.isArray((g as { properties?: unknown }).properties) ? (g as { properties: unknown[] }).properties : [];
    for (const p of props) {
      if (p && typeof p === 'object' && (p as { type?: unknown }).type === 'cohort') {
        const id = Number((p as { value?: unknown }).value);
        if (Number.isInteger(id)) ids.add(id);
      }
    }
  }
  return [...ids];
}

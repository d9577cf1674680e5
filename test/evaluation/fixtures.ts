// Builders for evaluation tests: flag, cohort and project definitions with sensible defaults.
import { compileProject, type CohortDefinition, type FlagDefinition, type GroupTypeDefinition } from '../../src/evaluation/index.js';

let nextId = 1000;

export function flag(key: string, filters: Record<string, unknown>, overrides: Partial<FlagDefinition> = {}): FlagDefinition {
  return {
    id: nextId++,
    projectId: 1,
    key,
    name: key,
    active: true,
    deleted: false,
    filters,
    ensureExperienceContinuity: false,
    hasEncryptedPayloads: false,
    version: 1,
    evaluationRuntime: 'all',
    bucketingIdentifier: 'distinct_id',
    evaluationTags: [],
    isRemoteConfiguration: false,
    ...overrides,
  };
}

export function cohort(id: number, filters: Record<string, unknown>, overrides: Partial<CohortDefinition> = {}): CohortDefinition {
  return { id, name: `cohort ${id}`, filters, isStatic: false, deleted: false, ...overrides };
}

export function person(key: string, value: unknown, operator?: string, extra: Record<string, unknown> = {}) {
  return { key, value, type: 'person', ...(operator ? { operator } : {}), ...extra };
}

export function project(flags: FlagDefinition[], cohorts: CohortDefinition[] = [], groupTypes: GroupTypeDefinition[] = [], timezone?: string) {
  return compileProject({ flags, cohorts, groupTypes, timezone });
}

/** A rollout-only condition set. */
export function rollout(percentage: number | null, extra: Record<string, unknown> = {}) {
  return { properties: [], rollout_percentage: percentage, ...extra };
}

// Cohort properties in a flag's filters (docs/compatibility.md#api-3.5): the cohort exists in the
// project, and neither it nor the live cohorts it references filter on events.
import type { Db } from '../platform/db/index.ts';
import { ValidationError } from '../platform/errors.ts';
import { findCohortsByIds, type CohortRow } from '../cohorts/repository.ts';
import { isPlainObject, pyInt, pyStr, pyTruthy } from './validation-values.ts';

interface CohortLeaf {
  type: unknown;
  value: unknown;
}

/** The leaf properties of a cohort's filters (`{properties: {type, values: [...]}}`, nested groups flattened). */
export function cohortLeafProperties(filters: unknown): CohortLeaf[] {
  const out: CohortLeaf[] = [];
  const root = isPlainObject(filters) ? filters.properties : undefined;
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push(node[i]);
    } else if (isPlainObject(node)) {
      if (Array.isArray(node.values) && (node.type === 'AND' || node.type === 'OR')) stack.push(node.values);
      else out.push({ type: pyTruthy(node.type) ? node.type : 'event', value: node.value });
    }
  }
  return out;
}

function referencedCohortIds(cohort: CohortRow): number[] {
  const ids: number[] = [];
  for (const leaf of cohortLeafProperties(cohort.filters)) {
    if (leaf.type !== 'cohort' || Array.isArray(leaf.value)) continue;
    const id = pyInt(leaf.value);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

const INT4_MAX = 2_147_483_647;
const inInt4 = (n: number) => n >= -INT4_MAX - 1 && n <= INT4_MAX;

export class CohortLookup {
  private readonly cache = new Map<number, CohortRow | null>();
  constructor(
    private readonly tx: Db,
    private readonly projectId: number,
  ) {}

  async get(id: number): Promise<CohortRow | null> {
    if (!inInt4(id)) return null;
    if (!this.cache.has(id)) {
      const [row] = await findCohortsByIds(this.tx, this.projectId, [id]);
      this.cache.set(id, row ?? null);
    }
    return this.cache.get(id)!;
  }
}

/** The cohort exists in the project; neither it nor the live cohorts it references use behavioral filters. */
export async function checkCohortProperty(value: unknown, cohorts: CohortLookup): Promise<void> {
  const id = Array.isArray(value) || isPlainObject(value) ? undefined : pyInt(value);
  const initial = id === undefined ? null : await cohorts.get(id);
  if (!initial) throw new ValidationError(`Cohort with id ${pyStr(value)} does not exist`, 'cohort_does_not_exist', 'filters');
  // PostHog's get_all_cohort_dependencies: a LIFO walk over live referenced cohorts.
  const chain: CohortRow[] = [initial];
  const seen = new Set([initial.id]);
  const queue = referencedCohortIds(initial);
  while (queue.length) {
    const current = await cohorts.get(queue.pop()!);
    if (!current || current.deleted || seen.has(current.id)) continue;
    chain.push(current);
    seen.add(current.id);
    queue.push(...referencedCohortIds(current));
  }
  for (const cohort of chain) {
    if (cohortLeafProperties(cohort.filters).some((p) => p.type === 'behavioral')) {
      throw new ValidationError(`Cohort '${cohort.name}' with filters on events cannot be used in feature flags.`, 'behavioral_cohort_found', 'filters');
    }
  }
}

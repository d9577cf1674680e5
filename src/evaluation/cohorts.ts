// Cohort definitions compiled to property-group trees, and membership with the server's rules
// (docs/compatibility.md#sdk-3.8).
import { resolveZone, type Zone } from './dates.js';
import { compilePropertyMatcher, type MatchContext, type PropertyMatcher } from './operators.js';
import type { CohortDefinition, Properties } from './types.js';
import { isPlainObject, parseIntegerId } from './values.js';

export type MembershipOperator = 'in' | 'not_in' | 'other';

interface GroupNode {
  kind: 'group';
  or: boolean;
  children: CohortNode[];
}

interface PropertyLeaf {
  kind: 'property';
  match: PropertyMatcher;
  negation: boolean;
}

interface CohortRefLeaf {
  kind: 'cohort';
  cohortId: number;
  operator: MembershipOperator;
  negation: boolean;
}

type CohortNode = GroupNode | PropertyLeaf | CohortRefLeaf;

/**
 * - `ok`: evaluate `root` against person properties;
 * - `unevaluable`: behavioral/unknown filters or a malformed tree: never a member;
 * - `cycle`: the cohort reaches a reference cycle: never a member;
 * - `missing`: the cohort reaches a deleted or unknown cohort: evaluation fails, as on the server.
 */
export type CohortStatus = 'ok' | 'unevaluable' | 'cycle' | 'missing';

export interface CompiledCohort {
  id: number;
  isStatic: boolean;
  status: CohortStatus;
  root: GroupNode | null;
  /** Cohort ids referenced anywhere in the tree. */
  references: number[];
}

/** Thrown during a request when a flag reaches a cohort that does not exist. */
export class CohortNotFoundError extends Error {
  constructor(readonly cohortId: number) {
    super(`Cohort ${cohortId} not found`);
  }
}

export function membershipOperator(op: unknown): MembershipOperator {
  if (op === undefined || op === null || op === 'in') return 'in';
  if (op === 'not_in') return 'not_in';
  return 'other';
}

// Property types the server can evaluate from person properties inside a cohort. A "group" or
// "flag" leaf is matched against person properties too, as the Rust service does.
const PROPERTY_TYPES = new Set(['person', 'group', 'flag', 'person_metadata']);

class Unevaluable extends Error {}

function compileNode(node: unknown, zone: Zone, refs: Set<number>): CohortNode {
  if (!isPlainObject(node)) throw new Unevaluable();
  if (Array.isArray(node.values) && typeof node.type === 'string' && !('key' in node)) {
    const type = node.type;
    if (type !== 'AND' && type !== 'OR' && type !== 'property') throw new Unevaluable();
    return { kind: 'group', or: type === 'OR', children: node.values.map((child) => compileNode(child, zone, refs)) };
  }
  const type = node.type === undefined || node.type === null ? 'person' : node.type;
  const negation = node.negation === true || node.negation === 'true';
  if (type === 'cohort') {
    const cohortId = parseIntegerId(node.value);
    if (cohortId === undefined) throw new Unevaluable();
    refs.add(cohortId);
    return { kind: 'cohort', cohortId, operator: membershipOperator(node.operator), negation };
  }
  // Behavioral ("performed event …") and other non-property filters need an event store.
  if (typeof type !== 'string' || !PROPERTY_TYPES.has(type)) throw new Unevaluable();
  const match: PropertyMatcher = type === 'person_metadata' ? () => false : compilePropertyMatcher(node, zone);
  return { kind: 'property', match, negation };
}

/** The stored `{properties: group}` form or a bare `{type, values}` group. */
export function cohortRootGroup(filters: unknown): unknown {
  if (!isPlainObject(filters)) return undefined;
  if ('properties' in filters) return filters.properties;
  if ('type' in filters && 'values' in filters) return filters;
  return undefined;
}

export function compileCohort(def: CohortDefinition, zone: Zone): CompiledCohort {
  const refs = new Set<number>();
  if (def.isStatic) return { id: def.id, isStatic: true, status: 'ok', root: null, references: [] };
  const rootValue = cohortRootGroup(def.filters);
  try {
    const root = compileNode(rootValue, zone, refs);
    // The server parses the top level as a strict AND/OR group; `{}` or a bare filter is malformed.
    if (root.kind !== 'group' || !isPlainObject(rootValue) || (rootValue.type !== 'AND' && rootValue.type !== 'OR')) {
      throw new Unevaluable();
    }
    return { id: def.id, isStatic: false, status: 'ok', root, references: [...refs] };
  } catch (error) {
    if (!(error instanceof Unevaluable)) throw error;
    return { id: def.id, isStatic: false, status: 'unevaluable', root: null, references: [] };
  }
}

/**
 * Mark cohorts that reach a missing cohort or a cycle (Tarjan's SCCs, emitted dependencies first).
 */
export function resolveCohortGraph(cohorts: Map<number, CompiledCohort>): void {
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const reachesMissing = new Map<number, boolean>();
  const reachesCycle = new Map<number, boolean>();
  let counter = 0;

  const strongConnect = (id: number): void => {
    index.set(id, counter);
    low.set(id, counter);
    counter++;
    stack.push(id);
    onStack.add(id);
    const refs = cohorts.get(id)!.references;
    for (const ref of refs) {
      if (!cohorts.has(ref)) continue;
      if (!index.has(ref)) {
        strongConnect(ref);
        low.set(id, Math.min(low.get(id)!, low.get(ref)!));
      } else if (onStack.has(ref)) {
        low.set(id, Math.min(low.get(id)!, index.get(ref)!));
      }
    }
    if (low.get(id) === index.get(id)) {
      const component: number[] = [];
      let member: number;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== id);
      const inComponent = new Set(component);
      let missing = false;
      let cycle = component.length > 1;
      for (const m of component) {
        for (const ref of cohorts.get(m)!.references) {
          if (!cohorts.has(ref)) missing = true;
          else if (inComponent.has(ref)) cycle = cycle || ref === m || component.length > 1;
          else {
            missing = missing || reachesMissing.get(ref)!;
            cycle = cycle || reachesCycle.get(ref)!;
          }
        }
      }
      for (const m of component) {
        reachesMissing.set(m, missing);
        reachesCycle.set(m, cycle);
      }
    }
  };

  for (const id of cohorts.keys()) {
    if (!index.has(id)) strongConnect(id);
  }
  for (const [id, cohort] of cohorts) {
    if (cohort.status !== 'ok' || cohort.isStatic) continue;
    // The server builds the whole reference graph first, so a missing cohort wins over a cycle.
    if (reachesMissing.get(id)) cohort.status = 'missing';
    else if (reachesCycle.get(id)) cohort.status = 'cycle';
  }
}

/** Per-request membership lookups over a compiled cohort set. */
export class CohortEvaluator {
  private memo: Map<number, boolean> | null = null;

  constructor(
    private readonly cohorts: Map<number, CompiledCohort>,
    private readonly staticMembers: ReadonlySet<number> | undefined,
    private readonly person: Properties,
    private readonly ctx: MatchContext,
  ) {}

  /** Is the person in the cohort? Throws CohortNotFoundError for unknown or deleted cohorts. */
  isMember(id: number): boolean {
    const cohort = this.cohorts.get(id);
    if (!cohort) throw new CohortNotFoundError(id);
    if (cohort.isStatic) return this.staticMembers?.has(id) ?? false;
    switch (cohort.status) {
      case 'missing':
        throw new CohortNotFoundError(id);
      case 'unevaluable':
      case 'cycle':
        return false;
    }
    if (!this.memo) this.memo = new Map();
    const known = this.memo.get(id);
    if (known !== undefined) return known;
    const result = this.group(cohort.root!);
    this.memo.set(id, result);
    return result;
  }

  /** `in` / `not_in` membership; any other operator never matches. */
  matches(id: number, operator: MembershipOperator): boolean {
    if (operator === 'other') {
      // Still resolve the cohort so a missing one fails the flag like on the server.
      this.isMember(id);
      return false;
    }
    const member = this.isMember(id);
    return operator === 'in' ? member : !member;
  }

  private group(node: GroupNode): boolean {
    const children = node.children;
    if (node.or) {
      for (let i = 0; i < children.length; i++) {
        if (this.node(children[i], true)) return true;
      }
      return false;
    }
    for (let i = 0; i < children.length; i++) {
      if (!this.node(children[i], false)) return false;
    }
    return true;
  }

  private node(node: CohortNode, insideOr: boolean): boolean {
    switch (node.kind) {
      case 'group':
        return this.group(node);
      case 'property': {
        const result = node.match(this.person, this.ctx);
        return node.negation ? !result : result;
      }
      case 'cohort': {
        const result = this.matches(node.cohortId, node.operator);
        // Server detail: inside an OR group a cohort reference's negation is ignored.
        return insideOr || !node.negation ? result : !result;
      }
    }
  }
}

/**
 * One cohort's membership test over a project's cohort definitions, for listing members: the
 * cohort itself (deleted or not) and the project's non-deleted cohorts it may reference, compiled
 * once; `isMember` then answers per person from stored properties and static memberships. A
 * reference to a missing cohort or a cycle makes nobody a member.
 */
export function cohortMembershipTest(
  definitions: readonly CohortDefinition[],
  cohortId: number,
  timezone: string | null | undefined,
  now: Date,
): (person: Properties, staticCohortIds: ReadonlySet<number>) => boolean {
  const zone = resolveZone(timezone);
  const cohorts = new Map<number, CompiledCohort>();
  for (const def of definitions) {
    if (!def.deleted || def.id === cohortId) cohorts.set(def.id, compileCohort(def, zone));
  }
  resolveCohortGraph(cohorts);
  const ctx: MatchContext = { nowMs: () => now.getTime() };
  return (person, staticCohortIds) => {
    try {
      return new CohortEvaluator(cohorts, staticCohortIds, person, ctx).isMember(cohortId);
    } catch (error) {
      if (error instanceof CohortNotFoundError) return false;
      throw error;
    }
  };
}

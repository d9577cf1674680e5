// Per-flag state kept from one snapshot build to the next (docs/architecture.md#snapshots-and-change-notifications):
// the row, its definition, and what was derived from it (property reads, the definitions pieces of
// both variants). A flag's state is replaced when its row's change stamp changes, so the caches on
// it only depend on the rest of the project (cohorts, other flags' keys), which their keys name.
import {
  ChainBuilder,
  cohortsSection,
  definitionsEntry,
  flagConditionRewrites,
  flagPropertyReads,
  flagProperties,
  groupTypeMapping,
  rewriteFlagConditions,
  servedInDefinitions,
  type CohortDefinition,
  type FlagDefinition,
  type GroupTypeDefinition,
  type PropertyReads,
} from '../evaluation/index.ts';
import type { FeatureFlagRow } from '../flags/repository.ts';
import { assembleDefinitionsBody, makePiece, type DefinitionsBody, type Piece } from './definitions-body.ts';
import type { TimeSlicer } from './time-slice.ts';

interface CachedPiece {
  /** What the piece depends on besides the flag itself (its flag conditions' keys and chains, the cohorts). */
  context: string;
  piece: Piece;
  cohortIds: number[];
}

export interface FlagState {
  readonly row: FeatureFlagRow;
  readonly def: FlagDefinition;
  readonly stamp: number;
  /** A condition (or early-access gate) on a cohort: its reads and definitions follow the cohorts. */
  readonly usesCohorts: boolean;
  /** A condition on another flag: its definitions entry names that flag's key and dependency chain. */
  readonly usesFlags: boolean;
  reads?: { cohortsVersion: number; value: PropertyReads };
  /** By variant: 0 `send_cohorts`, 1 cohorts expanded. */
  readonly pieces: [CachedPiece | undefined, CachedPiece | undefined];
}

function propertiesOfType(filters: Record<string, unknown>, type: string): boolean {
  for (const list of [filters.groups, filters.super_groups]) {
    if (!Array.isArray(list)) continue;
    for (const group of list) {
      const props = group && typeof group === 'object' ? (group as Record<string, unknown>).properties : undefined;
      if (Array.isArray(props) && props.some((p) => p && typeof p === 'object' && (p as Record<string, unknown>).type === type)) return true;
    }
  }
  return false;
}

export function flagState(row: FeatureFlagRow, def: FlagDefinition): FlagState {
  return {
    row,
    def,
    stamp: row.changeStamp,
    usesCohorts: propertiesOfType(def.filters, 'cohort'),
    usesFlags: propertiesOfType(def.filters, 'flag'),
    pieces: [undefined, undefined],
  };
}

/** What the flag reads (active flags only are asked), computed once per flag and cohorts version. */
export function readsOf(state: FlagState, cohorts: Map<number, CohortDefinition>, cohortsVersion: number): PropertyReads {
  const version = state.usesCohorts ? cohortsVersion : -1;
  if (state.reads?.cohortsVersion !== version) state.reads = { cohortsVersion: version, value: flagPropertyReads(state.def, cohorts) };
  return state.reads.value;
}

/** What the definitions of one snapshot are made of. */
export interface DefinitionsSource {
  /** Served flags (not deleted, not remote configuration) in definitions order. */
  served: readonly FlagState[];
  /** Every live flag by id. */
  byId: ReadonlyMap<number, FlagState>;
  liveCohorts: Map<number, CohortDefinition>;
  /** Changes whenever the project's cohorts do. */
  cohortsVersion: number;
  groupTypes: readonly GroupTypeDefinition[];
  projectId: number;
}

/** The dependency rewrite's lookups over the served flags (only built when a flag has flag conditions). */
function chainsOf(source: DefinitionsSource): { keyOfId: (ref: string) => string | undefined; chains: ChainBuilder } {
  const keyOfId = (ref: string) => {
    const state = source.byId.get(Number(ref));
    return state && servedInDefinitions(state.def) && String(state.def.id) === ref ? state.def.key : undefined;
  };
  const served = new Set<string>();
  const depsByKey = new Map<string, string[]>();
  for (const state of source.served) {
    served.add(state.def.key);
    if (state.usesFlags) {
      const filters = state.def.filters;
      depsByKey.set(
        state.def.key,
        flagProperties(filters).map((p) => keyOfId(String(p.key ?? '')) ?? String(p.key ?? '')),
      );
    }
  }
  return {
    keyOfId,
    chains: new ChainBuilder(
      (key) => served.has(key),
      (key) => depsByKey.get(key) ?? [],
    ),
  };
}

/**
 * The definitions body of one variant, from the flags' cached pieces: a flag's piece is rendered
 * again only when it is new, or what it depends on changed. Byte for byte JSON.stringify(buildDefinitions()).
 */
export async function renderDefinitions(source: DefinitionsSource, sendCohorts: boolean, slicer: TimeSlicer): Promise<DefinitionsBody> {
  const variant = sendCohorts ? 0 : 1;
  const lookups = source.served.some((s) => s.usesFlags) ? chainsOf(source) : undefined;
  const pieces: Piece[] = new Array(source.served.length);
  const reached: number[] = [];
  for (let i = 0; i < source.served.length; i++) {
    const state = source.served[i];
    let cached = state.pieces[variant];
    let rendered: ReturnType<typeof definitionsEntry> | undefined;
    let context = state.usesCohorts ? `c${source.cohortsVersion}` : '';
    let rewrites: Array<[string, string[]]> | undefined;
    if (lookups && state.usesFlags) {
      // The flag conditions as this variant renders them (a cohort expansion may drop some).
      rendered = definitionsEntry(state.def, source.liveCohorts, sendCohorts, source.projectId);
      rewrites = flagConditionRewrites(rendered.entry.filters, lookups.keyOfId, lookups.chains);
      context += JSON.stringify(rewrites);
    }
    if (!cached || cached.context !== context) {
      rendered ??= definitionsEntry(state.def, source.liveCohorts, sendCohorts, source.projectId);
      if (rewrites) rewriteFlagConditions(rendered.entry, rewrites);
      cached = { context, piece: makePiece(JSON.stringify(rendered.entry)), cohortIds: rendered.cohortIds };
      state.pieces[variant] = cached;
    }
    pieces[i] = cached.piece;
    if (sendCohorts) for (const id of cached.cohortIds) reached.push(id);
    if (slicer.due()) await slicer.next();
  }
  const rest = { group_type_mapping: groupTypeMapping(source.groupTypes), cohorts: sendCohorts ? cohortsSection(reached, source.liveCohorts) : {} };
  return assembleDefinitionsBody(pieces, rest, sendCohorts, slicer);
}

// Domain inputs and outputs of the pure evaluation engine (plain objects, camelCase).

export type EvaluationRuntime = 'server' | 'client' | 'all';

export interface FlagDefinition {
  id: number;
  projectId: number;
  key: string;
  name: string;
  active: boolean;
  deleted: boolean;
  /** PostHog filters JSON as stored; dependency properties carry the dependency's flag id as a string key. */
  filters: Record<string, unknown>;
  ensureExperienceContinuity: boolean;
  hasEncryptedPayloads: boolean;
  version: number | null;
  evaluationRuntime: EvaluationRuntime;
  bucketingIdentifier: 'distinct_id' | 'device_id';
  evaluationTags: string[];
  isRemoteConfiguration: boolean;
}

export interface CohortDefinition {
  id: number;
  name: string;
  /** `{properties: {type, values}}` as PostHog stores it, or a bare `{type, values}` property group. */
  filters: Record<string, unknown>;
  isStatic: boolean;
  deleted: boolean;
}

export interface GroupTypeDefinition {
  groupType: string;
  groupTypeIndex: number;
}

export type Properties = Record<string, unknown>;

export interface EvaluationRequest {
  distinctId: string;
  deviceId?: string | null;
  anonDistinctId?: string | null;
  /** group type name → group key */
  groups?: Record<string, string | number>;
  personProperties?: Properties;
  /** group type name → properties */
  groupProperties?: Record<string, Properties>;
  /** flag key → stored hash key (experience continuity) */
  hashKeyOverrides?: Record<string, string>;
  /** static cohorts the person belongs to */
  staticCohortIds?: ReadonlySet<number>;
  /**
   * Flags that cannot be evaluated for this request (flag key → why), because the stored data
   * they read could not be loaded: each comes back false and `failed`, with the error as reason.
   */
  failedFlags?: ReadonlyMap<string, EvaluationError>;
  /** explicit or inferred (see inferRuntime); undefined means unknown */
  runtime?: EvaluationRuntime;
  evaluationContexts?: string[];
  flagKeys?: string[];
  onlySurveyFlags?: boolean;
  now?: Date;
}

/** An evaluation error as a flag reports it: a PostHog error code and its description. */
export interface EvaluationError {
  code: string;
  description: string;
}

export type ReasonCode =
  | 'condition_match'
  | 'no_condition_match'
  | 'out_of_rollout_bound'
  | 'no_group_type'
  | 'super_condition_value'
  | 'holdout_condition_value'
  | 'flag_disabled'
  | 'missing_dependency'
  | 'dependency_not_found_cohort';

export interface FlagEvaluationReason {
  code: ReasonCode | string;
  conditionIndex: number | null;
  description: string;
}

export interface FlagEvaluation {
  key: string;
  id: number;
  version: number | null;
  enabled: boolean;
  variant: string | null;
  /** The stored payload for the final value, unchanged; `undefined` when there is none. */
  payload: unknown;
  reason: FlagEvaluationReason;
  /** Set when the server would report an evaluation error (`errorsWhileComputingFlags`). */
  failed?: boolean;
}

/**
 * A shared result's slot for what a renderer derives from it once (the /flags answer's bytes).
 * Results are frozen and shared by every answer of a snapshot (evaluate.ts): a property lookup on
 * the result is cheaper than a WeakMap keyed by it. Not enumerable, so results compare and copy
 * as before.
 */
export const RESULT_MEMO = Symbol('result memo');
export interface ResultMemo {
  bytes?: Uint8Array;
}

// Public surface of the pure evaluation engine: compile a project snapshot, evaluate requests, build definitions.
export type {
  CohortDefinition,
  EvaluationError,
  EvaluationRequest,
  EvaluationRuntime,
  FlagDefinition,
  FlagEvaluation,
  FlagEvaluationReason,
  GroupTypeDefinition,
  Properties,
  ReasonCode,
} from './types.js';
export { RESULT_MEMO, type ResultMemo } from './types.js';
export { compileProject, SURVEY_FLAG_PREFIX, type CompiledFlag, type CompiledProject, type CompileProjectInput } from './compile.js';
export { evaluateFlags } from './evaluate.js';
export { requestedClosure } from './closure.js';
export {
  buildDefinitions,
  ChainBuilder,
  cohortsSection,
  definitionsEntry,
  definitionsOrder,
  flagConditionRewrites,
  flagProperties,
  groupTypeMapping,
  liveDynamicCohorts,
  rewriteFlagConditions,
  servedInDefinitions,
  type BuildDefinitionsInput,
  type DefinitionsFlag,
  type DefinitionsPayload,
} from './definitions.js';
export { compileIncrementally, type CompileMemo, type IncrementalCompileInput, type StampedFlag } from './incremental.js';
export { inferRuntime, type InferRuntimeInput } from './runtime.js';
export { cohortIds, dependencyIds, flagReferencesCohorts } from './dependencies.js';
export { cohortMembershipTest } from './cohorts.js';
export { flagHash, hash, holdoutHash } from './hash.js';
export {
  flagPropertyReads,
  propertyReads,
  propertyReadsByFlag,
  readsStoredData,
  requestedReadsStoredData,
  type PropertyReads,
} from './reads.js';

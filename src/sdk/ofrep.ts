// OpenFeature's Remote Evaluation Protocol (OFREP) over the /flags engine: an OFREP evaluation
// context → the same request /flags parses, and the engine's results → OFREP's bodies, reasons,
// error codes and metadata (docs/compatibility.md#ofrep). No evaluation of its own.
import crypto from 'node:crypto';
import type { CompiledFlag, FlagEvaluation } from '../evaluation/index.ts';
import type { ProjectSnapshot } from './snapshots.ts';
import { parseFlagsRequest, type ParsedFlagsRequest, type RequestContext } from './remote-evaluation.ts';

type Json = Record<string, unknown>;

/** OFREP's error codes (docs/compatibility.md#ofrep-7). */
export type OfrepErrorCode = 'PARSE_ERROR' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'GENERAL' | 'FLAG_NOT_FOUND';

/** A request OFREP answers with 400 (or 404 for FLAG_NOT_FOUND) and an OFREP body. */
export class OfrepError extends Error {
  constructor(
    readonly errorCode: OfrepErrorCode,
    readonly errorDetails: string,
  ) {
    super(errorDetails);
  }

  get statusCode(): number {
    return this.errorCode === 'FLAG_NOT_FOUND' ? 404 : 400;
  }
}

/** Context fields with a meaning of their own; every other field is a person property. */
const RESERVED = new Set(['targetingKey', 'groups', 'groupProperties']);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The evaluation context of an OFREP body as a /flags body: `targetingKey` → `distinct_id`,
 * `groups` (type → key) and `groupProperties` (type → properties) as /flags takes them, every
 * other field a person property. The result goes through parseFlagsRequest, so truncation,
 * `$initial_…` properties and the runtime are those of /flags.
 */
export function parseOfrepRequest(body: unknown, flagKey: string | undefined, req: RequestContext): ParsedFlagsRequest {
  if (body === undefined) throw new OfrepError('PARSE_ERROR', 'The request body is empty: send {"context": {...}}.');
  if (!isObject(body)) throw new OfrepError('PARSE_ERROR', 'The request body must be a JSON object.');
  const context = body.context ?? {};
  if (!isObject(context)) throw new OfrepError('INVALID_CONTEXT', 'context must be an object.');
  const targetingKey = context.targetingKey;
  if (targetingKey === undefined || targetingKey === null || targetingKey === '') {
    throw new OfrepError('TARGETING_KEY_MISSING', 'context.targetingKey is required: flaghost evaluates flags for a distinct id.');
  }
  if (typeof targetingKey !== 'string') throw new OfrepError('INVALID_CONTEXT', 'context.targetingKey must be a string.');
  const groups = context.groups ?? {};
  if (!isObject(groups) || !Object.values(groups).every((k) => typeof k === 'string' || (typeof k === 'number' && Number.isFinite(k)))) {
    throw new OfrepError('INVALID_CONTEXT', 'context.groups must map each group type to a group key (a string or a number).');
  }
  const groupProperties = context.groupProperties ?? {};
  if (!isObject(groupProperties) || !Object.values(groupProperties).every(isObject)) {
    throw new OfrepError('INVALID_CONTEXT', 'context.groupProperties must map each group type to an object of properties.');
  }
  const personProperties: Json = {};
  for (const [name, value] of Object.entries(context)) if (!RESERVED.has(name)) personProperties[name] = value;
  return parseFlagsRequest(
    {
      distinct_id: targetingKey,
      person_properties: personProperties,
      groups,
      group_properties: groupProperties,
      ...(flagKey === undefined ? {} : { flag_keys_to_evaluate: [flagKey] }),
    },
    req,
  );
}

// ---- results → OFREP ---------------------------------------------------------------------------

export interface OfrepSuccess {
  key: string;
  value: boolean | string;
  reason: string;
  variant?: string;
  metadata: Record<string, string | number | boolean>;
}

export interface OfrepFailure {
  key: string;
  errorCode: OfrepErrorCode;
  errorDetails: string;
  metadata?: Record<string, string | number | boolean>;
}

/**
 * OpenFeature's reason for a result (docs/compatibility.md#ofrep): DISABLED for an inactive flag,
 * SPLIT when a percentage decided it (a rollout under 100 % or a variant drawn by hash), STATIC
 * for a condition with no properties at 100 % and no split, TARGETING_MATCH for other matches,
 * DEFAULT when no condition matched.
 */
export function ofrepReason(result: FlagEvaluation, flag: CompiledFlag | undefined): string {
  switch (result.reason.code) {
    case 'flag_disabled':
      return 'DISABLED';
    case 'out_of_rollout_bound':
      return 'SPLIT';
    case 'no_condition_match':
    case 'no_group_type':
      return 'DEFAULT';
    case 'condition_match': {
      const condition = flag && result.reason.conditionIndex !== null ? flag.conditions[result.reason.conditionIndex] : undefined;
      if (!condition) return 'TARGETING_MATCH';
      const drawnVariant = flag!.variants.length > 1 && condition.variant === null;
      if (condition.rollout < 100 || drawnVariant) return 'SPLIT';
      return condition.filters.length === 0 && condition.cohortFilters.length === 0 ? 'STATIC' : 'TARGETING_MATCH';
    }
    default:
      return 'TARGETING_MATCH';
  }
}

/** Flag metadata: primitives only, as OpenFeature's flag metadata allows (the payload as JSON text, as in /flags). */
function metadataOf(result: FlagEvaluation): Record<string, string | number | boolean> {
  const metadata: Record<string, string | number | boolean> = {
    flagId: result.id,
    version: result.version ?? 0,
    posthogReason: result.reason.code,
    posthogReasonDescription: result.reason.description,
  };
  if (result.reason.conditionIndex !== null) metadata.conditionIndex = result.reason.conditionIndex;
  // As /flags gives it: the stored JSON text.
  const payload = result.payload;
  if (result.enabled && payload !== undefined && payload !== null) metadata.payload = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return metadata;
}

/**
 * One result in OFREP's shape. The value is what posthog-node's getFeatureFlag returns: the
 * variant of a multivariate flag, else true, or false when the flag is off. A result the engine
 * could not compute (stored data unreadable) is a GENERAL failure.
 */
export function ofrepResult(result: FlagEvaluation, snapshot: ProjectSnapshot): OfrepSuccess | OfrepFailure {
  if (result.failed) return { key: result.key, errorCode: 'GENERAL', errorDetails: result.reason.description, metadata: metadataOf(result) };
  const index = snapshot.compiled.flagIndexByKey.get(result.key);
  const flag = index === undefined ? undefined : snapshot.compiled.flags[index];
  const answer: OfrepSuccess = {
    key: result.key,
    value: result.enabled ? (result.variant ?? true) : false,
    reason: ofrepReason(result, flag),
    metadata: metadataOf(result),
  };
  if (result.variant !== null) answer.variant = result.variant;
  return answer;
}

/** The answer for an inactive flag, which the engine skips: off, DISABLED. */
export function disabledResult(flag: CompiledFlag): OfrepSuccess {
  return {
    key: flag.key,
    value: false,
    reason: 'DISABLED',
    metadata: { flagId: flag.id, version: flag.version ?? 0, posthogReason: 'flag_disabled', posthogReasonDescription: 'Feature flag is disabled' },
  };
}

/** The bulk answer's JSON and its strong ETag: a hash of the answer, so the same flags for the same context give the same tag. */
export function bulkAnswer(results: FlagEvaluation[], snapshot: ProjectSnapshot): { body: string; etag: string } {
  const body = JSON.stringify({ flags: results.map((r) => ofrepResult(r, snapshot)) });
  return { body, etag: `"${crypto.createHash('sha1').update(body).digest('base64url')}"` };
}

/** Whether an If-None-Match header names this ETag (a list, weak or strong, or `*`). */
export function etagMatches(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  const header = Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch;
  if (!header) return false;
  const bare = etag.replace(/^"(.*)"$/, '$1');
  return header.split(',').some((candidate) => {
    const value = candidate
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1');
    return value === bare || value === '*';
  });
}

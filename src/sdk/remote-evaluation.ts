// Remote evaluation (/flags, /decide): an SDK request body → the evaluation request of the pure
// engine → results, using only the in-memory project snapshot on the common path.
import crypto from 'node:crypto';
import type { ProjectSnapshot } from './snapshots.ts';
import type { AppContext } from '../platform/context.ts';
import { loadPersonContext } from '../persons/service.ts';

import {
  evaluateFlags,
  inferRuntime,
  readsStoredData,
  requestedClosure,
  requestedReadsStoredData,
  type EvaluationError,
  type EvaluationRequest,
  type FlagEvaluation,
} from '../evaluation/index.ts';
import { ValidationError } from '../platform/errors.ts';
import { databaseFailure } from '../platform/db/errors.ts';

type Json = Record<string, unknown>;

/** PostHog truncates distinct ids to 200 characters (ingestion does the same). */
export const MAX_DISTINCT_ID_LENGTH = 200;

const asObject = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);

/**
 * Properties PostHog copies to `$initial_…` when the request lacks the initial value
 * (docs/compatibility.md#sdk-3.1).
 */
const INITIAL_PROPERTIES = [
  '$browser',
  '$browser_version',
  '$os',
  '$os_version',
  '$current_url',
  '$pathname',
  '$referrer',
  '$referring_domain',
  '$device_type',
  '$app_version',
  '$app_build',
  '$screen_height',
  '$screen_width',
  '$viewport_height',
  '$viewport_width',
  '$raw_user_agent',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_content',
  'utm_term',
  'gclid',
  'gad_source',
  'gbraid',
  'wbraid',
  'fbclid',
  'msclkid',
  'twclid',
  'li_fat_id',
  'mc_cid',
  'igshid',
  'ttclid',
  'rdt_cid',
];

export interface ParsedFlagsRequest {
  token?: string;
  distinctId: string;
  evaluation: EvaluationRequest;
  disableFlags: boolean;
}

export interface RequestContext {
  query: Record<string, unknown>;
  userAgent?: string;
  hasBrowserHeaders: boolean;
}

function stringList(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.filter((x): x is string => typeof x === 'string');
}

/**
 * Reads PostHog's body fields with their aliases (docs/compatibility.md#sdk-2.2). `distinct_id` is
 * required.
 */
export function parseFlagsRequest(body: unknown, req: RequestContext): ParsedFlagsRequest {
  const b = asObject(body) ?? {};
  const token = str(b.token) ?? str(b.api_key) ?? str(b.$token) ?? str(req.query.token) ?? str(req.query.api_key);
  const rawDistinct = b.distinct_id ?? b.$distinct_id;
  const distinct = str(rawDistinct);
  if (distinct === undefined) throw new ValidationError('The request is missing distinct_id.', 'missing_distinct_id', 'distinct_id');
  const distinctId = distinct.slice(0, MAX_DISTINCT_ID_LENGTH);

  const groups: Record<string, string | number> = {};
  for (const [type, key] of Object.entries(asObject(b.groups ?? b.$groups) ?? {})) {
    if (typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key))) groups[type] = key;
  }
  // distinct_id first: the request's own person properties win over it (docs/compatibility.md#sdk-3.1).
  const personProperties: Json = { distinct_id: distinctId, ...(asObject(b.person_properties ?? b.$properties) ?? {}) };
  const groupProperties: Record<string, Json> = {};
  for (const [type, props] of Object.entries(asObject(b.group_properties ?? b.$group_properties) ?? {})) {
    const o = asObject(props);
    if (o) groupProperties[type] = o;
  }
  const explicitRuntime = str(b.evaluation_runtime);
  const runtime = inferRuntime({ explicit: explicitRuntime, userAgent: req.userAgent, hasBrowserHeaders: req.hasBrowserHeaders });
  const deviceId = str(b.$device_id) ?? str(b.device_id) ?? str(personProperties.$device_id) ?? null;
  const onlySurvey = str(req.query.only_evaluate_survey_feature_flags)?.toLowerCase() === 'true';
  return {
    token,
    distinctId,
    disableFlags: b.disable_flags === true,
    evaluation: {
      distinctId,
      deviceId,
      // Stored as a distinct id and a hash key (experience continuity): truncated like distinct_id.
      anonDistinctId: (str(b.$anon_distinct_id) ?? str(b.anon_distinct_id))?.slice(0, MAX_DISTINCT_ID_LENGTH) ?? null,
      groups,
      personProperties,
      groupProperties,
      runtime,
      evaluationContexts: stringList(b.evaluation_contexts ?? b.evaluation_environments),
      flagKeys: stringList(b.flag_keys_to_evaluate ?? b.flag_keys),
      onlySurveyFlags: onlySurvey,
    },
  };
}

/** Group type names the request uses that the project has not registered yet. */
export function unseenGroupTypes(snapshot: ProjectSnapshot, request: EvaluationRequest): string[] {
  return Object.keys(request.groups ?? {}).filter((name) => !snapshot.groupTypeIndexByName.has(name));
}

const INITIAL_NAMES = INITIAL_PROPERTIES.map((key) => (key.charCodeAt(0) === 36 /* $ */ ? `$initial_${key.slice(1)}` : `$initial_${key}`));

/** Fills `$initial_X` from `X` where the merged properties lack it (docs/compatibility.md#sdk-3.1). */
function fillInitialProperties(props: Json): void {
  for (let i = 0; i < INITIAL_PROPERTIES.length; i++) {
    const key = INITIAL_PROPERTIES[i];
    if (Object.hasOwn(props, key) && !Object.hasOwn(props, INITIAL_NAMES[i])) props[INITIAL_NAMES[i]] = props[key];
  }
}

/**
 * Whether stored data could change this answer: static cohorts or continuity overrides are in
 * play, or an active flag reads a person or group property the request did not send.
 */
function needsStoredContext(snapshot: ProjectSnapshot, request: EvaluationRequest): boolean {
  if (request.flagKeys) return requestedFlagsNeedStoredContext(snapshot, request, request.flagKeys);
  if (snapshot.staticCohortIds.size > 0 || snapshot.continuityFlagKeys.length > 0) return true;
  return readsStoredData(snapshot.reads, request, snapshot.compiled.groupTypeNames);
}

/** needsStoredContext for a request naming its flags: only those flags and their dependencies count. */
function requestedFlagsNeedStoredContext(snapshot: ProjectSnapshot, request: EvaluationRequest, keys: readonly string[]): boolean {
  const compiled = snapshot.compiled;
  return requestedReadsStoredData(compiled, snapshot.flagReads(), snapshot.continuityFlagKeys, requestedClosure(compiled, keys), request);
}

/**
 * Evaluates a request against the snapshot, merging the request over the stored person and group
 * properties, static-cohort membership and continuity overrides (docs/compatibility.md#sdk-3.1,
 * #sdk-3.12). The database is read only when stored data could change the answer (needsStoredContext);
 * otherwise the answer is computed synchronously. When the stored data cannot be read, the answer is
 * still given (see withoutStoredData); `onLookupError` hears why, with an error code fit for logs.
 */
export function evaluateRemote(
  ctx: AppContext,
  snapshot: ProjectSnapshot,
  request: EvaluationRequest,
  onLookupError?: (code: string) => void,
): FlagEvaluation[] | Promise<FlagEvaluation[]> {
  if (!needsStoredContext(snapshot, request)) return evaluateMerged(snapshot, request);
  // Known to be down: don't wait for a connection that will be refused.
  if (!ctx.database.health.available) return withoutStoredData(snapshot, request, DATABASE_UNAVAILABLE);
  return withStoredContext(ctx, snapshot, request).then(
    (merged) => evaluateMerged(snapshot, merged),
    (error: unknown) => {
      const reason = lookupError(error);
      onLookupError?.(reason.code);
      return withoutStoredData(snapshot, request, reason);
    },
  );
}

function evaluateMerged(snapshot: ProjectSnapshot, merged: EvaluationRequest): FlagEvaluation[] {
  fillInitialProperties(merged.personProperties!);
  return evaluateFlags(snapshot.compiled, merged);
}

// PostHog's flags service names these errors so (reason.code and description of a failed flag).
const DATABASE_UNAVAILABLE: EvaluationError = { code: 'database_unavailable', description: 'database unavailable' };
const HASH_KEY_OVERRIDE_ERROR: EvaluationError = {
  code: 'hash_key_override_error',
  description: 'Failed to fetch hash key override for experience continuity',
};

function lookupError(error: unknown): EvaluationError {
  const failure = databaseFailure(error);
  if (failure?.kind === 'unavailable') return DATABASE_UNAVAILABLE;
  if (failure?.kind === 'timeout') return { code: `timeout:${failure.what}`, description: `Timeout: ${failure.what}` };
  return { code: 'database_error', description: 'Database connection error during evaluation' };
}

/**
 * The answer when the stored person, group, cohort and override data could not be read, as
 * PostHog's flags service gives it when its person lookup fails: the answer is not an error.
 * Flags that need nothing stored (every property they read is in the request, no static cohort)
 * are evaluated from the request alone and are exactly right. Each flag that would need the
 * missing data comes back `enabled: false, failed: true` with the lookup error as its reason,
 * rather than a value computed without data that could have changed it; continuity flags, whose
 * bucketing needs the stored hash key, fail with PostHog's hash-key-override error; and the answer
 * says `errorsWhileComputingFlags: true`. SDKs then keep their earlier value of a failed flag
 * (posthog-js) or treat it as an error, instead of losing every flag to a 5xx.
 */
function withoutStoredData(snapshot: ProjectSnapshot, request: EvaluationRequest, error: EvaluationError): FlagEvaluation[] {
  const failedFlags = new Map<string, EvaluationError>();
  const groupTypeNames = snapshot.compiled.groupTypeNames;
  for (const [key, reads] of snapshot.flagReads()) {
    if (readsStoredData(reads, request, groupTypeNames)) failedFlags.set(key, error);
  }
  for (const key of snapshot.continuityFlagKeys) if (!failedFlags.has(key)) failedFlags.set(key, HASH_KEY_OVERRIDE_ERROR);
  return evaluateMerged(snapshot, { ...request, failedFlags });
}

async function withStoredContext(ctx: AppContext, snapshot: ProjectSnapshot, request: EvaluationRequest): Promise<EvaluationRequest> {
  const groupKeys: Record<number, string | number> = {};
  for (const [name, key] of Object.entries(request.groups ?? {})) {
    const index = snapshot.groupTypeIndexByName.get(name);
    if (index !== undefined) groupKeys[index] = key;
  }
  const stored = await loadPersonContext(ctx.db, snapshot.project.id, {
    distinctId: request.distinctId,
    anonDistinctId: request.anonDistinctId,
    groups: groupKeys,
    continuityFlagKeys: snapshot.continuityFlagKeys,
  });
  const groupProperties: Record<string, Json> = { ...request.groupProperties };
  for (const [index, props] of stored.groupProperties) {
    const name = snapshot.compiled.groupTypeNames[index];
    if (name !== undefined) groupProperties[name] = { ...props, ...request.groupProperties?.[name] };
  }
  return {
    ...request,
    personProperties: { ...stored.personProperties, ...request.personProperties },
    groupProperties,
    staticCohortIds: stored.staticCohortIds,
    hashKeyOverrides: stored.hashKeyOverrides,
  };
}

/** `X-Request-ID` when it is a UUID, else a fresh UUIDv4 (docs/compatibility.md#sdk-5). */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value) ? value : crypto.randomUUID();
}

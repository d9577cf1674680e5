// Remote evaluation (/flags, /decide): an SDK request body → the evaluation request of the pure
// engine → results, using only the in-memory project snapshot on the common path.
import crypto from 'node:crypto';
import type { ProjectSnapshot } from './snapshots.ts';
import type { AppContext } from './context.ts';
import { loadPersonContext } from './persons.ts';

import { evaluateFlags, inferRuntime, type EvaluationRequest, type FlagEvaluation } from '../evaluation/index.ts';
import { ValidationError } from '../lib/errors.ts';

type Json = Record<string, unknown>;

/** PostHog truncates distinct ids to 200 characters (ingestion does the same). */
export const MAX_DISTINCT_ID_LENGTH = 200;

const asObject = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);

/** Properties PostHog copies to `$initial_…` when the request lacks the initial value (SDK §3.1). */
const INITIAL_PROPERTIES = [
  '$browser', '$browser_version', '$os', '$os_version', '$current_url', '$pathname', '$referrer', '$referring_domain',
  '$device_type', '$app_version', '$app_build', '$screen_height', '$screen_width', '$viewport_height', '$viewport_width',
  '$raw_user_agent', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'gclid', 'gad_source',
  'gbraid', 'wbraid', 'fbclid', 'msclkid', 'twclid', 'li_fat_id', 'mc_cid', 'igshid', 'ttclid', 'rdt_cid',
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

/** Reads PostHog's body fields with their aliases (SDK §2.2). `distinct_id` is required. */
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
  // distinct_id first: the request's own person properties win over it (SDK §3.1).
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

/** Fills `$initial_X` from `X` where the merged properties lack it (SDK §3.1). */
function fillInitialProperties(props: Json): void {
  for (let i = 0; i < INITIAL_PROPERTIES.length; i++) {
    const key = INITIAL_PROPERTIES[i];
    if (Object.hasOwn(props, key) && !Object.hasOwn(props, INITIAL_NAMES[i])) props[INITIAL_NAMES[i]] = props[key];
  }
}

/**
 * Whether stored data could change this answer: static cohorts or continuity overrides are in
 * play, or an active flag reads a person or group property the request did not send (request
 * properties win over stored ones, so a key the request carries needs no lookup).
 */
function needsStoredContext(snapshot: ProjectSnapshot, request: EvaluationRequest): boolean {
  if (snapshot.staticCohortIds.size > 0 || snapshot.continuityFlagKeys.length > 0) return true;
  const person = request.personProperties ?? {};
  for (const key of snapshot.reads.person) if (!Object.hasOwn(person, key)) return true;
  const groups = request.groups ?? {};
  for (const [index, keys] of snapshot.reads.groups) {
    const name = snapshot.compiled.groupTypeNames[index];
    if (name === undefined || !Object.hasOwn(groups, name)) continue;
    const props = request.groupProperties?.[name] ?? {};
    for (const key of keys) if (!Object.hasOwn(props, key)) return true;
  }
  return false;
}

/**
 * Evaluates a request against the snapshot, merging the request over the stored person and group
 * properties, static-cohort membership and continuity overrides (SDK §3.1, §3.12). The database
 * is read only when stored data could change the answer (needsStoredContext); otherwise the
 * answer is computed synchronously.
 */
export function evaluateRemote(ctx: AppContext, snapshot: ProjectSnapshot, request: EvaluationRequest): FlagEvaluation[] | Promise<FlagEvaluation[]> {
  if (!needsStoredContext(snapshot, request)) return evaluateMerged(snapshot, request);
  return withStoredContext(ctx, snapshot, request).then((merged) => evaluateMerged(snapshot, merged));
}

function evaluateMerged(snapshot: ProjectSnapshot, merged: EvaluationRequest): FlagEvaluation[] {
  fillInitialProperties(merged.personProperties!);
  return evaluateFlags(snapshot.compiled, merged);
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

/** `X-Request-ID` when it is a UUID, else a fresh UUIDv4 (SDK §5). */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value) ? value : crypto.randomUUID();
}

// One /flags or /decide POST from its decoded body to the answer's bytes. Both the
// server-level hot path and the Fastify route call it, so the two cannot drift apart.
import type { IncomingHttpHeaders } from 'node:http';
import type { AppContext } from '../platform/context.ts';
import type { ProjectSnapshot, SnapshotStore } from './snapshots.ts';
import { evaluateRemote, parseFlagsRequest, requestIdFrom, unseenGroupTypes, type ParsedFlagsRequest } from './remote-evaluation.ts';
import type { FlagEvaluation } from '../evaluation/index.ts';
import { ensureGroupTypes } from '../groups/service.ts';
import { renderFlagsResponse, shapeFor, type Endpoint } from './flags-response.ts';
import { AuthenticationFailedError } from '../platform/errors.ts';

export interface FlagsRequestInput {
  endpoint: Endpoint;
  /** The decoded body (the transport decodes gzip, base64 and forms). */
  body: unknown;
  query: Record<string, unknown>;
  headers: IncomingHttpHeaders;
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

type Answer = Buffer | string;

const unknownToken = () => new AuthenticationFailedError('Project API key invalid. You can find your project API key in your PostHog project settings.');

/** What the caller logs: a failed group type registration, and stored data that could not be read (an error code). */
export interface FlagsAnswerLog {
  groupTypeRegistrationFailed(err: unknown): void;
  storedDataUnavailable(code: string): void;
}

/**
 * The JSON answering a /flags or /decide POST; API errors are thrown (or reject) for the caller
 * to render. The answer is synchronous when the project's snapshot is built and no stored data
 * can change it (the common case): the hot path then writes it without promise hops.
 */
export function answerFlagsPost(ctx: AppContext, snapshots: SnapshotStore, input: FlagsRequestInput, log: FlagsAnswerLog): Answer | Promise<Answer> {
  const { headers, query } = input;
  const parsed = parseFlagsRequest(input.body, {
    query,
    userAgent: header(headers, 'user-agent'),
    hasBrowserHeaders: Boolean(headers.origin || headers.referer || headers['sec-fetch-mode'] || headers['sec-fetch-site']),
  });
  if (!parsed.token) throw unknownToken();
  const snapshot = snapshots.peekForToken(parsed.token);
  if (snapshot) return answerFor(ctx, snapshot, parsed, input, log);
  return snapshots.forToken(parsed.token).then((loaded) => {
    if (!loaded) throw unknownToken();
    return answerFor(ctx, loaded, parsed, input, log);
  });
}

function answerFor(
  ctx: AppContext,
  snapshot: ProjectSnapshot,
  parsed: ParsedFlagsRequest,
  input: FlagsRequestInput,
  log: FlagsAnswerLog,
): Answer | Promise<Answer> {
  const unseen = unseenGroupTypes(snapshot, parsed.evaluation);
  // Registering a new group type cannot change this answer (no flag targets it yet): don't wait.
  if (unseen.length) ensureGroupTypes(ctx, snapshot.project.id, unseen).catch((err: unknown) => log.groupTypeRegistrationFailed(err));
  if (parsed.disableFlags) return render(input, snapshot, []);
  const results = evaluateRemote(ctx, snapshot, parsed.evaluation, (code) => log.storedDataUnavailable(code));
  return Array.isArray(results) ? render(input, snapshot, results) : results.then((r) => render(input, snapshot, r));
}

function render(input: FlagsRequestInput, snapshot: ProjectSnapshot, results: FlagEvaluation[]): Answer {
  snapshot.usage.flagsEvaluated += results.length;
  return renderFlagsResponse(input.endpoint, shapeFor(input.endpoint, input.query), results, snapshot, requestIdFrom(input.headers['x-request-id']));
}

/** The body of GET /flags and /decide: config and no flags. */
export function answerFlagsGet(endpoint: Endpoint, query: Record<string, unknown>, headers: IncomingHttpHeaders): Buffer | string {
  return renderFlagsResponse(endpoint, shapeFor(endpoint, query), [], undefined, requestIdFrom(headers['x-request-id']));
}

// One /flags or /decide POST from its decoded body to the answer's bytes. Both the
// server-level hot path and the Fastify route call it, so the two cannot drift apart.
import type { IncomingHttpHeaders } from 'node:http';
import type { AppContext } from './context.ts';
import type { SnapshotStore } from './snapshots.ts';
import { evaluateRemote, parseFlagsRequest, requestIdFrom, unseenGroupTypes } from './remote-evaluation.ts';
import { ensureGroupTypes } from './group-types.ts';
import { renderFlagsResponse, shapeFor, type Endpoint } from './flags-response.ts';
import { AuthenticationFailedError } from '../lib/errors.ts';

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

/** The JSON answering a /flags or /decide POST; API errors are thrown for the caller to render. */
export async function answerFlagsPost(
  ctx: AppContext,
  snapshots: SnapshotStore,
  input: FlagsRequestInput,
  onBackgroundError: (err: unknown) => void,
): Promise<Buffer | string> {
  const { headers, query } = input;
  const parsed = parseFlagsRequest(input.body, {
    query,
    userAgent: header(headers, 'user-agent'),
    hasBrowserHeaders: Boolean(headers.origin || headers.referer || headers['sec-fetch-mode'] || headers['sec-fetch-site']),
  });
  const snapshot = parsed.token ? (snapshots.peekForToken(parsed.token) ?? (await snapshots.forToken(parsed.token))) : undefined;
  if (!snapshot) throw new AuthenticationFailedError('Project API key invalid. You can find your project API key in your PostHog project settings.');
  const unseen = unseenGroupTypes(snapshot, parsed.evaluation);
  // Registering a new group type cannot change this answer (no flag targets it yet): don't wait.
  if (unseen.length) ensureGroupTypes(ctx, snapshot.project.id, unseen).catch(onBackgroundError);
  const results = parsed.disableFlags ? [] : await evaluateRemote(ctx, snapshot, parsed.evaluation);
  return renderFlagsResponse(input.endpoint, shapeFor(input.endpoint, query), results, snapshot, requestIdFrom(headers['x-request-id']));
}

/** The body of GET /flags and /decide: config and no flags. */
export function answerFlagsGet(endpoint: Endpoint, query: Record<string, unknown>, headers: IncomingHttpHeaders): Buffer | string {
  return renderFlagsResponse(endpoint, shapeFor(endpoint, query), [], undefined, requestIdFrom(headers['x-request-id']));
}

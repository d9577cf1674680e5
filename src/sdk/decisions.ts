// Every decision of the SDK endpoints `/flags`, `/decide` and the flag definitions, made by the same
// functions whichever path carries the request: the Fastify routes, or the hot path below Fastify
// (src/sdk/hot-path.ts), which only chooses what it can answer from memory and writes the bytes.
// Query parsing, the authorization chain (src/access/authorization.ts), the rate limit, body
// decoding, the answers and their headers are all here or called from here; errors are thrown
// for the caller to render with errorAnswer (src/platform/http/errors.ts). test/sdk/parity.test.ts
// holds both paths to the same answers.
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { AppContext } from '../platform/context.ts';
import { NotFoundError, ValidationError } from '../platform/errors.ts';
import type { Authenticator, RequestAuth } from '../access/auth.ts';
import {
  authorizationChain,
  NOT_IN_MEMORY,
  runChain,
  type AccessLookups,
  type AccessRequest,
  type NotInMemory,
  type RouteAccess,
} from '../access/authorization.ts';
import { countRequest, type RateLimits } from '../access/rate-limit.ts';
import { decodeSdkRequest } from './body.ts';
import { answerFlagsPost, type FlagsAnswerLog } from './flags-answer.ts';
import type { Endpoint } from './flags-response.ts';
import { sendCohortsRequested, type DefinitionsAnswer, type DefinitionsBody, type ProjectSnapshot, type SnapshotStore } from './snapshots.ts';
import { requireProject } from '../access/require-auth.ts';

// ---- the query string --------------------------------------------------------------------------

/**
 * The parameters the SDK endpoints read, each allowed once (`v` and `version` are one parameter).
 * PostHog's flags service refuses a repeated one with 400; so does flaghost, with the same answer
 * on both paths (docs/compatibility.md, "Repeated query parameters"). Others may repeat: the last counts.
 */
const V_OR_VERSION = ['v', 'version'];
const SINGLE = new Map<string, readonly string[]>([
  ['v', V_OR_VERSION],
  ['version', V_OR_VERSION],
]);
for (const name of ['config', 'compression', 'only_evaluate_survey_feature_flags', 'token', 'api_key', '$token', 'send_cohorts', 'personal_api_key']) {
  SINGLE.set(name, [name]);
}

/** A query string as name → value; `+` and %-escapes decoded (a malformed escape leaves its value as sent). */
export function parseSdkQuery(qs: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!qs) return out;
  for (const part of qs.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    // Only a name seen before (or one with an alias) can be a repeat.
    if (out[name] !== undefined || name === 'v' || name === 'version') {
      if (SINGLE.get(name)?.some((other) => out[other] !== undefined)) {
        throw new ValidationError(`The query parameter '${name}' may appear only once.`, 'invalid_input', name);
      }
    }
    out[name] = decode(eq < 0 ? '' : part.slice(eq + 1));
  }
  return out;
}

function decode(text: string): string {
  if (text.indexOf('%') < 0 && text.indexOf('+') < 0) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** The query string of a request URL (without the `?`). */
export function queryStringOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

// ---- flag definitions --------------------------------------------------------------------------

/** `/flags/definitions` and `/api/feature_flag/local_evaluation`: the project from `token`, else the caller's. */
export const DEFINITIONS_ACCESS: RouteAccess = { scope: 'feature_flag:read', projectSecret: true, project: 'legacy', rateLimit: 'definitions' };
/** `/api/projects/:project_id/feature_flags/local_evaluation`. */
export const PROJECT_DEFINITIONS_ACCESS: RouteAccess = { ...DEFINITIONS_ACCESS, project: 'param' };

const GZIP = /\bgzip\b/;

export interface SdkDecisionDeps {
  ctx: AppContext;
  snapshots: SnapshotStore;
  authenticator: Authenticator;
  rateLimits: RateLimits;
}

export class SdkDecisions {
  /** The server's body limit, which error answers name. */
  readonly bodyLimit: number;
  private readonly ctx: AppContext;
  private readonly snapshots: SnapshotStore;
  private readonly rateLimits: RateLimits;
  /** Credentials from the authenticator (awaiting the database), projects from the snapshots. */
  private readonly awaiting: AccessLookups;
  /** The same from memory alone. */
  private readonly inMemory: AccessLookups;

  constructor({ ctx, snapshots, authenticator, rateLimits }: SdkDecisionDeps) {
    this.ctx = ctx;
    this.bodyLimit = ctx.config.bodyLimitBytes;
    this.snapshots = snapshots;
    this.rateLimits = rateLimits;
    this.awaiting = {
      personalApiKey: (value) => authenticator.personalApiKey(value),
      projectSecret: (value) => authenticator.projectSecret(value),
      session: (token) => authenticator.session(token),
      membership: (userId, organizationId) => authenticator.membership(userId, organizationId),
      projectByToken: (token) => snapshots.forToken(token),
      projectById: (id) => snapshots.forProject(id),
      firstProjectOf: (user) => authenticator.firstProjectOf(user),
      organizationById: (id) => authenticator.organizationById(id),
      currentOrganizationOf: (user) => authenticator.currentOrganizationOf(user),
    };
    const notInMemory = (): NotInMemory => NOT_IN_MEMORY;
    this.inMemory = {
      personalApiKey: (value) => authenticator.peekPersonalApiKey(value),
      projectSecret: (value) => authenticator.peekProjectSecret(value),
      // Sessions are read from the database on every request.
      session: notInMemory,
      membership: (userId, organizationId) => authenticator.peekMembership(userId, organizationId),
      projectByToken: (token) => snapshots.peekForToken(token) ?? NOT_IN_MEMORY,
      projectById: (id) => snapshots.peekForProject(id) ?? NOT_IN_MEMORY,
      firstProjectOf: notInMemory,
      organizationById: notInMemory,
      currentOrganizationOf: notInMemory,
    };
  }

  /**
   * A definitions GET: authorization, the rate limit, then the snapshot's answer (304 when
   * If-None-Match names it, gzip when accepted). `request.query` comes from parseSdkQuery. With
   * `inMemory`, NOT_IN_MEMORY when something must be read first (nothing was counted then).
   */
  definitions(request: AccessRequest, access: RouteAccess, inMemory: boolean): DefinitionsAnswer | Promise<DefinitionsAnswer> | NotInMemory {
    const auth = runChain(authorizationChain(request, access), inMemory ? this.inMemory : this.awaiting);
    if (auth === NOT_IN_MEMORY) return auth;
    if (auth instanceof Promise)
      return auth.then((a) => this.authorizedDefinitions(a, request, access, false) as Promise<DefinitionsAnswer> | DefinitionsAnswer);
    return this.authorizedDefinitions(auth, request, access, inMemory);
  }

  private authorizedDefinitions(
    auth: RequestAuth,
    request: AccessRequest,
    access: RouteAccess,
    inMemory: boolean,
  ): DefinitionsAnswer | Promise<DefinitionsAnswer> | NotInMemory {
    const projectId = requireProject(auth).id;
    const snapshot = this.snapshots.peekForProject(projectId);
    if (snapshot) return this.definitionsAnswer(snapshot, auth, request, access);
    if (inMemory) return NOT_IN_MEMORY;
    return this.snapshots.forProject(projectId).then((loaded) => {
      if (!loaded) throw new NotFoundError('Project not found.');
      return this.definitionsAnswer(loaded, auth, request, access);
    });
  }

  private definitionsAnswer(
    snapshot: ProjectSnapshot,
    auth: RequestAuth,
    request: AccessRequest,
    access: RouteAccess,
  ): DefinitionsAnswer | Promise<DefinitionsAnswer> {
    countRequest(this.rateLimits, auth, access);
    const body = snapshot.definitions(sendCohortsRequested(request.query));
    // Until the snapshot's body is assembled (right after a rebuild), the answer waits for it.
    return body instanceof Promise ? body.then((b) => this.answerFrom(b, request)) : this.answerFrom(body, request);
  }

  private answerFrom(body: DefinitionsBody, request: AccessRequest): DefinitionsAnswer | Promise<DefinitionsAnswer> {
    const ifNoneMatch = request.headers['if-none-match'];
    if (body.notModified(ifNoneMatch)) return body.notModifiedAnswer;
    return GZIP.test(request.headers['accept-encoding'] ?? '') ? body.gzipAnswer() : body.jsonAnswer;
  }

  // ---- /flags and /decide ----------------------------------------------------------------------

  /**
   * A /flags or /decide POST from its raw body and query string to the answer's JSON. Synchronous
   * in the common case (a small body, a built snapshot, nothing stored that could change it).
   */
  flags(
    endpoint: Endpoint,
    raw: Buffer | undefined,
    headers: IncomingHttpHeaders,
    qs: string,
    log: FlagsAnswerLog,
  ): Buffer | string | Promise<Buffer | string> {
    const query = parseSdkQuery(qs);
    const body = decodeSdkRequest(raw, headers, query, 'flags');
    // A large body is decoded in pieces (a promise); the usual small one synchronously.
    return body instanceof Promise
      ? body.then((decoded) => answerFlagsPost(this.ctx, this.snapshots, { endpoint, body: decoded, query, headers }, log))
      : answerFlagsPost(this.ctx, this.snapshots, { endpoint, body, query, headers }, log);
  }
}

/** How /flags answers log what went wrong beside them (both paths). */
export function flagsAnswerLog(log: Pick<Logger, 'warn' | 'error'>): FlagsAnswerLog {
  return {
    groupTypeRegistrationFailed: (err) => log.warn({ err }, 'group type registration failed'),
    storedDataUnavailable: (reason) => log.warn({ reason }, 'flags: stored person data could not be read; the flags that need it are answered as failed'),
  };
}

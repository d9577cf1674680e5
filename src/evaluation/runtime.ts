// Infers a /flags request's evaluation runtime (server or client) as PostHog does
// (docs/compatibility.md#sdk-3.2).
import type { EvaluationRuntime } from './types.js';

const SERVER_SDKS = new Set(['python', 'ruby', 'php', 'java', 'go', 'node', 'dotnet', 'elixir', 'server']);
const CLIENT_SDKS = new Set(['js', 'android', 'ios', 'react-native', 'flutter']);

type HeaderValue = string | string[] | undefined;

export interface InferRuntimeInput {
  /** `evaluation_runtime` from the body: "server"/"client" (any case); anything else means all. */
  explicit?: unknown;
  userAgent?: string | null;
  /** Request headers with lower-case names (Node's IncomingHttpHeaders shape). */
  headers?: Record<string, HeaderValue>;
  /** Set by callers that already checked for Origin / Referer / Sec-Fetch-* themselves. */
  hasBrowserHeaders?: boolean;
}

/**
 * Answers by User-Agent: an SDK sends the same one on every request, so most requests skip the
 * parsing. Bounded; cleared when full.
 */
const byUserAgent = new Map<string, EvaluationRuntime | undefined>();
const USER_AGENTS_CACHED = 256;

function fromUserAgent(ua: string): EvaluationRuntime | undefined {
  const cached = byUserAgent.get(ua);
  if (cached !== undefined || byUserAgent.has(ua)) return cached;
  const runtime = parseUserAgent(ua);
  if (byUserAgent.size >= USER_AGENTS_CACHED) byUserAgent.clear();
  byUserAgent.set(ua, runtime);
  return runtime;
}

function parseUserAgent(ua: string): EvaluationRuntime | undefined {
  if (ua === '') return undefined;
  if (ua.startsWith('posthog-')) {
    // posthog-<sdk>/<version>[ extra]; an unknown SDK name is inconclusive
    const rest = ua.slice('posthog-'.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return undefined;
    const name = rest.slice(0, slash);
    const version =
      rest
        .slice(slash + 1)
        .trim()
        .split(/\s+/)[0] ?? '';
    if (version === '') return undefined;
    if (SERVER_SDKS.has(name)) return 'server';
    if (CLIENT_SDKS.has(name)) return 'client';
    return undefined;
  }
  if (/Mozilla\/|Chrome\/|Safari\/|Firefox\/|Edge\//.test(ua)) return 'client';
  if (ua.includes('python-requests/') || ua.includes('curl/')) return 'server';
  return undefined;
}

function present(headers: Record<string, HeaderValue> | undefined, name: string): boolean {
  return headers !== undefined && headers[name] !== undefined;
}

/**
 * The runtime used to filter runtime-specific flags: the explicit value if given, else the
 * User-Agent (server SDKs, curl → server; browsers and mobile SDKs → client), else browser-only
 * headers (Origin, Referer, Sec-Fetch-*) → client. Undefined means unknown: only flags for all
 * runtimes are evaluated.
 */
export function inferRuntime(input: InferRuntimeInput): EvaluationRuntime | undefined {
  const explicit = input.explicit;
  if (typeof explicit === 'string') {
    const lower = explicit.toLowerCase();
    return lower === 'client' || lower === 'server' ? lower : 'all';
  }
  const headerUa = input.headers?.['user-agent'];
  const ua = input.userAgent ?? (Array.isArray(headerUa) ? headerUa[0] : headerUa);
  if (typeof ua === 'string') {
    const fromUa = fromUserAgent(ua);
    if (fromUa) return fromUa;
  }
  const h = input.headers;
  if (input.hasBrowserHeaders) return 'client';
  if (present(h, 'origin') || present(h, 'referer') || present(h, 'sec-fetch-mode') || present(h, 'sec-fetch-site')) {
    return 'client';
  }
  return undefined;
}

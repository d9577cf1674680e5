// Request rate limits (docs/compatibility.md#api-5.5): per personal API key on the management API
// (burst and sustained), per project on local-evaluation definitions and on remote_config. In
// memory, per instance.
import type { RateLimitConfig } from '../platform/config.ts';
import { ThrottledError } from '../platform/errors.ts';
import type { RequestAuth, RouteAccess } from './authorization.ts';
import { requireProject } from './require-auth.ts';

export interface Limit {
  /** Requests allowed per period (0 disables the limit). */
  limit: number;
  periodMs: number;
}

/** Distinct keys one limiter remembers at most; see RateLimiter. */
export const RATE_LIMIT_MAX_KEYS = 100_000;

/**
 * GCRA (the generic cell rate algorithm, a token bucket in one number): per key and limit it keeps
 * the "theoretical arrival time" of the next request. A request is allowed while that time is at
 * most one period ahead of now; `limit` requests can come at once, then one every period/limit.
 * Rejected requests are not counted (like DRF's throttles).
 *
 * Memory: one small array per key, at most `maxKeys` keys. A key whose times are all in the past
 * is the same as an absent key, so when the map is full those go first; if every key is still
 * busy, the least recently used go (the map is kept in recency order). A hot key is touched on
 * every request, refused ones included, and stays at the recent end, so churning through many
 * other keys never resets it.
 */
export class RateLimiter {
  private readonly entries = new Map<string, number[]>();
  private readonly limits: Array<Limit & { intervalMs: number }>;
  /** Requests refused so far (/metrics reads it). */
  refused = 0;

  constructor(
    limits: Limit[],
    readonly maxKeys: number = RATE_LIMIT_MAX_KEYS,
    private readonly clock: () => number = Date.now,
  ) {
    this.limits = limits.filter((l) => l.limit > 0).map((l) => ({ ...l, intervalMs: l.periodMs / l.limit }));
  }

  get enabled(): boolean {
    return this.limits.length > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Counts one request for `key`: 0 when allowed, otherwise the seconds until one would be. */
  take(key: string): number {
    if (!this.limits.length) return 0;
    const now = this.clock();
    const current = this.entries.get(key);
    const next: number[] = [];
    let waitMs = 0;
    this.limits.forEach((limit, i) => {
      const tat = Math.max(current?.[i] ?? now, now) + limit.intervalMs;
      const allowedAt = tat - limit.periodMs;
      if (allowedAt > now) waitMs = Math.max(waitMs, allowedAt - now);
      next.push(tat);
    });
    if (current) this.entries.delete(key);
    if (waitMs > 0) {
      this.refused++;
      // Refused requests are not counted, but they keep the key among the most recently used.
      if (current) this.entries.set(key, current);
      return waitMs / 1000;
    }
    if (!current && this.entries.size >= this.maxKeys) this.evict(now);
    this.entries.set(key, next);
    return 0;
  }

  /** Seconds until a request for `key` would be allowed, without counting one (0: now). */
  wait(key: string): number {
    const current = this.entries.get(key);
    if (!current) return 0;
    const now = this.clock();
    let waitMs = 0;
    this.limits.forEach((limit, i) => {
      const allowedAt = Math.max(current[i] ?? now, now) + limit.intervalMs - limit.periodMs;
      if (allowedAt > now) waitMs = Math.max(waitMs, allowedAt - now);
    });
    return waitMs / 1000;
  }

  /** Makes room: drops idle keys, then (if still over 90 % full) the least recently used ones. */
  private evict(now: number): void {
    for (const [key, times] of this.entries) {
      if (times.every((t) => t <= now)) this.entries.delete(key);
    }
    const target = Math.floor(this.maxKeys * 0.9);
    for (const key of this.entries.keys()) {
      if (this.entries.size <= target) break;
      this.entries.delete(key);
    }
  }
}

/** The three independent buckets flaghost enforces, built from the configuration. */
export class RateLimits {
  readonly personalKeys: RateLimiter;
  readonly definitions: RateLimiter;
  readonly remoteConfig: RateLimiter;

  constructor(config: RateLimitConfig, options: { maxKeys?: number; clock?: () => number } = {}) {
    const { maxKeys = RATE_LIMIT_MAX_KEYS, clock = Date.now } = options;
    this.personalKeys = new RateLimiter(
      [
        { limit: config.burstPerMinute, periodMs: 60_000 },
        { limit: config.sustainedPerHour, periodMs: 3_600_000 },
      ],
      maxKeys,
      clock,
    );
    const evaluations = [{ limit: config.evaluationsPerMinute, periodMs: 60_000 }];
    this.definitions = new RateLimiter(evaluations, maxKeys, clock);
    this.remoteConfig = new RateLimiter(evaluations, maxKeys, clock);
  }

  /** Management API traffic of one personal API key. */
  checkPersonalKey(keyId: string): void {
    throwIfThrottled(this.personalKeys.take(keyId));
  }

  /** `/flags/definitions` and `local_evaluation` of one project. */
  checkDefinitions(projectId: number): void {
    throwIfThrottled(this.definitions.take(String(projectId)));
  }

  /** `remote_config` of one project. */
  checkRemoteConfig(projectId: number): void {
    throwIfThrottled(this.remoteConfig.take(String(projectId)));
  }
}

/**
 * Counts an authorized request against its route's bucket (429 when it is empty): the project's
 * definitions or remote_config bucket, else the calling personal API key's.
 */
export function countRequest(rateLimits: RateLimits, auth: RequestAuth, access: Pick<RouteAccess, 'rateLimit'>): void {
  if (access.rateLimit === 'definitions') rateLimits.checkDefinitions(requireProject(auth).id);
  else if (access.rateLimit === 'remote_config') rateLimits.checkRemoteConfig(requireProject(auth).id);
  else if (auth.principal.kind === 'user') rateLimits.checkPersonalKey(auth.principal.key.id);
}

function throwIfThrottled(waitSeconds: number): void {
  if (waitSeconds > 0) throw new ThrottledError(waitSeconds);
}

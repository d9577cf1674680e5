// Linear-time regex compilation (RE2) for regex/not_regex filters, done once per snapshot.
import { RE2JS } from 're2js';

export interface SafeRegex {
  test(input: string): boolean;
}

const cache = new Map<string, SafeRegex | null>();
const CACHE_LIMIT = 10_000;

/**
 * Compile a filter pattern, or null when RE2 cannot (syntax errors, lookaheads, backreferences).
 * PostHog's server (fancy_regex) answers false for both regex and not_regex on an invalid
 * pattern; a pattern only RE2 rejects is treated the same way rather than risking a
 * backtracking engine on the request path. Captureless lookbehinds stay linear and are kept.
 */
export function compileRegex(pattern: string): SafeRegex | null {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  let compiled: SafeRegex | null;
  try {
    compiled = RE2JS.compile(pattern, RE2JS.LOOKBEHINDS);
  } catch {
    compiled = null;
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

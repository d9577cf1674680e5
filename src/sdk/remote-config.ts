// The remote-config keys browsers read (from /flags?config=true, /decide and /array/:token/config).
import type { ProjectSnapshot } from './snapshots.ts';

/**
 * The keys PostHog sends when its config cache is empty (docs/compatibility.md#sdk-2.3), plus
 * hasFeatureFlags.
 */
export function configKeys(snapshot: ProjectSnapshot | undefined): Record<string, unknown> {
  return {
    supportedCompression: ['gzip', 'gzip-js'],
    sessionRecording: false,
    surveys: false,
    heatmaps: false,
    capturePerformance: false,
    autocaptureExceptions: false,
    isAuthenticated: false,
    toolbarParams: {},
    config: { enable_collect_everything: true },
    hasFeatureFlags: snapshot ? snapshot.flags.some((f) => f.active) : false,
  };
}

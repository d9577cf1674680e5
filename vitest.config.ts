// Test configuration: every API test file gets its own fresh database (PGlite by default,
// PostgreSQL when DATABASE_URL is set), cloned from a migrated template built once per run.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    // Two workers on every machine: most test time is waiting on PostgreSQL, Chromium and sockets, so
    // two files at once finish in about 60 % of the time even on two cores (vitest's default there is one).
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    reporters: ['default'],
  },
});

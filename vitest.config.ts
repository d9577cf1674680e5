// Test configuration: every API test file gets its own fresh database (PGlite by default,
// PostgreSQL when DATABASE_URL is set), cloned from a migrated template built once per project.
import { defineConfig } from 'vitest/config';

// Files that measure how long something takes while other work runs (a concurrent /flags must
// answer within 100 ms of a hostile request or a blast-radius count, database deadlines,
// connection floods). They run on their own, one at a time, after the rest, so that
// no other test file shares the CPU with them.
const TIMED = [
  'test/app/hostile-*.test.ts',
  'test/app/connections.test.ts',
  'test/platform/db/deadlines.test.ts',
  'test/compat/database-outage.test.ts',
  'test/ops/health.test.ts',
  'test/cli/backup.test.ts',
  'test/flags/tools.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: TIMED,
          // Two files at once on every machine: most test time is waiting on PostgreSQL, Chromium
          // and sockets, so two finish in about 60 % of the time even on two cores (vitest's
          // default there is one; a third was measured no faster).
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: { name: 'timed', include: TIMED, maxWorkers: 1, fileParallelism: false },
      },
    ],
  },
});

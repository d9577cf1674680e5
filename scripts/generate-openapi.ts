// Writes openapi/openapi.json from the route schemas; `--check` fails when the committed file drifts.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/platform/config.ts';
import type { Database } from '../src/platform/db/index.ts';
import { alwaysAvailable } from '../src/platform/db/health.ts';
import { newQueryErrorCounts } from '../src/platform/db/stats.ts';

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../openapi/openapi.json');

// The document is derived from route schemas alone: no database is opened.
const offline: Database = {
  kind: 'pglite',
  db: new Proxy(
    {},
    {
      get: () => {
        throw new Error('no database while generating OpenAPI');
      },
    },
  ) as Database['db'],
  stats: () => ({ queryErrors: newQueryErrorCounts() }),
  health: alwaysAvailable,
  // Nothing to migrate, listen to or close.
  migrate: async () => undefined,
  listen: async () => undefined,
  close: async () => undefined,
};

const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent' }), database: offline });
await app.ready();
const text = JSON.stringify(app.swagger(), null, 2) + '\n';
await app.close();

if (process.argv.includes('--check')) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (current !== text) {
    process.stderr.write('openapi/openapi.json is out of date: run `npm run openapi` and commit the result.\n');
    process.exit(1);
  }
  process.stdout.write('openapi/openapi.json matches the code.\n');
} else {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
}

#!/usr/bin/env node
// Builds the web console (web/ → dist/console) with Vite. Run by `npm install` / `npm ci` (the
// `prepare` script) and by `npm run build:console`. Where the sources or the dev dependencies are
// absent (a production-only install), it says so and succeeds: the server then serves the API alone.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const config = path.join(root, 'web', 'vite.config.ts');

if (!fs.existsSync(config)) {
  console.log('build-console: web/ is not here, the console is not built.');
  process.exit(0);
}
let vite;
try {
  vite = await import('vite');
} catch {
  console.log('build-console: vite is not installed (production-only install), the console is not built.');
  process.exit(0);
}
const started = Date.now();
await vite.build({ configFile: config, logLevel: 'warn' });
console.log(`build-console: built dist/console in ${Date.now() - started} ms`);

#!/usr/bin/env node
// Launcher for the admin CLI. It runs the compiled CLI, dist/cli.js, which `npm install` builds
// (scripts/build-server.mjs; the Docker image has no src/ and only dist/). In a checkout whose
// src/ has changed since that build, it runs the sources through tsx instead (a development
// install has it), or rebuilds first where tsx is not installed: the CLI never runs stale code.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'cli.js');
let stale = fs.existsSync(compiled) ? '' : 'dist/cli.js is not built';
if (!stale && fs.existsSync(path.join(root, 'src'))) {
  const { staleness } = await import('../scripts/build-server.mjs');
  stale = staleness(root);
}

/** tsx's loader where it is installed (a development install), else undefined. */
async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch (err) {
    if (err.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

// Stack traces point into src/, as they do under tsx.
process.setSourceMapsEnabled(true);

let cli;
if (!stale) cli = await import('../dist/cli.js');
else {
  const register = await tsxRegister();
  if (register) {
    register();
    cli = await import('../src/cli.ts');
  } else {
    // A production-only install: no tsx, so bring dist/ up to date.
    const { build } = await import('../scripts/build-server.mjs');
    await build({ root });
    cli = await import('../dist/cli.js');
  }
}
await cli.runCli(process.argv.slice(2));

// The README's examples as tests: its marked blocks, the values its first-start command sets, and
// running a shell block against a test server exactly as printed (only the host changes).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestApp } from './app.ts';
import { hashKeyValue } from '../../src/access/tokens.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
/** The host the README's examples talk to. */
export const README_HOST = 'http://127.0.0.1:8000';

/** The fenced block (```sh, ```js…) following `<!-- readme-test: name -->`. */
export function readmeBlock(name: string): string {
  const match = new RegExp(`<!-- readme-test: ${name} -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!match) throw new Error(`README has no block marked readme-test: ${name}`);
  return match[1];
}

/** A value the README's first-start command sets, e.g. FLAGHOST_INIT_PROJECT_TOKEN. */
export function readmeInitValue(name: string): string {
  const match = new RegExp(`${name}=(\\w+)`).exec(README);
  if (!match) throw new Error(`README sets no ${name}`);
  return match[1];
}

/** Gives the test server the admin key, project token and secret token of the README's first start. */
export async function useReadmeCredentials(t: TestApp): Promise<void> {
  await t.sql("update personal_api_keys set secure_value = $1 where label = 'Initial key'", [hashKeyValue(readmeInitValue('FLAGHOST_INIT_PERSONAL_API_KEY'))]);
  await t.sql('update projects set api_token = $1, secret_api_token = $2 where id = 1', [
    readmeInitValue('FLAGHOST_INIT_PROJECT_TOKEN'),
    readmeInitValue('FLAGHOST_INIT_SECRET_TOKEN'),
  ]);
  t.app.services.authenticator.clear();
  await t.app.services.snapshots.check();
}

/**
 * Runs a shell block in bash with `export FLAGHOST=…` pointed at the test server. Every curl fails
 * on an HTTP error and ends its output with a newline; returns the non-empty output lines.
 */
export async function runReadmeShell(name: string, baseUrl: string): Promise<string[]> {
  const script = readmeBlock(name).replace(/^export FLAGHOST=.*$/m, `export FLAGHOST=${baseUrl}`);
  const wrapped = `curl() { command curl --fail-with-body "$@"; echo; }\n${script}`;
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', wrapped], { encoding: 'utf8' });
  return stdout.split('\n').filter((line) => line.trim() !== '');
}

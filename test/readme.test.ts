// The README's curl examples work as printed: each marked block runs in bash against a fresh server.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.ts';

const README = fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../README.md'), 'utf8');

/** The ```sh block following `<!-- readme-test: name -->`. */
function block(name: string): string {
  const match = new RegExp(`<!-- readme-test: ${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!match) throw new Error(`README has no block marked readme-test: ${name}`);
  return match[1];
}

/** Runs a README block with its `export` lines pointed at the test server (asynchronously: the server is in this process). */
async function runBlock(script: string, vars: Record<string, string>): Promise<string[]> {
  const body = script.replace(/^export (\w+)=.*$/gm, (line, name: string) => (name in vars ? `export ${name}=${vars[name]}` : line));
  // Each curl's output on its own line, to check them one by one.
  const wrapped = `curl() { command curl --fail-with-body "$@"; echo; }\n${body}`;
  const { stdout: out } = await promisify(execFile)('bash', ["-euo", "pipefail", "-c", wrapped], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim() !== '');
}

let t: TestApp;
beforeAll(async () => {
  // The key the README tells a reader to start with.
  const key = /FLAGHOST_INIT_PERSONAL_API_KEY=(phx_\w+) npm start/.exec(README)![1];
  t = await createTestApp();
  await t.userWithKey({ email: 'readme@example.com', level: 'owner' });
  await t.sql("update personal_api_keys set secure_value = $1 where label = 'Initial key'", [
    (await import('../src/lib/tokens.ts')).hashKeyValue(key),
  ]);
  t.app.services.authenticator.clear();
});
afterAll(async () => {
  await t?.close();
});

describe('README', () => {
  it('the curl examples for flags work as printed', async () => {
    const outputs = (await runBlock(block('curl'), { FLAGHOST: t.baseUrl })).map((line) => JSON.parse(line));
    const [created, listed, updated, deleted, activity] = outputs;
    expect(created).toMatchObject({ id: 1, key: 'new-checkout', filters: { payloads: { true: '{"color": "blue"}' } } });
    expect(listed.results.map((f: { key: string }) => f.key)).toEqual(['new-checkout']);
    expect(updated.filters.groups[0].rollout_percentage).toBe(50);
    expect(deleted.deleted).toBe(true);
    expect(activity.results.map((e: { activity: string }) => e.activity)).toEqual(['deleted', 'updated', 'created']);
  });
});

// The README's persons curl block works as printed: run in bash (curl, jq) against a fresh server
// holding the key and project token the README's first start sets.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { hashKeyValue } from '../../src/lib/tokens.ts';

const README = fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md'), 'utf8');

function block(name: string): string {
  const match = new RegExp(`<!-- readme-test: ${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!match) throw new Error(`README has no block marked readme-test: ${name}`);
  return match[1];
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await t.sql("update personal_api_keys set secure_value = $1 where label = 'Initial key'", [hashKeyValue(/FLAGHOST_INIT_PERSONAL_API_KEY=(phx_\w+)/.exec(README)![1])]);
  await t.sql('update projects set api_token = $1 where id = 1', [/FLAGHOST_INIT_PROJECT_TOKEN=(phc_\w+)/.exec(README)![1]]);
  t.app.services.authenticator.clear();
  await t.app.services.snapshots.check();
});
afterAll(async () => {
  await t?.close();
});

describe('README: People, usage and privacy', () => {
  it('the persons curl block captures, finds and deletes a person as printed', async () => {
    const script = block('persons').replace(/^export FLAGHOST=.*$/m, `export FLAGHOST=${t.baseUrl}`);
    const wrapped = `curl() { command curl --fail-with-body "$@"; echo; }\n${script}`;
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', wrapped], { encoding: 'utf8' });
    const [captured, found, ...rest] = stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
    expect(captured).toEqual({ status: 1 });
    expect(found.results).toHaveLength(1);
    expect(found.results[0]).toMatchObject({ name: 'ada@example.com', distinct_ids: ['anon-9f2c', 'user-123'], properties: { email: 'ada@example.com' } });
    expect(rest).toEqual([]); // DELETE answers 204 with no body
    expect(await t.sql('select (select count(*)::int from persons) as persons, (select count(*)::int from person_distinct_ids) as ids')).toEqual([{ persons: 0, ids: 0 }]);
  });
});

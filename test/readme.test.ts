// The README's examples work as printed: the curl block runs in bash, the posthog-node snippet in
// node and the posthog-js snippet in headless Chromium, all against a fresh server holding the
// values the README's first-start command sets.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { hashKeyValue } from '../src/lib/tokens.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const README_HOST = 'http://127.0.0.1:8000';
const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);

/** The fenced block (```sh, ```js…) following `<!-- readme-test: name -->`. */
function block(name: string): string {
  const match = new RegExp(`<!-- readme-test: ${name} -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!match) throw new Error(`README has no block marked readme-test: ${name}`);
  return match[1];
}

const initValue = (name: string) => new RegExp(`${name}=(\\w+)`).exec(README)![1];

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  // Make the test server hold the values the README's first start sets.
  await t.sql("update personal_api_keys set secure_value = $1 where label = 'Initial key'", [hashKeyValue(initValue('FLAGHOST_INIT_PERSONAL_API_KEY'))]);
  await t.sql('update projects set api_token = $1, secret_api_token = $2 where id = 1', [
    initValue('FLAGHOST_INIT_PROJECT_TOKEN'),
    initValue('FLAGHOST_INIT_SECRET_TOKEN'),
  ]);
  t.app.services.authenticator.clear();
  await t.app.services.snapshots.check();
});
afterAll(async () => {
  await t?.close();
});

describe('README', () => {
  it('the curl examples for flags work as printed', async () => {
    const script = block('curl').replace(/^export FLAGHOST=.*$/m, `export FLAGHOST=${t.baseUrl}`);
    // Each curl's output on its own line, to check them one by one.
    const wrapped = `curl() { command curl --fail-with-body "$@"; echo; }\n${script}`;
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', wrapped], { encoding: 'utf8' });
    const [created, listed, updated, deleted, activity] = stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    expect(created).toMatchObject({ id: 1, key: 'new-checkout', filters: { payloads: { true: '{"color": "blue"}' } } });
    expect(listed.results.map((f: { key: string }) => f.key)).toEqual(['new-checkout']);
    expect(updated.filters.groups[0].rollout_percentage).toBe(50);
    expect(deleted.deleted).toBe(true);
    expect(activity.results.map((e: { activity: string }) => e.activity)).toEqual(['deleted', 'updated', 'created']);
  });

  describe('SDK snippets', () => {
    beforeAll(async () => {
      const res = await t.api('post', '/api/projects/1/feature_flags/', initValue('FLAGHOST_INIT_PERSONAL_API_KEY')).send({
        key: 'new-checkout',
        filters: { groups: [{ properties: [], rollout_percentage: 100 }], payloads: { true: { color: 'blue' } } },
      });
      expect(res.status).toBe(201);
    });

    it('posthog-node evaluates locally as printed', async () => {
      const code = block('posthog-node').replaceAll(README_HOST, t.baseUrl);
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ enabled: true, payload: { color: 'blue' } });
    });

    it.skipIf(!fs.existsSync(CHROMIUM))('posthog-js in a browser page, cross-origin, as printed', async () => {
      const snippet = block('posthog-js').replaceAll(README_HOST, t.baseUrl);
      const page = `<!doctype html><html><head>
<script type="importmap">{"imports": {"posthog-js": "/posthog-js.mjs"}}</script>
<script type="module">${snippet}</script></head><body></body></html>`;
      const moduleJs = fs.readFileSync(path.join(ROOT, 'node_modules/posthog-js/dist/module.js'));
      const site = http.createServer((req, res) => {
        if (req.url === '/posthog-js.mjs') res.writeHead(200, { 'content-type': 'text/javascript' }).end(moduleJs);
        else res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      });
      await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
      const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-chromium-'));
      try {
        const { stdout } = await run(CHROMIUM, [
          '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--virtual-time-budget=15000', '--dump-dom',
          `http://127.0.0.1:${(site.address() as { port: number }).port}/`,
        ], { encoding: 'utf8', timeout: 60_000 });
        expect(stdout).toContain('data-checkout="{&quot;color&quot;:&quot;blue&quot;}"');
      } finally {
        site.close();
        fs.rmSync(profile, { recursive: true, force: true });
      }
    });
  });
});

// The console's server side: index.html for console paths (never cached) when a browser asks for
// HTML, hashed assets cached for a year, and every API and SDK path answering exactly as before.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { buildApp } from '../../src/app.ts';
import { consoleBuildHint } from '../../src/console/static.ts';

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

let t: TestApp;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-console-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), INDEX);
  fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), SCRIPT);
  fs.writeFileSync(path.join(dir, 'assets', 'index-def456.css'), 'body{margin:0}');
  t = await createTestApp({ consoleDir: dir });
});
afterAll(async () => {
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('console pages', () => {
  it('answers index.html, never cached, for every console path a browser opens', async () => {
    for (const url of [
      '/',
      '/login',
      '/login/',
      '/signup/0b7c1f0e-aaaa',
      '/reset/uuid/token',
      '/project/1/flags',
      '/project/1/flags/3/edit',
      '/settings/members',
    ]) {
      const res = await t.http.get(url).set('accept', HTML);
      expect(res.status, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("connect-src 'self'");
      expect(res.text).toBe(INDEX);
    }
  });

  it('keeps the JSON 404 for clients that do not ask for HTML, and for paths that are not the console', async () => {
    for (const [url, accept] of [
      ['/', 'application/json'],
      ['/project/1/flags', '*/*'],
      ['/nope', HTML],
      ['/api/nope', HTML],
      ['/api/projects/1/nope/', HTML],
    ]) {
      const res = await t.http.get(url).set('accept', accept);
      expect(res.status, url).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null });
    }
    // Other methods on console paths are not routes either.
    const post = await t.http.post('/project/1/flags').set('accept', HTML).send({});
    expect(post.status).toBe(404);
  });

  it('leaves the API and SDK endpoints as they were, whatever the Accept header', async () => {
    const flags = await t.api('get', '/api/projects/1/feature_flags/').set('accept', HTML);
    expect(flags.status).toBe(200);
    expect(flags.headers['content-type']).toMatch(/^application\/json/);
    const anonymous = await t.http.get('/api/projects/1/feature_flags/').set('accept', HTML);
    expect(anonymous.status).toBe(401);
    const sdk = await t.http.post('/flags/?v=2').set('accept', HTML).send({ token: PROJECT_TOKEN, distinct_id: 'd' });
    expect(sdk.status).toBe(200);
    expect(sdk.body.flags).toEqual({});
    const page = await t.http.get(`/dashboards/1?personal_api_key=${ADMIN_KEY}`).set('accept', HTML);
    expect(page.text).not.toBe(INDEX);
  });
});

describe('console assets', () => {
  it('serves hashed files for a year, gzipped when the client accepts it', async () => {
    const plain = await t.http.get('/assets/index-abc123.js').set('accept-encoding', 'identity');
    expect(plain.status).toBe(200);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.text).toBe(SCRIPT);
    const gz = await t.http
      .get('/assets/index-abc123.js')
      .set('accept-encoding', 'gzip, br')
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(Number(gz.headers['content-length'])).toBeLessThan(SCRIPT.length / 4);
    const css = await t.http.get('/assets/index-def456.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    void zlib;
  });

  it('answers 404 JSON for files that are not in the build, including attempts to leave the folder', async () => {
    for (const url of ['/assets/missing.js', '/assets/../index.html', '/assets/%2e%2e%2findex.html', '/assets/']) {
      const res = await t.http.get(url);
      expect(res.status, url).toBe(404);
      expect(res.text).not.toContain('<div id="root">');
    }
  });
});

describe('without a build', () => {
  it('still serves the API, shows a hint page to browsers, and names the command', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-console-empty-'));
    const app = await buildApp({ config: t.config, database: t.database, consoleDir: empty });
    try {
      const html = await app.inject({ method: 'GET', url: '/', headers: { accept: HTML } });
      expect(html.statusCode).toBe(503);
      expect(html.body).toContain('npm run build:console');
      const api = await app.inject({ method: 'GET', url: '/api/projects/1/feature_flags/', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(api.statusCode).toBe(200);
      expect(consoleBuildHint(empty)).toMatch(/not built.*npm run build:console/);
      expect(consoleBuildHint(dir)).toBeUndefined();
    } finally {
      await app.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

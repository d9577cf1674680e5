// GET /dashboards/:id, the usage dashboard as a browser page: access with a personal API key,
// HTML error pages, and a screenshot in headless Chromium (Debian's `chromium`) whose pixels show
// the series colour drawn across the chart.
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';
import { SERIES_COLORS } from '../../src/flags/dashboards/page.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`dashboard-page: ${CHROMIUM} is missing, the screenshot test is skipped (apt-get install -y chromium)`);

let t: TestApp;
let dashboardId: number;
const NOW = new Date('2024-03-20T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  t = await createTestApp({ now: () => NOW });
  const flag = await t.api('post', '/api/projects/1/feature_flags/').send({ key: 'page-flag' });
  dashboardId = flag.body.usage_dashboard;
  // Calls on most days of the window, two values, a few users each day.
  const batch = [];
  for (let d = 0; d <= 30; d++) {
    for (let i = 0; i < 3 + (d % 7); i++) {
      batch.push({
        event: '$feature_flag_called',
        distinct_id: `page-user-${i}`,
        uuid: crypto.randomUUID(),
        timestamp: new Date(NOW.getTime() - d * DAY).toISOString(),
        properties: { $feature_flag: 'page-flag', $feature_flag_response: i % 3 === 0 ? 'false' : 'true' },
      });
    }
  }
  const res = await t.http.post('/batch/').send({ api_key: PROJECT_TOKEN, batch });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await t?.close();
});

describe('access', () => {
  it("needs a personal API key with dashboard:read on the dashboard's project; failures are HTML pages", async () => {
    const anonymous = await t.http.get(`/dashboards/${dashboardId}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(/^text\/html/);
    expect(anonymous.text).toContain('personal_api_key');
    expect((await t.http.get(`/dashboards/${dashboardId}?personal_api_key=phx_wrong`)).status).toBe(401);
    const flagsOnly = await t.userWithKey({ email: 'flags-only@example.com', scopes: ['feature_flag:read'] });
    const refused = await t.http.get(`/dashboards/${dashboardId}?personal_api_key=${flagsOnly.key}`);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('dashboard:read');
    expect((await t.http.get(`/dashboards/99999?personal_api_key=${ADMIN_KEY}`)).status).toBe(404);
    const reader = await t.userWithKey({ email: 'viewer@example.com', scopes: ['dashboard:read'] });
    const ok = await t.http.get(`/dashboards/${dashboardId}?personal_api_key=${reader.key}`);
    expect(ok.status).toBe(200);
    expect(ok.headers).toMatchObject({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'content-type': 'text/html; charset=utf-8' });
    expect(ok.headers['content-security-policy']).toContain("default-src 'none'");
    expect((await t.http.get(`/dashboards/${dashboardId}`).set('authorization', `Bearer ${ADMIN_KEY}`)).status).toBe(200);
  });

  it('renders each tile as an SVG line chart with a legend of the values and their totals', async () => {
    const page = await t.http.get(`/dashboards/${dashboardId}?personal_api_key=${ADMIN_KEY}`);
    expect(page.text).toContain('<title>Generated Dashboard: page-flag Usage</title>');
    expect(page.text.match(/<svg /g)).toHaveLength(2);
    expect(page.text).toContain(`stroke="${SERIES_COLORS[0]}"`);
    expect(page.text).toContain('19-Feb-2024 – 20-Mar-2024 (UTC)');
    expect(page.text).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});

describe.skipIf(!hasChromium)('in headless Chromium', () => {
  it('draws the chart: the first series colour spans the plot', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-chromium-'));
    const file = path.join(dir, 'dashboard.png');
    try {
      await promisify(execFile)(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${path.join(dir, 'profile')}`,
          `--screenshot=${file}`,
          '--window-size=1200,800',
          `${t.baseUrl}/dashboards/${dashboardId}?personal_api_key=${ADMIN_KEY}`,
        ],
        { timeout: 60_000 },
      );
      const png = PNG.sync.read(fs.readFileSync(file));
      expect([png.width, png.height]).toEqual([1200, 800]);
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(SERIES_COLORS[0].slice(i, i + 2), 16));
      const columns = new Set<number>();
      let pixels = 0;
      for (let y = 0; y < png.height; y++) {
        for (let x = 0; x < png.width; x++) {
          const o = (y * png.width + x) * 4;
          if (Math.abs(png.data[o] - r) < 8 && Math.abs(png.data[o + 1] - g) < 8 && Math.abs(png.data[o + 2] - b) < 8) {
            pixels++;
            columns.add(x);
          }
        }
      }
      if (process.env.FLAGHOST_KEEP_SCREENSHOT) fs.copyFileSync(file, process.env.FLAGHOST_KEEP_SCREENSHOT);
      // Two charts' worth of line and markers, spread across the width of a plot (not a legend swatch).
      expect(pixels).toBeGreaterThan(500);
      expect(Math.max(...columns) - Math.min(...columns)).toBeGreaterThan(400);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

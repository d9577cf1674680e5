// Debian's Chromium driven by playwright-core for the console's browser tests: one browser per test
// file, contexts per user, screenshots checked for content, and axe-core (from node_modules) run in
// the page for accessibility.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PNG } from 'pngjs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from './readme.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);
export const SKIP_MESSAGE = `${CHROMIUM} is missing: the console's browser tests are skipped (apt-get install -y chromium)`;

/** Screenshots land here (gitignored) for people to look at. */
export const OUTPUT_DIR = path.join(ROOT, 'test-output', 'console');

/**
 * A headless Chromium with a fresh profile: Playwright starts every browser with a new temporary
 * user-data-dir and removes it on close. Nothing may reach another host: the flags below turn off
 * Chromium's own background requests.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A context that records every request to a host other than the test server. */
export async function newContext(
  browser: Browser,
  baseUrl: string,
  options: { colorScheme?: 'light' | 'dark'; width?: number } = {},
): Promise<BrowserContext & { foreignRequests: string[] }> {
  const context = (await browser.newContext({
    baseURL: baseUrl,
    viewport: { width: options.width ?? 1440, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
  })) as BrowserContext & { foreignRequests: string[] };
  context.foreignRequests = [];
  // Fail a step in seconds, not after the test's whole budget.
  context.setDefaultTimeout(15_000);
  const origin = new URL(baseUrl).origin;
  context.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith('data:')) context.foreignRequests.push(url);
  });
  return context;
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; html: string }>;
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page, options: { only?: string[] } = {}): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, so the page's script policy does not block it.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (only) => {
    const g = globalThis as unknown as { axe: { run: (ctx: unknown, opts: object) => Promise<{ violations: AxeViolation[] }> }; document: unknown };
    const result = await g.axe.run(g.document, { resultTypes: ['violations'], ...(only ? { runOnly: { type: 'rule', values: only } } : {}) });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, html: n.html.slice(0, 160) })),
    }));
  }, options.only);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * How much of a screenshot is not background: the share of pixels that differ clearly from the
 * most common colour, and how many distinct colours appear. A blank or broken page scores ~0.
 */
export function pngContent(file: string): { inkShare: number; colours: number; width: number; height: number } {
  const png = PNG.sync.read(fs.readFileSync(file));
  // Every 7th pixel (a prime stride, so columns are not skipped systematically) is plenty to tell.
  const stride = 4 * 7;
  const sampled = Math.ceil(png.data.length / stride);
  const counts = new Map<number, number>();
  for (let o = 0; o < png.data.length; o += stride) {
    const key = (png.data[o] << 16) | (png.data[o + 1] << 8) | png.data[o + 2];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let background = 0;
  let top = 0;
  for (const [key, n] of counts) if (n > top) [background, top] = [key, n];
  const [br, bg, bb] = [background >> 16, (background >> 8) & 255, background & 255];
  let ink = 0;
  for (let o = 0; o < png.data.length; o += stride) {
    if (Math.abs(png.data[o] - br) + Math.abs(png.data[o + 1] - bg) + Math.abs(png.data[o + 2] - bb) > 60) ink++;
  }
  return { inkShare: ink / sampled, colours: counts.size, width: png.width, height: png.height };
}

/** Saves a full-page screenshot at a width and colour scheme; returns the file. */
export async function screenshot(page: Page, name: string, width: number, scheme: 'light' | 'dark'): Promise<string> {
  fs.mkdirSync(OUTPUT_DIR, { recursive: true });
  await page.setViewportSize({ width, height: 900 });
  await page.emulateMedia({ colorScheme: scheme });
  // A full-page capture of a scrolled page draws the sticky header mid-page: start at the top.
  await page.evaluate(() => (globalThis as unknown as { scrollTo: (x: number, y: number) => void }).scrollTo(0, 0));
  const file = path.join(OUTPUT_DIR, `${name}-${width}-${scheme}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
  return file;
}

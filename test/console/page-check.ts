// The page walk's check, for test/console/pages.test.ts and the other console tests: wait for the content,
// no serious or critical axe-core violation in light and dark, screenshots at 1440 px in light
// and 390 px in dark checked for content (each width and each scheme once: four captures of every
// page cost CI more than they found), and nothing wider than a phone.
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { pngContent, screenshot, seriousViolations } from '../helpers/browser.ts';

export async function checkPage(p: Page, name: string, ready: string): Promise<void> {
  await p.locator(ready).first().waitFor();
  await p.waitForFunction(() => !(globalThis as unknown as { document: { querySelector: (s: string) => unknown } }).document.querySelector('.state-loading'));
  for (const scheme of ['light', 'dark'] as const) {
    await p.setViewportSize({ width: 1440, height: 900 });
    await p.emulateMedia({ colorScheme: scheme });
    const violations = await seriousViolations(p, scheme === 'dark' ? { only: ['color-contrast'] } : {});
    expect(violations, `${name} (${scheme}): ${JSON.stringify(violations, null, 1)}`).toEqual([]);
  }
  for (const [width, scheme] of [
    [1440, 'light'],
    [390, 'dark'],
  ] as const) {
    const file = await screenshot(p, name, width, scheme);
    const content = pngContent(file);
    expect(content.width, file).toBe(width);
    expect(content.inkShare, file).toBeGreaterThan(0.003);
    expect(content.colours, file).toBeGreaterThan(30);
  }
  await p.setViewportSize({ width: 390, height: 900 });
  const overflow = await p.evaluate(() => {
    const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
    return d.scrollWidth - d.clientWidth;
  });
  expect(overflow, `${name} is wider than a 390 px screen`).toBeLessThanOrEqual(0);
  await p.setViewportSize({ width: 1440, height: 900 });
  await p.emulateMedia({ colorScheme: 'light' });
}

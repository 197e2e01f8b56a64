// Shared by the `nas report` tests: the report written through the real CLI, and the page opened from disk in
// headless Chromium (Debian's /usr/bin/chromium through playwright-core) with what it logged.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { runCli } from './cli-helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking'];
export const skipWithoutChromium = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install chromium)`;
/** Where to keep the screenshots (docs/REPORT.md shows them), when set. */
const SHOTS = process.env['NAS_REPORT_SHOTS'];

export function writeReport(db: string, args: readonly string[]): { out: string; bytes: number } {
  const r = runCli(['report', ...args, '--db', db, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out: unknown = JSON.parse(r.stdout);
  assert.ok(typeof out === 'object' && out !== null && 'out' in out && 'bytes' in out);
  assert.ok(typeof out.out === 'string' && typeof out.bytes === 'number');
  return { out: out.out, bytes: out.bytes };
}

/** The page opened from disk and drawn, with the console errors it logged and any request it made. */
export async function openReport(browser: Browser, file: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => errors.push(e.message));
  // Anything but the file itself would be a request to the network the page must not need.
  page.on('request', (r) => void (r.url() !== pathToFileURL(file).href && errors.push(`request ${r.url()}`)));
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-ready]', { timeout: 20_000 });
  return { page, errors };
}

export const count = (page: Page, selector: string): Promise<number> => page.locator(selector).count();

/** The marks of one layer (ariaDescription in web/report/) of a chart. */
export const marks = (page: Page, chart: string, mark: string, shape = '*'): Promise<number> =>
  count(page, `[data-chart="${chart}"] g[aria-description="${mark}"] > ${shape}`);

/** The screenshot has more than a few colours and is not mostly one (a page drawn, not an empty one). */
export async function notBlank(page: Page, name: string): Promise<void> {
  const png = await page.screenshot({ fullPage: true });
  if (SHOTS !== undefined) writeFileSync(join(SHOTS, `${name}.png`), png);
  const { channels } = await sharp(png).stats();
  assert.ok(channels.every((c) => c.stdev > 10), `screenshot stdev ${channels.map((c) => c.stdev.toFixed(1)).join(', ')}`);
  const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const colours = new Set<number>();
  for (let i = 0; i + 2 < data.length && colours.size < 50; i += 3 * 97) colours.add((data[i] ?? 0) * 65536 + (data[i + 1] ?? 0) * 256 + (data[i + 2] ?? 0));
  assert.ok(colours.size >= 50, `only ${colours.size} colours in the screenshot`);
}

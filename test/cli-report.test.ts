// `nas report`: tiny real searches (the synthetic evaluator, and a fixture of it where one arch in four fails) are
// written as one self-contained HTML page, opened from disk in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core): no console error, every chart has one mark per candidate (or per front point, per run, per
// failure reason) of the stored runs, the table sorts, and the screenshot is not blank. Bad input is one line.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import type { CandidateRecord } from '../results/candidates.js';
import { CHOICE_WINDOWS } from '../results/reportChoices.js';
import { openStore } from '../results/store.js';
import { runCli, userError } from './cli-helpers.js';
import { CHROMIUM, CHROMIUM_ARGS, count, marks, notBlank, openReport, skipWithoutChromium, writeReport } from './report-helpers.js';

const FIXTURE = new URL('./fixtures/eval-report.js', import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), 'nas-report-'));
const db = join(dir, 'nas.db');
after(() => rmSync(dir, { recursive: true, force: true }));

function search(args: readonly string[]): string {
  const base = ['search', '--target', 'latency=15ms', '--workers', '0', '--batch', '4', '--db', db, '--json'];
  const r = runCli([...base, ...args]);
  assert.equal(r.status, 0, r.stderr);
  const out: unknown = JSON.parse(r.stdout);
  assert.ok(typeof out === 'object' && out !== null && 'runId' in out && typeof out.runId === 'string');
  return out.runId;
}

function candidates(run: string): CandidateRecord[] {
  const store = openStore(db, { readonly: true });
  try {
    return store.listCandidates(run);
  } finally {
    store.close();
  }
}

interface Point {
  readonly x: number;
  readonly y: number;
}

/** The Pareto front's size by its definition (no other point as cheap and as accurate, one strictly better). */
function frontSize(points: readonly Point[]): number {
  const distinct = points.filter((p, i) => points.findIndex((q) => q.x === p.x && q.y === p.y) === i);
  const dominated = (p: Point): boolean => distinct.some((q) => q.x <= p.x && q.y >= p.y && (q.x < p.x || q.y > p.y));
  return distinct.filter((p) => !dominated(p)).length;
}

function latencyPoints(run: string): Point[] {
  return candidates(run).flatMap((c) => {
    const m = c.metrics;
    if (c.status !== 'done' || m === null || typeof m !== 'object' || Array.isArray(m)) return [];
    const x = 'latencyMs' in m ? m['latencyMs'] : null;
    const y = 'accuracy' in m ? m['accuracy'] : null;
    return typeof x === 'number' && typeof y === 'number' ? [{ x, y }] : [];
  });
}

const report = (args: readonly string[]): { out: string; bytes: number } => writeReport(db, args);

let failing = '';
let clean = '';
before(() => {
  failing = search(['--evaluator', FIXTURE, '--strategy', 'rl', '--budget', '16', '--max-failures', '16']);
  clean = search(['--evaluator', 'synthetic', '--strategy', 'evolution', '--budget', '8']);
});

describe('nas report in headless Chromium', { skip: skipWithoutChromium }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => browser?.close());

  const open = (file: string): ReturnType<typeof openReport> => openReport(browser, file);

  it('one search: a mark per candidate, front point, failure reason; the table sorts; not blank', async () => {
    const all = candidates(failing);
    const done = all.filter((c) => c.status === 'done');
    const failed = all.filter((c) => c.status === 'failed');
    assert.ok(done.length > 0 && failed.length > 0, `the fixture run needs both done and failed candidates: ${done.length}, ${failed.length}`);
    const { page, errors } = await open(report([failing, '--out', join(dir, 'one.html')]).out);
    assert.deepEqual(errors, []);
    assert.equal(await marks(page, 'best-reward', 'best', 'path'), 1);
    assert.equal(await marks(page, 'accuracy-latency', 'candidate', 'circle'), latencyPoints(failing).length);
    assert.equal(await marks(page, 'accuracy-latency', 'front point', 'circle'), frontSize(latencyPoints(failing)));
    assert.equal(await marks(page, 'accuracy-madds', 'candidate', 'circle'), done.length);
    // The search's --target latency=15ms as a line on the latency chart only.
    assert.equal(await marks(page, 'accuracy-latency', 'target', 'line'), 1);
    assert.equal(await marks(page, 'accuracy-madds', 'target', 'line'), 0);
    assert.equal(await marks(page, 'time', 'candidate'), all.length);
    assert.equal(await marks(page, 'failures', 'reason', 'rect'), 1);
    assert.match((await page.locator('[data-chart="failures"] title').first().textContent()) ?? '', /out of memory on purpose/);
    // The choices: a cell per decision of the space and window of candidates (every candidate has its decisions).
    const decisions = all[0]?.decisions?.length ?? 0;
    assert.ok(decisions > 0 && all.every((c) => c.decisions?.length === decisions));
    assert.equal(await marks(page, 'choices', 'cell', 'rect'), decisions * Math.min(all.length, CHOICE_WINDOWS));
    const rows = page.locator('table.candidates tbody tr');
    assert.equal(await rows.count(), all.length);
    await page.locator('table.candidates th', { hasText: /^reward$/ }).click();
    await page.locator('table.candidates th', { hasText: /^reward$/ }).click();
    const best = Math.max(...done.map((c) => c.reward ?? -Infinity));
    const top = await rows.first().locator('td').nth(3).textContent();
    assert.equal(top, best.toFixed(4), 'after two clicks, the best reward first');
    const bestSeq = done.find((c) => c.reward === best)?.seq;
    assert.equal(await rows.first().locator('code').first().textContent(), `run:${failing}#${bestSeq}`);
    await notBlank(page, 'search');
    await page.close();
  });

  it('two searches overlaid: one line and one front per run, every candidate of both', async () => {
    const { page, errors } = await open(report([failing, clean, '--out', join(dir, 'two.html')]).out);
    assert.deepEqual(errors, []);
    assert.equal(await marks(page, 'best-reward', 'best', 'path'), 2);
    const points = [failing, clean].map(latencyPoints);
    assert.equal(await marks(page, 'accuracy-latency', 'candidate', 'circle'), points.flat().length);
    assert.equal(await marks(page, 'accuracy-latency', 'front point', 'circle'), points.map(frontSize).reduce((a, b) => a + b));
    assert.equal(await marks(page, 'accuracy-latency', 'front', 'path'), 2);
    assert.equal(await count(page, 'table.candidates tbody tr'), candidates(failing).length + candidates(clean).length);
    await notBlank(page, 'overlay');
    await page.close();
  });
});

describe('nas report: bad input and the output file', () => {
  it('an existing --out is refused without --force and replaced with it; --json says what was written', () => {
    const out = join(dir, 'exists.html');
    writeFileSync(out, 'mine');
    userError(runCli(['report', clean, '--out', out, '--db', db]), '--out', 'already exists', '--force');
    assert.equal(readFileSync(out, 'utf8'), 'mine');
    const r = report([clean, '--out', out, '--force']);
    assert.equal(r.bytes, statSync(out).size);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.ok(!/<script[^>]+src=|<link[^>]+href=/.test(html), 'nothing loaded from elsewhere');
    assert.ok(html.includes(`"id":"${clean}"`), 'the run is embedded as JSON');
  });

  it('an unknown run, a run named twice, the database as --out: one line each', () => {
    userError(runCli(['report', 'sr-none', '--out', join(dir, 'x.html'), '--db', db]), 'unknown run sr-none');
    userError(runCli(['report', clean, clean, '--out', join(dir, 'x.html'), '--db', db]), `run ${clean} is named twice`);
    userError(runCli(['report', clean, '--out', db, '--force', '--db', db]), 'the results database', 'never written over');
    assert.ok(!existsSync(join(dir, 'x.html')));
  });
});

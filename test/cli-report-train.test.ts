// `nas report` of a training run and a NetAdapt run: a tiny real `nas train-final` (2 epochs of 16 px MNIST) and a
// short NetAdapt of its checkpoint (MAdds latency, retrained with a width baseline), drawn in headless Chromium from
// disk: no console error, a dot per stored epoch value and per step, the three networks at the end, not blank.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { isJsonObject } from '../common/json.js';
import type { EpochRecord } from '../results/epochs.js';
import type { NetadaptIterationRecord } from '../results/netadapt.js';
import { openStore } from '../results/store.js';
import { runCli } from './cli-helpers.js';
import { CHROMIUM, CHROMIUM_ARGS, count, marks, notBlank, openReport, skipWithoutChromium, writeReport } from './report-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-report-train-'));
const db = join(dir, 'nas.db');
after(() => rmSync(dir, { recursive: true, force: true }));

function runId(args: readonly string[]): string {
  const r = runCli([...args, '--db', db, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out: unknown = JSON.parse(r.stdout);
  assert.ok(typeof out === 'object' && out !== null && 'runId' in out && typeof out.runId === 'string');
  return out.runId;
}

function stored<T>(read: (store: ReturnType<typeof openStore>) => T): T {
  const store = openStore(db, { readonly: true });
  try {
    return read(store);
  } finally {
    store.close();
  }
}

let train = '';
let netadapt = '';
before(() => {
  const seedDir = join(dir, 'seed');
  train = runId([
    'train-final', '--data', 'mnist', '--limit', '600', '--input', '16', '--epochs', '2', '--batch', '25',
    '--arch', 'ir_k3_s2_x32_c16_re', 'ir_k3_s1_x48_c16_se_hs', '--seed', '3', '--backend', 'wasm', '--out', seedDir,
  ]);
  netadapt = runId([
    'netadapt', '--checkpoint', seedDir, '--data', 'mnist', '--train-images', '600', '--val-images', '100', '--latency', 'madds',
    '--short-steps', '3', '--workers', '0', '--no-measure-each', '--backend', 'wasm', '--out', join(dir, 'na'), '--seed', '5',
    '--target', 'latency=0.8x', '--delta', '0.05', '--final-epochs', '1', '--retrain', '--baseline', 'width',
  ]);
});

const nonNull = (rows: readonly EpochRecord[], key: 'trainLoss' | 'valLoss' | 'trainAcc' | 'valTop1' | 'lr' | 'imagesPerSec'): number =>
  rows.filter((e) => e[key] !== null).length;

describe('nas report of train-final and NetAdapt runs in headless Chromium', { skip: skipWithoutChromium }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => browser?.close());

  it('train-final: loss, accuracy, learning rate and images/s, a dot per stored value of each epoch', async () => {
    const epochs = stored((s) => s.listEpochs(train));
    assert.equal(epochs.length, 2);
    const { page, errors } = await openReport(browser, writeReport(db, [train, '--out', join(dir, 'train.html')]).out);
    assert.deepEqual(errors, []);
    assert.equal(await marks(page, 'loss', 'epoch', 'circle'), nonNull(epochs, 'trainLoss') + nonNull(epochs, 'valLoss'));
    assert.equal(await marks(page, 'accuracy', 'epoch', 'circle'), nonNull(epochs, 'trainAcc') + nonNull(epochs, 'valTop1'));
    assert.equal(await marks(page, 'lr', 'epoch', 'circle'), nonNull(epochs, 'lr'));
    assert.equal(await marks(page, 'images-per-sec', 'epoch', 'circle'), nonNull(epochs, 'imagesPerSec'));
    assert.ok(nonNull(epochs, 'lr') === 2 && nonNull(epochs, 'imagesPerSec') === 2, 'train-final stores lr and images/s per epoch');
    await notBlank(page, 'train-final');
    await page.close();
  });

  it('NetAdapt: latency and accuracy per step with the seed, what each step shrank, the result against the baseline', async () => {
    const steps: NetadaptIterationRecord[] = stored((s) => s.listNetadaptIterations(netadapt));
    assert.ok(steps.length >= 1, 'the run took at least one step');
    const { page, errors } = await openReport(browser, writeReport(db, [netadapt, '--out', join(dir, 'netadapt.html')]).out);
    assert.deepEqual(errors, []);
    // The seed as iteration 0, then each step's predicted latency (--no-measure-each: none measured).
    assert.equal(await marks(page, 'netadapt-latency', 'iteration', 'circle'), 1 + steps.length);
    assert.equal(await marks(page, 'netadapt-accuracy', 'iteration', 'circle'), 1 + steps.length);
    assert.equal(await marks(page, 'netadapt-result', 'network', 'circle'), 3);
    assert.equal(await count(page, '[data-table="netadapt-steps"] tbody tr'), steps.length);
    const shrunk = await page.locator('[data-table="netadapt-steps"] tbody tr td:nth-child(3)').allTextContents();
    assert.deepEqual(shrunk, steps.map((s) => {
      const chosen = s.chosen ?? undefined;
      const what = isJsonObject(chosen) ? chosen['what'] : undefined;
      return typeof what === 'string' ? what : '';
    }));
    const names = await page.locator('[data-table="netadapt-networks"] tbody tr td:nth-child(2)').allTextContents();
    assert.deepEqual(names, ['seed', 'netadapt', 'width baseline']);
    await notBlank(page, 'netadapt');
    await page.close();
  });

  it('a train run and a NetAdapt run in one page: both sections', async () => {
    const { page, errors } = await openReport(browser, writeReport(db, [train, netadapt, '--out', join(dir, 'both.html')]).out);
    assert.deepEqual(errors, []);
    assert.equal(await count(page, 'section#train [data-chart]'), 4);
    assert.equal(await count(page, 'section#netadapt [data-chart]'), 3);
    await page.close();
  });
});

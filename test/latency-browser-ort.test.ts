// The browser runner's ort-web engine in real headless Chromium: `nas latency measure --runner browser --engine
// ort-web` times the exported ONNX form on onnxruntime-web's wasm provider, the page's ort-web outputs equal its
// tfjs outputs on the same input, a search times its candidates there, and a wrong engine is a one-line usage error.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isJsonObject } from '../common/json.js';
import { openBrowserRunner } from '../latency/runners/browser.js';
import { openStore } from '../results/store.js';
import { loadArch } from '../space/load.js';
import { commandHarness, runCli } from './cli-helpers.js';

const CHROMIUM = process.env['NAS_CHROMIUM'] || '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install chromium)`;

const entry = commandHarness('../cli/latency.js', 'latencyCommand');
const run = (args: readonly string[]) => runCli(['latency', ...args], { entry });

interface MeasureJson {
  results: { runner: string; backend: string; threads: number | null; input: number[]; medianMs: number; runs: number }[];
}

describe('the browser runner on ort-web', { skip }, () => {
  test('latency measure --runner browser --engine ort-web times the ONNX form in Chromium', () => {
    const r = run(['measure', '--runner', 'browser', '--engine', 'ort-web', '--arch', 'mobilenetv3-small', '--input', '32', '--warmup', '1', '--runs', '3', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const [m] = (JSON.parse(r.stdout) as MeasureJson).results;
    assert.ok(m !== undefined);
    assert.equal(m.runner, 'browser');
    assert.equal(m.backend, 'ort-web');
    assert.equal(m.threads, 1);
    assert.deepEqual(m.input, [32, 32, 3]);
    assert.equal(m.runs, 3);
    assert.ok(m.medianMs > 0, String(m.medianMs));
  });

  test("ort-web's logits equal tfjs's in the page within 1e-3, on the same network and input", async () => {
    const runner = await openBrowserRunner('ort-web', 1);
    try {
      assert.match(runner.machine, /; Chromium \d+\..*; onnxruntime-web 1\.\d+/);
      const diff = await runner.onnxParity(loadArch(['mobilenetv3-small'], { input: 32, classes: 10 }), 3);
      assert.ok(diff < 1e-3, `largest |ort-web - tfjs| = ${diff}`);
    } finally {
      await runner.close();
    }
  });

  test('nas search --latency measure --runner browser --runner-backend ort-web: candidates timed on ort-web in Chromium', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nas-search-ortweb-'));
    try {
      const db = join(dir, 's.db');
      const search = ['search', '--evaluator', 'zero-cost:synflow', '--strategy', 'random', '--budget', '1', '--batch', '1', '--input', '16'];
      const r = runCli([...search, '--latency', 'measure', '--runner', 'browser', '--runner-backend', 'ort-web', '--target', 'latency=1ms', '--workers', '0', '--json', '--db', db]);
      assert.equal(r.status, 0, r.stderr);
      const store = openStore(db, { readonly: true });
      try {
        const run = store.listRuns({ kind: 'search' })[0];
        assert.ok(run !== undefined);
        const [c] = store.listCandidates(run.id);
        const m = c?.metrics;
        assert.ok(isJsonObject(m) && m['latencySource'] === 'measure:browser/ort-web/1t', JSON.stringify(m));
        assert.ok(typeof m['latencyMs'] === 'number' && m['latencyMs'] > 0);
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('--engine: only for the browser runner, tfjs or ort-web, and not with another backend (one line, exit 2)', () => {
  const cases: [string[], RegExp][] = [
    [['--runner', 'node', '--engine', 'ort-web'], /--engine chooses the browser runner's runtime: add --runner browser/],
    [['--runner', 'browser', '--engine', 'onnx'], /--engine onnx: expected tfjs or ort-web/],
    [['--runner', 'browser', '--engine', 'ort-web', '--backend', 'webgl'], /--engine ort-web does not run --backend webgl/],
    [['--runner', 'browser', '--engine', 'ort-web', '--threads', '2'], /the browser runner measures with one thread/],
  ];
  for (const [args, message] of cases) {
    const r = run(['measure', '--arch', 'mobilenetv3-small', '--input', '32', ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

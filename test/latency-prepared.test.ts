// Prepared networks (latency/prepared.ts): the node, onnxruntime and browser runners build networks once and time
// them over many requests, releasing them on close and refusing use after it; and bench/inference-vs-peers.js
// --paired runs end to end on a small network, its per-round ratios finite and positive. Times are never compared.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { pairRatios, rotated } from '../bench/pairedRounds.js';
import { type LatencyRunner, openRunner } from '../latency/runner.js';
import type { PreparedArchs } from '../latency/prepared.js';
import { loadArch } from '../space/load.js';
import { tinyArch } from './netadapt-helpers.js';

const CHROMIUM = process.env['NAS_CHROMIUM'] || '/usr/bin/chromium';
const noChromium = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install chromium)`;
const BENCH = fileURLToPath(new URL('../bench/inference-vs-peers.js', import.meta.url));

const small = loadArch(['mobilenetv3-small'], { input: 32, classes: 10 });

const positive = (xs: readonly number[]): void => {
  for (const v of xs) assert.ok(Number.isFinite(v) && v > 0, String(v));
};

/** Two networks prepared on `runner`: 50 single runs alternating between them, then a batch of runs, then misuse. */
async function timeMany(runner: LatencyRunner): Promise<PreparedArchs> {
  const p = await runner.prepareArchs?.([small, tinyArch()], { seed: 0 });
  assert.ok(p !== undefined, `the ${runner.name} runner prepares networks`);
  assert.equal(p.count, 2);
  const singles: number[] = [];
  for (let i = 0; i < 50; i++) singles.push(...(await p.time(i % 2, 1)));
  assert.equal(singles.length, 50);
  positive(singles);
  const five = await p.time(1, 5);
  assert.equal(five.length, 5);
  positive(five);
  await assert.rejects(p.time(2, 1), /no network 2 \(2 held\)/);
  await assert.rejects(p.time(0, 0), /runs must be a positive integer/);
  return p;
}

async function closesOnce(p: PreparedArchs): Promise<void> {
  await p.close();
  await assert.rejects(p.time(0, 1), /prepared networks: time after close/);
  await assert.rejects(p.close(), /prepared networks: close after close/);
}

/** Open `name` on `backend`, prepare and time there, close everything. */
async function onRunner(name: string, backend: string, check: (runner: LatencyRunner) => Promise<void>): Promise<void> {
  const runner = await openRunner(name, { backend, threads: 1 });
  try {
    await check(runner);
  } finally {
    await runner.close();
  }
}

describe('prepared networks in this process', () => {
  test('node runner: one build serves 50 timings (no tensor made or lost between them), close releases it', () =>
    onRunner('node', 'wasm', async (runner) => {
      const before = tf.memory().numTensors;
      const p = await timeMany(runner);
      const held = tf.memory().numTensors;
      assert.ok(held > before, 'the networks and their inputs are held');
      positive(await p.time(0, 3));
      assert.equal(tf.memory().numTensors, held, 'timing builds nothing');
      await closesOnce(p);
      assert.equal(tf.memory().numTensors, before, 'close disposes the networks and inputs');
    }));

  test('onnxruntime runner: sessions kept across 50 timings, closed once', () =>
    onRunner('onnxruntime', 'cpu', async (runner) => closesOnce(await timeMany(runner))));
});

describe('prepared networks in Chromium', { skip: noChromium }, () => {
  test('browser runner, tfjs engine: the page keeps the networks between requests', () =>
    onRunner('browser', 'wasm', async (runner) => closesOnce(await timeMany(runner))));

  test('browser runner, ort-web engine: the page keeps the sessions between requests', () =>
    onRunner('browser', 'ort-web', async (runner) => closesOnce(await timeMany(runner))));
});

test('the paired rounds: the order rotates, ratios are taken per round', () => {
  assert.deepEqual(rotated(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
  assert.deepEqual(rotated(['a', 'b', 'c'], 4), ['b', 'c', 'a']);
  // Per-round ratios 2, 4, 3: their median and quartiles, not a ratio of medians (4 / 1 = 4).
  assert.deepEqual(pairRatios([2, 4, 6], [1, 1, 2]), { median: 3, p25: 2.5, p75: 3.5 });
  assert.throws(() => pairRatios([], [1]), /no rounds/);
});

interface Spread {
  median: number;
  p25: number;
  p75: number;
}

interface PairedJson {
  mode: string;
  pairs: number;
  warmup: number;
  skipped: Record<string, string>;
  rows: {
    net: string;
    medianMs: Record<string, number | null>;
    pairs: number;
    samplesMs: Record<string, number[]>;
    ratios: { nodeOverOnnxruntime: Spread | null; chromiumOverOrtWeb: Spread | null };
  }[];
}

const bench = (args: readonly string[]) => spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8', timeout: 300_000 });

function checkSpread(s: Spread | null, what: string): void {
  assert.ok(s !== null, `${what} is paired`);
  positive([s.median, s.p25, s.p75]);
  assert.ok(s.p25 <= s.median && s.median <= s.p75, `${what}: ${JSON.stringify(s)}`);
}

test('inference-vs-peers --paired: 5 rounds on every runtime that prepares, per-round ratios, PyTorch said to be unpaired', () => {
  const r = bench(['--paired', '--net', 'mobilenetv3-small@32', '--pairs', '5', '--warmup', '1', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as PairedJson;
  assert.equal(out.mode, 'paired');
  assert.equal(out.pairs, 5);
  assert.match(out.skipped['pytorch'] ?? '', /not timed in paired mode/);
  const [row] = out.rows;
  assert.ok(row !== undefined && out.rows.length === 1);
  assert.equal(row.net, 'mobilenetv3-small@32');
  assert.equal(row.medianMs['pytorch'], null);
  const paired = noChromium === false ? ['nas-node', 'onnxruntime', 'tfjs-chromium', 'ort-web'] : ['nas-node', 'onnxruntime'];
  for (const rt of paired) {
    assert.equal(row.samplesMs[rt]?.length, 5, rt);
    positive([...(row.samplesMs[rt] ?? []), row.medianMs[rt] ?? Number.NaN]);
  }
  checkSpread(row.ratios.nodeOverOnnxruntime, 'Node/ORT');
  if (noChromium === false) checkSpread(row.ratios.chromiumOverOrtWeb, 'Chromium tfjs/ort-web');
  else assert.equal(row.ratios.chromiumOverOrtWeb, null);
});

test('inference-vs-peers: --pairs without --paired, or --runs with it, is a one-line usage error', () => {
  for (const args of [['--pairs', '5'], ['--paired', '--runs', '5'], ['--paired', '--pairs', '0'], ['--pair']]) {
    const r = bench(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^inference-vs-peers: /);
  }
});

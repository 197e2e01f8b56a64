// `nas export` and the browser module: a checkpoint trained for a few steps exports to model.json + shards + model
// card, refuses bad input without touching anything, round-trips through tf.loadLayersModel in Node, and gives
// the Node predictions in headless Chromium (Debian's /usr/bin/chromium through playwright-core), both through
// dist/web/nas.js on fixed pixels and through the example page on a PNG the user picks.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, relative, resolve as resolvePath, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { useBackend } from '../backend/select.js';
import { preprocessingFor } from '../data/load.js';
import { type Preprocessing, preprocessImage, preprocessImageFile } from '../data/transform.js';
import { buildModel } from '../model/build.js';
import { MODEL_CARD_FILE, makeModelCard, type ModelCard, writeModelCard } from '../model/card.js';
import { DEFAULT_SHARD_BYTES } from '../model/export.js';
import { exportModel } from '../train/exportCheckpoint.js';
import { resolve } from '../space/resolve.js';
import { loadCheckpointModel } from '../train/checkpoint.js';
import { parseTrainConfig } from '../train/config.js';
import { trainModel } from '../train/loop.js';
import { runCli, userError } from './cli-helpers.js';
import { rng } from './random.js';
import { blobSplit, tinyArch } from './train-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
// node.md: without the background-networking flags Chromium's connections are refused by the closed network.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CLASSES = ['airplane', 'automobile', 'bird', 'cat'];
const TOLERANCE = 1e-4;

const dir = mkdtempSync(join(tmpdir(), 'nas-export-'));
const runDir = join(dir, 'run');
const exportDir = join(dir, 'export');
let card: ModelCard;
after(() => rmSync(dir, { recursive: true, force: true }));

/** A seeded RGBA image (opaque), and its RGB pixels. */
function testImage(width: number, height: number, seed: number): { rgba: Uint8Array; rgb: Uint8Array; width: number; height: number } {
  const r = rng(seed);
  const rgba = new Uint8Array(width * height * 4);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) {
      // Smooth structure plus noise, so the classes get different probabilities.
      const v = Math.round(127 + 100 * Math.sin((i % width) / 3 + c + seed) * Math.cos(i / width / 4) + 25 * (r() - 0.5));
      rgba[i * 4 + c] = v;
      rgb[i * 3 + c] = v;
    }
    rgba[i * 4 + 3] = 255;
  }
  return { rgba, rgb, width, height };
}

function softmaxOf(model: tf.LayersModel, inputs: readonly Float32Array[], size: number, channels: number): number[][] {
  const per = size * size * channels;
  const batch = new Float32Array(inputs.length * per);
  inputs.forEach((x, i) => batch.set(x, i * per));
  const flat = tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(batch, [inputs.length, size, size, channels])) as tf.Tensor2D).dataSync());
  const k = flat.length / inputs.length;
  return inputs.map((_, i) => Array.from(flat.slice(i * k, (i + 1) * k)));
}

function maxAbsDiff(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number {
  assert.equal(a.length, b.length, 'row count');
  let d = 0;
  a.forEach((row, i) => {
    const other = b[i] ?? [];
    assert.equal(row.length, other.length, `row ${i} length`);
    row.forEach((v, j) => {
      d = Math.max(d, Math.abs(v - (other[j] ?? Number.NaN)));
    });
  });
  return Number.isNaN(d) ? Infinity : d;
}

/** tf.io handler reading an export directory from disk (what a page's tf.loadLayersModel fetches). */
function exportLoadHandler(path: string): tf.io.IOHandler {
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      const json = JSON.parse(readFileSync(join(path, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      const groups = json.weightsManifest;
      const shards = groups.flatMap((g) => g.paths).map((p) => readFileSync(join(path, p)));
      return {
        modelTopology: json.modelTopology,
        weightSpecs: groups.flatMap((g) => g.weights),
        weightData: new Uint8Array(Buffer.concat(shards)).buffer,
      };
    },
  };
}

function shardFiles(path: string): string[] {
  return readdirSync(path).filter((f) => f.endsWith('.bin')).sort();
}

before(async () => {
  // Trained on wasm (fast); everything after runs on cpu, the backend the page uses.
  await useBackend('wasm');
  const arch = tinyArch(CLASSES.length, 16);
  const model = buildModel(resolve(arch), { seed: 3 });
  // Sixteen steps move the batch-norm statistics, make the EMA weights differ from the trained ones and give the
  // classes clearly different probabilities, so that a wrong pixel or weight shows in the comparisons.
  const config = parseTrainConfig({
    epochs: 2,
    batchSize: 16,
    optimizer: { type: 'adamw', lr: 0.02 },
    schedule: { type: 'constant' },
    ema: { decay: 0.5 },
    seed: 3,
  });
  const train = blobSplit({ size: 64, classes: CLASSES.length, imageSize: 16, seed: 5 });
  await trainModel({ model, arch, config, train, runDir, maxSteps: 16 });
  model.dispose();
  await useBackend('cpu');
  card = makeModelCard('cifar10', CLASSES, preprocessingFor('cifar10', { input: { size: 16, channels: 3 } }));
  await writeModelCard(runDir, card);
});

describe('nas export --format tfjs', () => {
  it('writes model.json, weight shards of at most 4 MiB and the model card, and prints what it wrote', () => {
    const r = runCli(['export', '--checkpoint', runDir, '--format', 'tfjs', '--out', exportDir, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { out: string; weights: string; classes: number; files: { name: string; bytes: number }[] };
    assert.equal(result.out, exportDir);
    assert.equal(result.weights, 'ema');
    assert.equal(result.classes, CLASSES.length);
    const names = readdirSync(exportDir).sort();
    assert.deepEqual(names, ['group1-shard1of1.bin', MODEL_CARD_FILE, 'model.json'].sort());
    assert.deepEqual(result.files.map((f) => f.name).sort(), names);
    for (const f of result.files) assert.equal(f.bytes, statSync(join(exportDir, f.name)).size, f.name);
    for (const s of shardFiles(exportDir)) assert.ok(statSync(join(exportDir, s)).size <= DEFAULT_SHARD_BYTES);
    const json = JSON.parse(readFileSync(join(exportDir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    assert.equal(json.format, 'layers-model');
    assert.deepEqual(json.weightsManifest[0]?.paths, ['group1-shard1of1.bin']);
    assert.deepEqual(JSON.parse(readFileSync(join(exportDir, MODEL_CARD_FILE), 'utf8')), card);
    assert.deepEqual(readdirSync(dir).sort(), ['export', 'run'], 'no temporary directory is left behind');
  });

  it('round-trips: tf.loadLayersModel from the files gives the checkpoint model outputs', async () => {
    const { model: reference } = await loadCheckpointModel(runDir);
    const exported = await tf.loadLayersModel(exportLoadHandler(exportDir));
    const images = [testImage(16, 16, 1), testImage(23, 19, 2)].map((im) => preprocessImage(im.rgb, im.height, im.width, 3, card.preprocessing));
    assert.deepEqual(softmaxOf(exported, images, 16, 3), softmaxOf(reference, images, 16, 3));
    reference.dispose();
    exported.dispose();
  });

  it('cuts the weights into shards of the given size that load back the same, and exports raw weights on request', async () => {
    const out = join(dir, 'sharded');
    const r = await exportModel({ checkpoint: runDir, out, format: 'tfjs', weights: 'raw', shardBytes: 4096 });
    assert.equal(r.weights, 'raw');
    const shards = shardFiles(out);
    assert.ok(shards.length > 2, `${shards.length} shards`);
    shards.forEach((s) => assert.ok(statSync(join(out, s)).size <= 4096, s));
    assert.ok(shards.every((s) => /^group1-shard\d+of\d+\.bin$/.test(s)));
    const { model: raw } = await loadCheckpointModel(runDir, { weights: 'raw' });
    const { model: ema } = await loadCheckpointModel(runDir, { weights: 'ema' });
    const exported = await tf.loadLayersModel(exportLoadHandler(out));
    const images = [preprocessImage(testImage(16, 16, 7).rgb, 16, 16, 3, card.preprocessing)];
    assert.deepEqual(softmaxOf(exported, images, 16, 3), softmaxOf(raw, images, 16, 3));
    assert.ok(maxAbsDiff(softmaxOf(exported, images, 16, 3), softmaxOf(ema, images, 16, 3)) > 0, 'raw and EMA weights differ');
    for (const m of [raw, ema, exported]) m.dispose();
    rmSync(out, { recursive: true });
  });

  it('refuses a missing checkpoint with one line and exit code 2, creating nothing', () => {
    const out = join(dir, 'never');
    userError(runCli(['export', '--checkpoint', join(dir, 'no-such-run'), '--format', 'tfjs', '--out', out]), 'no checkpoint');
    assert.equal(existsSync(out), false);
  });

  it('refuses an unknown format', () => {
    const out = join(dir, 'never');
    userError(runCli(['export', '--checkpoint', runDir, '--format', 'savedmodel', '--out', out]), "unknown export format 'savedmodel'", 'tfjs, onnx');
    assert.equal(existsSync(out), false);
  });

  it('refuses an existing non-empty --out, and replaces it with --force', () => {
    const out = join(dir, 'occupied');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'mine');
    userError(runCli(['export', '--checkpoint', runDir, '--out', out]), 'not empty', '--force');
    assert.deepEqual(readdirSync(out), ['keep.txt']);
    assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'mine');
    const r = runCli(['export', '--checkpoint', runDir, '--out', out, '--force']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['group1-shard1of1.bin', MODEL_CARD_FILE, 'model.json'].sort());
    rmSync(out, { recursive: true });
  });
});

// ---- in the browser ---------------------------------------------------------------------------------------

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.bin': 'application/octet-stream',
};

/** Serves the repository's dist/web and tfjs's dist at their repository paths, and `model` at /model/. */
function serve(model: string): Promise<Server> {
  const mounts: [string, string][] = [
    ['/model/', model],
    ['/dist/web/', join(ROOT, 'dist', 'web')],
    ['/node_modules/@tensorflow/tfjs/dist/', join(ROOT, 'node_modules', '@tensorflow', 'tfjs', 'dist')],
  ];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const mount = mounts.find(([prefix]) => path.startsWith(prefix));
    const base = mount?.[1];
    const file = mount && base ? resolvePath(base, `.${path.slice(mount[0].length - 1)}`) : null;
    if (!file || !base || relative(base, file).startsWith(`..${sep}`) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': contentTypes[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

/** What the test calls of dist/web/nas.js inside the page. */
interface WebModule {
  loadNasModel(base: string): Promise<unknown>;
  probabilities(nas: unknown, inputs: readonly Float32Array[]): Float32Array[];
  preprocessRgba(image: { data: Uint8ClampedArray; width: number; height: number }, pre: unknown): Float32Array;
}

interface PageImage {
  readonly rgba: number[];
  readonly width: number;
  readonly height: number;
}

const chromiumSkip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install chromium)`;

describe('the export in headless Chromium', { skip: chromiumSkip }, () => {
  let server: Server;
  let browser: Browser;
  let origin: string;

  before(async () => {
    assert.ok(existsSync(join(ROOT, 'dist', 'web', 'nas.js')), 'dist/web/nas.js is missing: run npm run build:web');
    server = await serve(exportDir);
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await new Promise((ok) => server?.close(ok));
  });

  async function openExample(): Promise<Page> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/dist/web/example/index.html?model=/model/&backend=cpu`);
    await page.waitForSelector('#status[data-state="ready"], #status[data-state="error"]');
    const state = await page.getAttribute('#status', 'data-state');
    assert.equal(state, 'ready', `${await page.textContent('#status')} ${errors.join('; ')}`);
    return page;
  }

  it('preprocesses pixels exactly as data/transform.ts and predicts the Node probabilities (cpu backend)', async (t) => {
    const images = [testImage(16, 16, 11), testImage(23, 19, 12), testImage(40, 31, 13), testImage(9, 12, 14)];
    const folder = preprocessingFor('folder', { input: { size: 16, channels: 3 }, smallImages: false });
    const folderSmall = preprocessingFor('folder', { input: { size: 16, channels: 3 } });
    const mnist = preprocessingFor('mnist', { input: { size: 20, channels: 1 } });
    // cover-decoded (folder small-image) inputs are exact only when they need no decode resize: 16x16 here.
    const checks: { pre: Preprocessing; images: number[] }[] = [
      { pre: card.preprocessing, images: [0, 1, 2, 3] },
      { pre: folder, images: [0, 1, 2, 3] },
      { pre: mnist, images: [0, 1, 2] },
      { pre: folderSmall, images: [0] },
    ];
    const page = await openExample();
    const pageImages: PageImage[] = images.map((im) => ({ rgba: Array.from(im.rgba), width: im.width, height: im.height }));
    const fromPage = await page.evaluate(
      async (arg: { module: string; images: PageImage[]; checks: { pre: unknown; images: number[] }[] }) => {
        const nas = (await import(arg.module)) as WebModule;
        const model = await nas.loadNasModel('/model/');
        const pixels = arg.images.map((im) => ({ data: Uint8ClampedArray.from(im.rgba), width: im.width, height: im.height }));
        const inputs = pixels.map((im) => nas.preprocessRgba(im, (model as { card: { preprocessing: unknown } }).card.preprocessing));
        return {
          probabilities: nas.probabilities(model, inputs).map((p) => Array.from(p)),
          preprocessed: arg.checks.map((c) => c.images.map((i) => Array.from(nas.preprocessRgba(pixels[i]!, c.pre)))),
        };
      },
      { module: `${origin}/dist/web/nas.js`, images: pageImages, checks },
    );
    await page.close();

    checks.forEach((c, k) => {
      c.images.forEach((i, j) => {
        const im = images[i]!;
        const node = Array.from(preprocessImage(im.rgb, im.height, im.width, 3, c.pre));
        assert.deepEqual(fromPage.preprocessed[k]?.[j], node, `${c.pre.dataset} ${c.pre.transform.kind} preprocessing of image ${i}`);
      });
    });
    const { model } = await loadCheckpointModel(runDir);
    const node = softmaxOf(model, images.map((im) => preprocessImage(im.rgb, im.height, im.width, 3, card.preprocessing)), 16, 3);
    model.dispose();
    const spread = Math.max(...node.map((p) => Math.max(...p) - Math.min(...p)));
    assert.ok(spread > 0.2, `the model tells the classes apart (largest spread ${spread})`);
    const diff = maxAbsDiff(fromPage.probabilities, node);
    t.diagnostic(`max |page - node| probability = ${diff}`);
    assert.ok(diff <= TOLERANCE, `max |page - node| = ${diff}`);
  });

  it('shows the top classes of a picked PNG with the probabilities nas predict computes', async () => {
    const im = testImage(21, 27, 21);
    const png = join(dir, 'picked.png');
    await sharp(Buffer.from(im.rgb), { raw: { width: im.width, height: im.height, channels: 3 } }).png().toFile(png);
    const page = await openExample();
    await page.setInputFiles('#file', png);
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]');
    assert.equal(await page.getAttribute('#status', 'data-state'), 'done', (await page.textContent('#status')) ?? '');
    const rows = await page.$$eval('#results tbody tr', (trs) =>
      trs.map((tr) => ({
        index: Number((tr as HTMLElement).dataset['index']),
        probability: Number((tr as HTMLElement).dataset['probability']),
        text: tr.textContent ?? '',
      })),
    );
    await page.close();

    const { model } = await loadCheckpointModel(runDir);
    const [probs] = softmaxOf(model, [await preprocessImageFile(png, card.preprocessing)], 16, 3);
    model.dispose();
    const expected = (probs ?? [])
      .map((probability, index) => ({ index, probability }))
      .sort((a, b) => b.probability - a.probability || a.index - b.index);
    assert.deepEqual(
      rows.map((r) => r.index),
      expected.map((e) => e.index),
      'classes in order of probability',
    );
    rows.forEach((r, i) => {
      assert.ok(Math.abs(r.probability - (expected[i]?.probability ?? NaN)) <= TOLERANCE, `${r.text}: ${r.probability}`);
      assert.ok(r.text.startsWith(CLASSES[r.index] ?? '?'), r.text);
    });
  });
});

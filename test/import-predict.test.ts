// `nas import-weights` of torchvision (and timm-named) MobileNetV3-Large weights, then `nas predict` on PNG files,
// gives PyTorch's top-5 classes and probabilities on the same preprocessed pixels; bad input is one line, exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { useBackend } from '../backend/select.js';
import { preprocessingFor } from '../data/load.js';
import { preprocessImageFile } from '../data/transform.js';
import { readModelCard } from '../model/card.js';
import { TIMM_BN_EPS } from '../model/importTimm.js';
import { importWeights } from '../model/importWeights.js';
import { type NamedArray, readSafetensors } from '../model/safetensors.js';
import { referenceArch } from '../space/reference.js';
import { type CliRun, runCli, userError } from './cli-helpers.js';

const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('../../test/reference/mobilenetv3_predict.py', import.meta.url));
const probe = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : 'python3-torch / python3-torchvision are not installed (apt-get install python3-torchvision)';

const SIZE = 224;
const TOP = 5;
const PROB_TOLERANCE = 1e-3;

function ok(r: CliRun): string {
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** A safetensors file of float32 tensors (what the Python side reads). */
function writeSafetensors(path: string, tensors: Record<string, { shape: number[]; data: Float32Array }>): void {
  const header: Record<string, { dtype: 'F32'; shape: number[]; data_offsets: [number, number] }> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const blobs = Object.values(tensors).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  writeFileSync(path, Buffer.concat([len, json, ...blobs]));
}

/** Deterministic test images of varied content and size; one grayscale. */
async function writeImages(dir: string): Promise<string[]> {
  let s = 12345;
  const rand = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const rgb = (w: number, h: number, f: (x: number, y: number, c: number) => number): Buffer => {
    const b = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) b[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(f(x, y, c))));
    return b;
  };
  const images: { name: string; w: number; h: number; channels: 1 | 3; data: Buffer }[] = [
    { name: 'gradient-300x200.png', w: 300, h: 200, channels: 3, data: rgb(300, 200, (x, y, c) => [x * 0.85, y * 1.2, 255 - (x + y) * 0.5][c] ?? 0) },
    { name: 'noise-224x224.png', w: 224, h: 224, channels: 3, data: rgb(224, 224, () => rand() * 255) },
    {
      name: 'checker-200x320.png',
      w: 200,
      h: 320,
      channels: 3,
      data: rgb(200, 320, (x, y, c) => ((Math.floor(x / 20) + Math.floor(y / 20)) % 2 ? 220 - c * 60 : 30 + c * 50) + 20 * Math.sin(x / 7 + c)),
    },
  ];
  const grey = Buffer.alloc(97 * 61);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.round(((i % 97) / 97) * 180 + rand() * 75);
  images.push({ name: 'grey-97x61.png', w: 97, h: 61, channels: 1, data: grey });
  const paths: string[] = [];
  for (const im of images) {
    const path = join(dir, im.name);
    await sharp(im.data, { raw: { width: im.w, height: im.h, channels: im.channels } }).png().toFile(path);
    paths.push(path);
  }
  return paths;
}

interface PredictJson {
  checkpoint: string;
  weights: string;
  predictions: { image: string; top: { index: number; name: string; prob: number }[] }[];
}

/**
 * Our top 5 against PyTorch's probabilities: the same classes in the same order (two classes whose PyTorch
 * probabilities are within the tolerance may swap) and every probability within PROB_TOLERANCE. Returns the max |diff|.
 */
function compareTop(got: PredictJson, expected: NamedArray, images: readonly string[], names: (i: number) => string): number {
  const classes = expected.shape[1] ?? 0;
  let maxDiff = 0;
  assert.deepEqual(got.predictions.map((p) => p.image), images);
  got.predictions.forEach((p, n) => {
    const ref = expected.data.subarray(n * classes, (n + 1) * classes);
    const refTop = Array.from(ref.keys()).sort((a, b) => (ref[b] ?? 0) - (ref[a] ?? 0)).slice(0, TOP);
    assert.equal(p.top.length, TOP);
    p.top.forEach((c, k) => {
      const want = refTop[k] ?? -1;
      if (c.index !== want) {
        assert.ok(Math.abs((ref[c.index] ?? 0) - (ref[want] ?? 0)) <= PROB_TOLERANCE, `${p.image}: rank ${k + 1} is ${c.index}, PyTorch has ${want}`);
      }
      assert.equal(c.name, names(c.index));
      const diff = Math.abs(c.prob - (ref[c.index] ?? Number.NaN));
      assert.ok(diff <= PROB_TOLERANCE, `${p.image}: class ${c.index} prob ${c.prob} vs PyTorch ${ref[c.index]}`);
      maxDiff = Math.max(maxDiff, diff);
    });
  });
  return maxDiff;
}

describe('nas import-weights + nas predict match PyTorch', { skip }, () => {
  let dir = '';
  let ref = '';
  let images: string[] = [];
  let expected = new Map<string, NamedArray>();
  const pre = preprocessingFor('folder', { input: { size: SIZE, channels: 3 }, smallImages: false });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nas-import-'));
    ref = join(dir, 'reference');
    images = await writeImages(dir);
    // The exact arrays `nas predict` feeds the model (same function, same preprocessing as the model card's).
    const pixels = SIZE * SIZE * 3;
    const input = new Float32Array(images.length * pixels);
    for (const [i, path] of images.entries()) input.set(await preprocessImageFile(path, pre), i * pixels);
    writeSafetensors(join(dir, 'inputs.safetensors'), { input: { shape: [images.length, SIZE, SIZE, 3], data: input } });
    const r = spawnSync(python, [script, join(dir, 'inputs.safetensors'), ref], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    expected = readSafetensors(join(ref, 'expected.safetensors'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('torchvision mobilenetv3-large: same top-5 classes, probabilities within 1e-3', async () => {
    const out = join(dir, 'tv-run');
    const imported = JSON.parse(
      ok(runCli(['import-weights', '--from', 'torchvision', '--arch', 'mobilenetv3-large', '--weights', join(ref, 'torchvision.safetensors'), '--out', out, '--json'])),
    ) as { classes: number; params: number; checkpoint: string };
    assert.equal(imported.classes, 1000);
    assert.equal(imported.params, 5_483_032);
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp')), []);
    const card = await readModelCard(imported.checkpoint);
    assert.deepEqual(card.preprocessing, pre);
    assert.equal(card.dataset, 'folder');
    assert.equal(card.classNames[7], 'class 7');

    const got = JSON.parse(ok(runCli(['predict', '--checkpoint', out, ...images, '--top', String(TOP), '--backend', 'wasm', '--json']))) as PredictJson;
    const probs = expected.get('torchvision_probs');
    assert.ok(probs);
    assert.ok(got.predictions.some((p) => (p.top[0]?.prob ?? 0) > 0.05), 'probabilities are peaked enough for a meaningful top 5');
    const maxDiff = compareTop(got, probs, images, (i) => `class ${i}`);
    process.stdout.write(`# torchvision: max |prob diff| over top-${TOP} of ${images.length} images = ${maxDiff.toExponential(2)}\n`);

    const text = ok(runCli(['predict', '--checkpoint', out, images[0] ?? '', '--top', '3', '--backend', 'wasm']));
    assert.match(text, /gradient-300x200\.png\n {2}0\.\d{4} {2}class \d+\n/);
  });

  it('timm-named weights (BN eps 1e-5) with --class-names: same top-5 and names', async () => {
    const namesFile = join(dir, 'names.txt');
    writeFileSync(namesFile, `${Array.from({ length: 1000 }, (_, i) => `label-${i}`).join('\n')}\n`);
    const out = join(dir, 'timm-run');
    ok(runCli(['import-weights', '--from', 'timm', '--arch', 'mobilenetv3-large', '--weights', join(ref, 'timm.safetensors'), '--out', out, '--class-names', namesFile]));
    const got = JSON.parse(ok(runCli(['predict', '--checkpoint', out, ...images, '--backend', 'wasm', '--json']))) as PredictJson;
    const probs = expected.get('timm_probs');
    assert.ok(probs);
    const maxDiff = compareTop(got, probs, images, (i) => `label-${i}`);
    process.stdout.write(`# timm: max |prob diff| over top-${TOP} of ${images.length} images = ${maxDiff.toExponential(2)}\n`);
  });

  it('importWeights(timm) builds with BN eps 1e-5 and gives timm logits within 1e-3', async () => {
    await useBackend('wasm');
    const { model, spec } = importWeights('timm', referenceArch('mobilenetv3-large'), join(ref, 'timm.safetensors'));
    assert.equal(spec.bn.eps, TIMM_BN_EPS);
    const input = readSafetensors(join(dir, 'inputs.safetensors')).get('input');
    const want = expected.get('timm_logits');
    assert.ok(input && want);
    const logits = tf.tidy(() => (model.predict(tf.tensor(input.data, [...input.shape])) as tf.Tensor).dataSync());
    model.dispose();
    let maxDiff = 0;
    for (let i = 0; i < want.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs((logits[i] ?? Number.NaN) - (want.data[i] ?? 0)));
    assert.ok(maxDiff <= 1e-3, `max |logit diff| ${maxDiff}`);
  });

  it('refuses bad input with one line and exit code 2, writing nothing', () => {
    const weights = join(ref, 'torchvision.safetensors');
    userError(runCli(['import-weights', '--from', 'keras', '--arch', 'mobilenetv3-large', '--weights', weights, '--out', join(dir, 'x')]), 'keras');
    assert.ok(!existsSync(join(dir, 'x')));

    userError(
      runCli(['import-weights', '--from', 'torchvision', '--arch', 'mobilenetv3-small', '--weights', weights, '--out', join(dir, 'small')]),
      'torchvision.safetensors',
      'mobilenetv3-small',
    );
    userError(runCli(['import-weights', '--from', 'timm', '--arch', 'mobilenetv3-large', '--weights', weights, '--out', join(dir, 'small')]), 'conv_stem');
    assert.ok(!existsSync(join(dir, 'small')));

    const full = join(dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    userError(runCli(['import-weights', '--from', 'torchvision', '--arch', 'mobilenetv3-large', '--weights', weights, '--out', full]), full, 'not empty');
    assert.deepEqual(readdirSync(full), ['keep.txt']);
    assert.equal(readFileSync(join(full, 'keep.txt'), 'utf8'), 'mine');

    const shortNames = join(dir, 'three-names.txt');
    writeFileSync(shortNames, 'a\nb\nc\n');
    userError(
      runCli(['import-weights', '--from', 'torchvision', '--arch', 'mobilenetv3-large', '--weights', weights, '--out', join(dir, 'names'), '--class-names', shortNames]),
      '3 names',
      '1000 classes',
    );
    assert.ok(!existsSync(join(dir, 'names')));
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp')), []);

    const run = join(dir, 'tv-run');
    const missing = join(dir, 'no-such-image.png');
    userError(runCli(['predict', '--checkpoint', run, images[0] ?? '', missing, '--backend', 'wasm']), missing);
    const corrupt = join(dir, 'corrupt.png');
    writeFileSync(corrupt, readFileSync(images[1] ?? '').subarray(0, 200));
    userError(runCli(['predict', '--checkpoint', run, images[0] ?? '', corrupt, '--backend', 'wasm']), corrupt);
  });
});

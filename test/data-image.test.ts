import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NasError } from '../common/errors.js';
import { rngFrom } from '../data/augment.js';
import { hwcImage } from '../data/image.js';
import { preprocessingFor } from '../data/load.js';
import { CIFAR10_STATS, LUMA, type NormStats, statsForChannels } from '../data/normalize.js';
import { ImageTransformer, type Preprocessing, preprocessImage } from '../data/transform.js';

/** Stats under which a normalised value equals the raw 0-255 value. */
const RAW: NormStats = { mean: [0], std: [1 / 255] };

function pre(size: number, channels: number, transform: Preprocessing['transform'], stats = RAW): Preprocessing {
  return { dataset: 'test', input: { size, channels }, stats, decode: { kind: 'full' }, transform };
}
const resize = { kind: 'small', fit: 'resize', pad: 2, flip: false } as const;
const pad = { kind: 'small', fit: 'pad', pad: 2, flip: false } as const;

function close(actual: Float32Array, expected: readonly number[], tol = 1e-4): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= tol, `[${i}] ${v} != ${expected[i]}`));
}

test('enlarging 2x2 to 4x4 is bilinear with half-pixel centres and clamped edges', () => {
  const out = preprocessImage(Uint8Array.from([0, 100, 200, 40]), 2, 2, 1, pre(4, 1, resize));
  const r0 = [0, 25, 75, 100];
  const r1 = [200, 160, 80, 40];
  const mix = (a: number): number[] => r0.map((v, i) => a * v + (1 - a) * r1[i]!);
  close(out, [...r0, ...mix(0.75), ...mix(0.25), ...r1]);
});

test('shrinking is antialiased like PIL (triangle filter widened by the scale)', () => {
  const row = [0, 70, 140, 210];
  const img = Uint8Array.from([...row, ...row, ...row, ...row]);
  close(preprocessImage(img, 4, 4, 1, pre(2, 1, resize)), [50, 160, 50, 160]);
});

test('the same size is the identity', () => {
  const img = Uint8Array.from({ length: 5 * 5 * 3 }, (_, i) => (i * 37) % 256);
  close(preprocessImage(img, 5, 5, 3, pre(5, 3, resize)), Array.from(img));
});

test('fit pad centres the image on zeros without scaling', () => {
  close(preprocessImage(Uint8Array.from([1, 2, 3, 4]), 2, 2, 1, pre(4, 1, pad)), [0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0]);
});

test('grey becomes three equal channels; colour becomes one luma channel', () => {
  close(preprocessImage(Uint8Array.from([10, 20]), 1, 2, 1, pre(2, 3, resize, RAW)), [10, 10, 10, 20, 20, 20, 10, 10, 10, 20, 20, 20]);
  const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
  const stats3: NormStats = { mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255] };
  close(preprocessImage(rgb, 2, 2, 3, pre(2, 1, resize, stats3)), [255 * LUMA[0], 255 * LUMA[1], 255 * LUMA[2], 10 * LUMA[0] + 20 * LUMA[1] + 30 * LUMA[2]], 1e-3);
});

test('normalisation subtracts the mean and divides by the std per channel', () => {
  const out = preprocessImage(Uint8Array.from([255, 128, 0]), 1, 1, 3, pre(1 + 7, 3, resize, CIFAR10_STATS));
  const s = CIFAR10_STATS;
  const expected = [(1 - s.mean[0]!) / s.std[0]!, (128 / 255 - s.mean[1]!) / s.std[1]!, (0 - s.mean[2]!) / s.std[2]!];
  for (let p = 0; p < 64; p++) close(out.subarray(p * 3, p * 3 + 3), expected, 1e-5);
  assert.deepEqual(statsForChannels({ mean: [0.5], std: [0.25] }, 3), { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
});

test('crop-style eval scales the shorter side to size / crop_pct and takes the centre', () => {
  const p: Preprocessing = { ...preprocessingFor('folder', { input: { size: 4, channels: 1 } }), stats: RAW };
  const crop = { ...p, transform: { ...(p.transform as Extract<Preprocessing['transform'], { kind: 'crop' }>), cropPct: 0.5 } };
  const img = Uint8Array.from({ length: 8 * 10 }, (_, i) => i);
  // shorter side 8 = 4 / 0.5 already: a plain crop at rows 2..5, cols 3..6
  const expected: number[] = [];
  for (let y = 2; y < 6; y++) for (let x = 3; x < 7; x++) expected.push(y * 10 + x);
  close(preprocessImage(img, 8, 10, 1, crop), expected);
});

test('training transforms are seeded: same generator, same pixels; they differ from eval', () => {
  const t = new ImageTransformer(pre(8, 1, { kind: 'small', fit: 'resize', pad: 2, flip: true }));
  const img = hwcImage(Uint8Array.from({ length: 64 }, (_, i) => i * 3), 8, 8, 1);
  const run = (seed: number): Float32Array => {
    const out = new Float32Array(64 * 8);
    const rng = rngFrom(seed);
    for (let k = 0; k < 8; k++) t.trainInto(img, rng, out, k * 64);
    return out;
  };
  assert.deepEqual(run(1), run(1));
  assert.notDeepEqual(run(1), run(2));
  const ev = new Float32Array(64);
  t.evalInto(img, ev, 0);
  close(ev, Array.from(img.data));
});

test('colour jitter and RandomResizedCrop keep values in range and the output shape', () => {
  const p = preprocessingFor('folder', { input: { size: 16, channels: 3 } });
  const t = new ImageTransformer({ ...p, stats: { mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255] } });
  const img = hwcImage(Uint8Array.from({ length: 20 * 30 * 3 }, (_, i) => (i * 7) % 256), 20, 30, 3);
  const out = new Float32Array(16 * 16 * 3);
  const rng = rngFrom(3);
  for (let k = 0; k < 20; k++) {
    t.trainInto(img, rng, out, 0);
    for (const v of out) assert.ok(v >= -1e-3 && v <= 255 + 1e-3, `${v} out of range`);
  }
});

test('bad input channels are a usage error', () => {
  assert.throws(() => new ImageTransformer(pre(4, 2, resize)), (e: unknown) => e instanceof NasError && e.code === 'E_USAGE');
});

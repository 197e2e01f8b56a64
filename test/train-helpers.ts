// Fixtures of the training tests: a synthetic dataset (one Gaussian blob per class, at a class-specific place and
// colour, plus noise) behind the data/types.ts Split interface, with (seed, epoch)-determined order and
// augmentation, and a tiny architecture built from block strings.
import type { Batch, BatchOptions, Split, SplitName } from '../data/types.js';
import type { ArchSpec } from '../space/arch.js';
import { loadArch } from '../space/load.js';
import { rng } from './random.js';

function mix(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) h = Math.imul(h ^ (x >>> 0), 0x01000193) >>> 0;
  return h;
}

export interface BlobOptions {
  readonly name?: SplitName;
  readonly size: number;
  readonly classes: number;
  readonly imageSize: number;
  readonly channels?: number;
  readonly seed: number;
  readonly noise?: number;
  /** Put NaN into every image of this epoch (divergence tests). */
  readonly nanAtEpoch?: number;
  /** Called before each batch is produced (lets a test slow the loader or watch it). */
  readonly onBatch?: (epoch: number, index: number) => void;
}

/** A Split of Gaussian blobs: class c is a blob centred on a point of a circle, brightest in channel c mod C. */
export function blobSplit(o: BlobOptions): Split {
  const s = o.imageSize;
  const ch = o.channels ?? 3;
  const noise = o.noise ?? 0.3;
  const labels = Int32Array.from({ length: o.size }, (_, i) => mix(o.seed, i) % o.classes);
  const render = (i: number, out: Float32Array, at: number, augment: boolean, epoch: number): void => {
    const c = labels[i] ?? 0;
    const angle = (2 * Math.PI * c) / o.classes;
    const cx = (s - 1) / 2 + (s / 4) * Math.cos(angle);
    const cy = (s - 1) / 2 + (s / 4) * Math.sin(angle);
    const r = rng(mix(o.seed, 1, i));
    const a = augment ? rng(mix(o.seed, 2, epoch, i)) : null;
    const flip = a !== null && a() < 0.5;
    const shift = a !== null ? Math.floor(a() * 3) - 1 : 0;
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const sx = (flip ? s - 1 - x : x) + shift;
        const g = Math.exp(-((sx - cx) ** 2 + (y - cy) ** 2) / (2 * (s / 8) ** 2));
        for (let k = 0; k < ch; k++) {
          const amp = k === c % ch ? 2 : 0.5;
          const v = amp * g + noise * (r() * 2 - 1) + (a ? 0.05 * (a() * 2 - 1) : 0);
          out[at + (y * s + x) * ch + k] = epoch === o.nanAtEpoch && augment ? Number.NaN : v;
        }
      }
    }
  };
  return {
    name: o.name ?? 'train',
    size: o.size,
    async *batches(b: BatchOptions): AsyncIterable<Batch> {
      const order = Array.from({ length: o.size }, (_, i) => i);
      if (b.shuffle) {
        const r = rng(mix(b.seed, 3, b.epoch));
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(r() * (i + 1));
          [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
        }
      }
      const n = b.dropLast ? Math.floor(o.size / b.batchSize) : Math.ceil(o.size / b.batchSize);
      for (let bi = b.startBatch ?? 0; bi < n; bi++) {
        o.onBatch?.(b.epoch, bi);
        const idx = order.slice(bi * b.batchSize, (bi + 1) * b.batchSize);
        const images = new Float32Array(idx.length * s * s * ch);
        const lab = new Int32Array(idx.length);
        idx.forEach((i, k) => {
          render(i, images, k * s * s * ch, b.augment, b.epoch);
          lab[k] = labels[i] ?? 0;
        });
        yield { images, labels: lab, count: idx.length, height: s, width: s, channels: ch };
      }
    },
  };
}

/** Two blocks, a narrow head, dropout 0.2, BN decay 0.9 (moving statistics settle in a few steps): a network that trains in milliseconds per step at 16 px. */
export function tinyArch(classes = 4, input = 16): ArchSpec {
  const spec = loadArch(['ir_k3_s2_x16_c16_re', 'ir_k3_s1_x32_c16_se_hs'], { input, classes });
  return { ...spec, name: 'tiny', head: { conv: 32, hidden: 64, act: 'hswish' }, dropout: 0.2, bn: { decay: 0.9, eps: 1e-3 } };
}

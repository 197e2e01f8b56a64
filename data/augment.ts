// Training augmentation: random crop with zero padding and horizontal flip for small images; RandomResizedCrop,
// flip and colour jitter (torchvision semantics) for folder data. Every draw comes from a seeded generator.
import seedrandom from 'seedrandom';
import { LUMA } from './normalize.js';
import type { Window } from './image.js';

export type Rng = () => number;

/** A generator seeded from the parts, e.g. (seed, 'aug', epoch, batch). */
export function rngFrom(...parts: readonly (string | number)[]): Rng {
  return seedrandom(parts.join(':'));
}

/** An integer in [lo, hi]. */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** `base` moved by up to `pad` pixels each way: a random crop of the image zero-padded by `pad`. */
export function randomShift(rng: Rng, base: Window, pad: number): Window {
  const dy = randInt(rng, -pad, pad);
  const dx = randInt(rng, -pad, pad);
  return { top: base.top + dy, left: base.left + dx, height: base.height, width: base.width };
}

export interface ResizedCropParams {
  readonly scale: readonly [number, number];
  readonly ratio: readonly [number, number];
}

/** torchvision's RandomResizedCrop.get_params: ten tries at a random area and log-uniform aspect, then a centre crop. */
export function randomResizedCrop(rng: Rng, height: number, width: number, p: ResizedCropParams): Window {
  const area = height * width;
  const logLo = Math.log(p.ratio[0]);
  const logHi = Math.log(p.ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (p.scale[0] + rng() * (p.scale[1] - p.scale[0]));
    const aspect = Math.exp(logLo + rng() * (logHi - logLo));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { top: randInt(rng, 0, height - h), left: randInt(rng, 0, width - w), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < p.ratio[0]) h = Math.round(w / p.ratio[0]);
  else if (inRatio > p.ratio[1]) w = Math.round(h * p.ratio[1]);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/**
 * torchvision ColorJitter(strength, strength, strength) on raw 0-255 floats (HWC): brightness, contrast and
 * saturation factors drawn from [1 - strength, 1 + strength], applied in a random order, clamping after each.
 */
export function colorJitter(rng: Rng, pixels: Float64Array, count: number, channels: number, strength: number): void {
  const order = [0, 1, 2];
  for (let i = 2; i > 0; i--) {
    const j = randInt(rng, 0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const n = count * channels;
  for (const op of order) {
    const f = 1 - strength + rng() * 2 * strength;
    if (op === 0) {
      for (let i = 0; i < n; i++) {
        const v = pixels[i]! * f;
        pixels[i] = v > 255 ? 255 : v;
      }
    } else if (op === 1) {
      let sum = 0;
      if (channels === 3) {
        for (let p = 0; p < n; p += 3) sum += LUMA[0] * pixels[p]! + LUMA[1] * pixels[p + 1]! + LUMA[2] * pixels[p + 2]!;
      } else {
        for (let p = 0; p < n; p++) sum += pixels[p]!;
      }
      const add = (sum / count) * (1 - f);
      for (let i = 0; i < n; i++) {
        const v = pixels[i]! * f + add;
        pixels[i] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    } else if (channels === 3) {
      const [l0, l1, l2] = LUMA;
      const g = 1 - f;
      for (let p = 0; p < n; p += 3) {
        const r = pixels[p]!;
        const gr = pixels[p + 1]!;
        const b = pixels[p + 2]!;
        const grey = (l0 * r + l1 * gr + l2 * b) * g;
        const v0 = r * f + grey;
        const v1 = gr * f + grey;
        const v2 = b * f + grey;
        pixels[p] = v0 < 0 ? 0 : v0 > 255 ? 255 : v0;
        pixels[p + 1] = v1 < 0 ? 0 : v1 > 255 ? 255 : v1;
        pixels[p + 2] = v2 < 0 ? 0 : v2 > 255 ? 255 : v2;
      }
    }
  }
}

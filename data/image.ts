// Raw images as views into typed arrays, separable bilinear resampling of a window of an image (our own code, so
// results are deterministic and identical everywhere), channel conversion with normalisation, and decoding of image
// files with sharp.
import type Sharp from 'sharp';
import { lazyPackage } from '../common/lazyPackage.js';
import { NasError } from '../common/errors.js';
import { type ChannelAffine, LUMA } from './normalize.js';

const sharp = lazyPackage<typeof Sharp>('sharp');

/** A uint8 image inside a larger buffer; strides let HWC (MNIST, decoded files) and CHW (CIFAR) share one reader. */
export interface RawImage {
  readonly data: Uint8Array;
  readonly offset: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly rowStride: number;
  readonly pixelStride: number;
  readonly channelStride: number;
}

/** A packed HWC image. */
export function hwcImage(data: Uint8Array, height: number, width: number, channels: number, offset = 0): RawImage {
  return { data, offset, height, width, channels, rowStride: width * channels, pixelStride: channels, channelStride: 1 };
}

/** A packed CHW (planar) image. */
export function chwImage(data: Uint8Array, height: number, width: number, channels: number, offset = 0): RawImage {
  return { data, offset, height, width, channels, rowStride: width, pixelStride: 1, channelStride: height * width };
}

/** A rectangle in source pixel coordinates; it may reach outside the image, where pixels read as 0 (zero padding). */
export interface Window {
  readonly top: number;
  readonly left: number;
  readonly height: number;
  readonly width: number;
}

/** For each output index: the first input index, the number of taps and their weights (maxTaps per row). */
interface Taps {
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly weights: Float64Array;
  readonly maxTaps: number;
}

const tapsCache = new Map<number, Taps>();

/**
 * Bilinear resampling taps from inSize to outSize, computed as PIL does (triangle filter widened by the scale when
 * shrinking, so downscaling is antialiased; plain 2-tap bilinear with half-pixel centres when enlarging).
 */
function resampleTaps(inSize: number, outSize: number): Taps {
  const key = inSize * 65536 + outSize;
  const hit = tapsCache.get(key);
  if (hit) return hit;
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxTaps);
  const k = new Float64Array(maxTaps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < n; x++) {
      const d = Math.abs((x + xmin - center + 0.5) / filterScale);
      k[x] = d < 1 ? 1 - d : 0;
      sum += k[x]!;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi && k[lo] === 0) lo++;
    while (hi > lo && k[hi - 1] === 0) hi--;
    first[o] = xmin + lo;
    count[o] = hi - lo;
    for (let x = lo; x < hi; x++) weights[o * maxTaps + x - lo] = sum === 0 ? 0 : k[x]! / sum;
  }
  const taps = { first, count, weights, maxTaps };
  tapsCache.set(key, taps);
  return taps;
}

/** Scratch memory for resampleWindow, grown on demand. */
export class Scratch {
  rows = new Float64Array(0);
  out = new Float64Array(0);

  ensure(rowFloats: number, outFloats: number): void {
    if (this.rows.length < rowFloats) this.rows = new Float64Array(rowFloats);
    if (this.out.length < outFloats) this.out = new Float64Array(outFloats);
  }
}

/**
 * Resamples `win` of `src` to outH x outW (mirrored horizontally when `flip`) into scratch.out as raw 0-255 floats,
 * HWC with the source's channels. Vertical pass into one row buffer, then the horizontal pass.
 */
export function resampleWindow(src: RawImage, win: Window, outH: number, outW: number, flip: boolean, scratch: Scratch): Float64Array {
  const cs = src.channels;
  scratch.ensure(win.width * cs, outH * outW * cs);
  const row = scratch.rows;
  const out = scratch.out;
  const ty = resampleTaps(win.height, outH);
  const tx = resampleTaps(win.width, outW);
  const { data, offset, rowStride, pixelStride, channelStride } = src;
  const x0 = Math.max(0, -win.left);
  const x1 = Math.min(win.width, src.width - win.left);
  const rowLen = win.width * cs;
  for (let oy = 0; oy < outH; oy++) {
    row.fill(0, 0, rowLen);
    const fy = ty.first[oy]!;
    const ny = ty.count[oy]!;
    const wy = oy * ty.maxTaps;
    for (let t = 0; t < ny; t++) {
      const sy = win.top + fy + t;
      if (sy < 0 || sy >= src.height) continue;
      const w = ty.weights[wy + t]!;
      const base = offset + sy * rowStride + win.left * pixelStride;
      if (cs === 1) {
        for (let x = x0; x < x1; x++) row[x] = row[x]! + w * data[base + x * pixelStride]!;
      } else if (cs === 3) {
        const c1 = channelStride;
        const c2 = 2 * channelStride;
        for (let x = x0, p = base + x0 * pixelStride, q = x0 * 3; x < x1; x++, p += pixelStride, q += 3) {
          row[q] = row[q]! + w * data[p]!;
          row[q + 1] = row[q + 1]! + w * data[p + c1]!;
          row[q + 2] = row[q + 2]! + w * data[p + c2]!;
        }
      } else {
        for (let x = x0; x < x1; x++) {
          const p = base + x * pixelStride;
          const q = x * cs;
          for (let c = 0, pc = p; c < cs; c++, pc += channelStride) row[q + c] = row[q + c]! + w * data[pc]!;
        }
      }
    }
    const ob = oy * outW * cs;
    if (cs === 3) {
      for (let ox = 0; ox < outW; ox++) {
        const k = flip ? outW - 1 - ox : ox;
        const nx = tx.count[k]!;
        let wi = k * tx.maxTaps;
        let ri = tx.first[k]! * 3;
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        for (let t = 0; t < nx; t++, wi++, ri += 3) {
          const w = tx.weights[wi]!;
          a0 += w * row[ri]!;
          a1 += w * row[ri + 1]!;
          a2 += w * row[ri + 2]!;
        }
        const o = ob + ox * 3;
        out[o] = a0;
        out[o + 1] = a1;
        out[o + 2] = a2;
      }
    } else {
      for (let ox = 0; ox < outW; ox++) {
        const k = flip ? outW - 1 - ox : ox;
        const fx = tx.first[k]!;
        const nx = tx.count[k]!;
        const wx = k * tx.maxTaps;
        for (let c = 0; c < cs; c++) {
          let acc = 0;
          for (let t = 0; t < nx; t++) acc += tx.weights[wx + t]! * row[(fx + t) * cs + c]!;
          out[ob + ox * cs + c] = acc;
        }
      }
    }
  }
  return out;
}

/**
 * The unscaled case of resampleWindow (window as large as the output: shifts, zero padding, flips), fused with
 * channel conversion and normalisation into dst; it is the common path of the small datasets.
 */
export function copyWindowNormalized(
  src: RawImage,
  win: Window,
  flip: boolean,
  dst: Float32Array,
  dstOffset: number,
  dstChannels: number,
  affine: ChannelAffine,
): void {
  const { data, offset, rowStride, pixelStride, channelStride, channels: cs } = src;
  const { scale, shift } = affine;
  const h = win.height;
  const w = win.width;
  const cols = new Int32Array(w);
  for (let ox = 0; ox < w; ox++) {
    const sx = win.left + (flip ? w - 1 - ox : ox);
    cols[ox] = sx >= 0 && sx < src.width ? sx * pixelStride : -1;
  }
  const g0 = cs === 3 ? LUMA[0] : 1;
  const g1 = cs === 3 ? LUMA[1] : 0;
  const g2 = cs === 3 ? LUMA[2] : 0;
  let o = dstOffset;
  for (let oy = 0; oy < h; oy++) {
    const sy = win.top + oy;
    const inside = sy >= 0 && sy < src.height;
    const base = offset + sy * rowStride;
    for (let ox = 0; ox < w; ox++) {
      const col = cols[ox]!;
      const p = base + col;
      const ok = inside && col >= 0;
      if (dstChannels === 3) {
        let r = 0;
        let g = 0;
        let b = 0;
        if (ok) {
          r = data[p]!;
          g = cs === 3 ? data[p + channelStride]! : r;
          b = cs === 3 ? data[p + 2 * channelStride]! : r;
        }
        dst[o] = r * scale[0]! + shift[0]!;
        dst[o + 1] = g * scale[1]! + shift[1]!;
        dst[o + 2] = b * scale[2]! + shift[2]!;
        o += 3;
      } else {
        const v = ok ? g0 * data[p]! + (cs === 3 ? g1 * data[p + channelStride]! + g2 * data[p + 2 * channelStride]! : 0) : 0;
        dst[o++] = v * scale[0]! + shift[0]!;
      }
    }
  }
}

/**
 * Writes `pixels` raw floats (HWC, srcChannels) into dst at dstOffset with dstChannels, normalised: grey to colour
 * by repetition, colour to grey by luma.
 */
export function writeNormalized(
  pixels: Float64Array,
  count: number,
  srcChannels: number,
  dst: Float32Array,
  dstOffset: number,
  dstChannels: number,
  affine: ChannelAffine,
): void {
  const { scale, shift } = affine;
  if (srcChannels === dstChannels && (dstChannels === 1 || dstChannels === 3)) {
    const n = count * dstChannels;
    if (dstChannels === 1) {
      const a = scale[0]!;
      const b = shift[0]!;
      for (let i = 0; i < n; i++) dst[dstOffset + i] = pixels[i]! * a + b;
    } else {
      const [a0, a1, a2] = [scale[0]!, scale[1]!, scale[2]!];
      const [b0, b1, b2] = [shift[0]!, shift[1]!, shift[2]!];
      for (let i = 0, o = dstOffset; i < n; i += 3, o += 3) {
        dst[o] = pixels[i]! * a0 + b0;
        dst[o + 1] = pixels[i + 1]! * a1 + b1;
        dst[o + 2] = pixels[i + 2]! * a2 + b2;
      }
    }
  } else if (srcChannels === 1 && dstChannels === 3) {
    const [a0, a1, a2] = [scale[0]!, scale[1]!, scale[2]!];
    const [b0, b1, b2] = [shift[0]!, shift[1]!, shift[2]!];
    for (let i = 0, o = dstOffset; i < count; i++, o += 3) {
      const v = pixels[i]!;
      dst[o] = v * a0 + b0;
      dst[o + 1] = v * a1 + b1;
      dst[o + 2] = v * a2 + b2;
    }
  } else if (srcChannels === 3 && dstChannels === 1) {
    const a = scale[0]!;
    const b = shift[0]!;
    for (let i = 0, p = 0; i < count; i++, p += 3) {
      dst[dstOffset + i] = (LUMA[0] * pixels[p]! + LUMA[1] * pixels[p + 1]! + LUMA[2] * pixels[p + 2]!) * a + b;
    }
  } else {
    throw new NasError('E_USAGE', `cannot convert ${srcChannels}-channel images to ${dstChannels} channels (use 1 or 3)`);
  }
}

/** How an image file is decoded before the transforms: whole, shorter side scaled to `size`, or cover-cropped square. */
export type DecodeSpec =
  | { readonly kind: 'full' }
  | { readonly kind: 'shorter-side'; readonly size: number }
  | { readonly kind: 'cover'; readonly size: number };

/**
 * Decodes an image file (or buffer) to packed HWC RGB uint8 with sharp, resized as `decode` says. Throws whatever
 * sharp throws for an unreadable or truncated file; callers decide whether that is fatal.
 */
export async function decodeImage(input: string | Uint8Array, decode: DecodeSpec): Promise<RawImage> {
  let pipeline = sharp()(input, { failOn: 'error' }).removeAlpha().toColourspace('srgb');
  if (decode.kind === 'shorter-side') {
    pipeline = pipeline.resize({ width: decode.size, height: decode.size, fit: 'outside', kernel: 'linear' });
  } else if (decode.kind === 'cover') {
    pipeline = pipeline.resize({ width: decode.size, height: decode.size, fit: 'cover', kernel: 'linear' });
  }
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
  return hwcImage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.height, info.width, 3);
}

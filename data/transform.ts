// The per-image pipeline: a source window (eval: resize / pad / centre crop; train: plus augmentation) resampled to
// the model input, converted to its channels and normalised. The eval path is also what single-image prediction
// uses, through preprocessImage, so a model sees the same pixels in `nas eval` and `nas predict`.
import { NasError } from '../common/errors.js';
import { colorJitter, type Rng, randomResizedCrop, randomShift } from './augment.js';
import { copyWindowNormalized, type DecodeSpec, decodeImage, hwcImage, type RawImage, resampleWindow, Scratch, type Window, writeNormalized } from './image.js';
import { type ChannelAffine, channelAffine, type NormStats } from './normalize.js';
import type { InputSpec } from './types.js';

/**
 * small: 28-32 px datasets; eval resizes (or zero-pads / centre-crops when fit is 'pad') the whole image to the
 * input, training adds a random crop from the image padded by `pad` and an optional flip.
 * crop: photographs; eval resizes the shorter side to size / cropPct and centre-crops, training uses
 * RandomResizedCrop, flip and colour jitter.
 */
export type TransformSpec =
  | { readonly kind: 'small'; readonly fit: 'resize' | 'pad'; readonly pad: number; readonly flip: boolean }
  | {
      readonly kind: 'crop';
      readonly cropPct: number;
      readonly scale: readonly [number, number];
      readonly ratio: readonly [number, number];
      readonly flip: boolean;
      readonly jitter: number;
    };

/** Everything needed to turn an image into model input the way a dataset does (JSON-serialisable, for checkpoints). */
export interface Preprocessing {
  readonly dataset: string;
  readonly input: InputSpec;
  readonly stats: NormStats;
  /** How image files are decoded (folder data, prediction) before `transform`. */
  readonly decode: DecodeSpec;
  readonly transform: TransformSpec;
}

/** The size the shorter side is scaled to before a centre crop of `size` (timm: floor(size / crop_pct)). */
export function scaleSize(size: number, cropPct: number): number {
  return Math.floor(size / cropPct);
}

/** Python's round(), half to even, which torchvision's CenterCrop uses for its offsets. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function centred(height: number, width: number, size: number, round: (x: number) => number): Window {
  return { top: round((height - size) / 2), left: round((width - size) / 2), height: size, width: size };
}

/** Applies a Preprocessing to raw images; holds scratch buffers, so one per consumer (not shared across threads). */
export class ImageTransformer {
  readonly pre: Preprocessing;
  private readonly affine: ChannelAffine;
  private readonly scratch = new Scratch();

  constructor(pre: Preprocessing) {
    const { size, channels } = pre.input;
    if (!Number.isInteger(size) || size < 1) throw new NasError('E_USAGE', `input size must be a positive integer, got ${size}`);
    if (channels !== 1 && channels !== 3) throw new NasError('E_USAGE', `input channels must be 1 or 3, got ${channels}`);
    this.pre = pre;
    this.affine = channelAffine(pre.stats, channels);
  }

  /** Evaluation transform of img into dst at offset (size * size * channels floats). */
  evalInto(img: RawImage, dst: Float32Array, offset: number): void {
    const t = this.pre.transform;
    const size = this.pre.input.size;
    if (t.kind === 'small') {
      const win = t.fit === 'resize' ? { top: 0, left: 0, height: img.height, width: img.width } : centred(img.height, img.width, size, Math.floor);
      this.finish(img, win, false, null, dst, offset);
      return;
    }
    const scaled = this.scaleShorterSide(img, scaleSize(size, t.cropPct));
    this.finish(scaled, centred(scaled.height, scaled.width, size, roundHalfEven), false, null, dst, offset);
  }

  /** Training transform of img into dst at offset, drawing from rng. */
  trainInto(img: RawImage, rng: Rng, dst: Float32Array, offset: number): void {
    const t = this.pre.transform;
    const size = this.pre.input.size;
    if (t.kind === 'small') {
      const base = t.fit === 'resize' ? { top: 0, left: 0, height: img.height, width: img.width } : centred(img.height, img.width, size, Math.floor);
      const win = randomShift(rng, base, t.pad);
      const flip = t.flip && rng() < 0.5;
      this.finish(img, win, flip, null, dst, offset);
      return;
    }
    const win = randomResizedCrop(rng, img.height, img.width, t);
    const flip = t.flip && rng() < 0.5;
    this.finish(img, win, flip, t.jitter > 0 ? { rng, strength: t.jitter } : null, dst, offset);
  }

  private finish(
    img: RawImage,
    win: Window,
    flip: boolean,
    jitter: { rng: Rng; strength: number } | null,
    dst: Float32Array,
    offset: number,
  ): void {
    const size = this.pre.input.size;
    const channels = this.pre.input.channels;
    if (!jitter && win.height === size && win.width === size && (img.channels === 1 || img.channels === 3)) {
      copyWindowNormalized(img, win, flip, dst, offset, channels, this.affine);
      return;
    }
    const pixels = resampleWindow(img, win, size, size, flip, this.scratch);
    if (jitter) colorJitter(jitter.rng, pixels, size * size, img.channels, jitter.strength);
    writeNormalized(pixels, size * size, img.channels, dst, offset, channels, this.affine);
  }

  /** torchvision Resize(int): shorter side to `short`, longer side truncated in proportion; rounded to uint8 as PIL does. */
  private scaleShorterSide(img: RawImage, short: number): RawImage {
    if (Math.min(img.height, img.width) === short) return img;
    const h = img.height <= img.width ? short : Math.trunc((short * img.height) / img.width);
    const w = img.height <= img.width ? Math.trunc((short * img.width) / img.height) : short;
    const scratch = new Scratch();
    const f = resampleWindow(img, { top: 0, left: 0, height: img.height, width: img.width }, h, w, false, scratch);
    const out = new Uint8Array(h * w * img.channels);
    for (let i = 0; i < out.length; i++) out[i] = Math.round(f[i]!);
    return hwcImage(out, h, w, img.channels);
  }
}

/**
 * The evaluation preprocessing of one packed HWC uint8 image (any size, 1 or 3 channels): the same function the
 * eval batches use. Returns size * size * channels normalised floats (HWC).
 */
export function preprocessImage(pixels: Uint8Array, height: number, width: number, channels: number, pre: Preprocessing): Float32Array {
  if (pixels.length < height * width * channels) {
    throw new NasError('E_USAGE', `image buffer holds ${pixels.length} bytes, less than ${height}x${width}x${channels}`);
  }
  const out = new Float32Array(pre.input.size * pre.input.size * pre.input.channels);
  new ImageTransformer(pre).evalInto(hwcImage(pixels, height, width, channels), out, 0);
  return out;
}

/** Decodes an image file as the dataset's loader does and applies the evaluation preprocessing (for `nas predict`). */
export async function preprocessImageFile(path: string, pre: Preprocessing): Promise<Float32Array> {
  let img: RawImage;
  try {
    img = await decodeImage(path, pre.decode);
  } catch (e) {
    throw new NasError('E_IO', `cannot read image ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  const out = new Float32Array(pre.input.size * pre.input.size * pre.input.channels);
  new ImageTransformer(pre).evalInto(img, out, 0);
  return out;
}

// Image preprocessing in the page, as `nas predict` does it in Node: the decode step of the model card (in Node,
// sharp resizes while decoding a file; here our own bilinear resampler, data/image.ts, does) and then
// data/transform.ts's evaluation transform itself. Pixels that need no resizing at decode time (the decoded size
// already, or a 'full' decode as for the small-image datasets) give exactly the floats Node gives.
import { hwcImage, resampleWindow, Scratch, type Window } from '../data/image.js';
import { type Preprocessing, preprocessImage } from '../data/transform.js';

/** Packed RGBA pixels, row by row: an ImageData, or what a canvas's getImageData returns. */
export interface RgbaImage {
  readonly data: Uint8ClampedArray | Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** A packed HWC RGB uint8 image. */
interface RgbImage {
  readonly pixels: Uint8Array;
  readonly height: number;
  readonly width: number;
}

/** Drops the alpha channel without blending, as sharp's removeAlpha does. */
export function rgbOf(image: RgbaImage): Uint8Array {
  const { data, width, height } = image;
  const n = width * height;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || data.length < n * 4) {
    throw new Error(`expected ${width}x${height} RGBA pixels (${n * 4} bytes), got ${data.length} bytes`);
  }
  const rgb = new Uint8Array(n * 3);
  for (let i = 0, p = 0, q = 0; i < n; i++, p += 4, q += 3) {
    rgb[q] = data[p]!;
    rgb[q + 1] = data[p + 1]!;
    rgb[q + 2] = data[p + 2]!;
  }
  return rgb;
}

/** `win` of `img` resampled to outH x outW and rounded to uint8, as a decoder's resize delivers it. */
function resize(img: RgbImage, win: Window, outH: number, outW: number): RgbImage {
  const f = resampleWindow(hwcImage(img.pixels, img.height, img.width, 3), win, outH, outW, false, new Scratch());
  const pixels = new Uint8Array(outH * outW * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.min(255, Math.max(0, Math.round(f[i]!)));
  return { pixels, height: outH, width: outW };
}

/** The image as Node's decodeImage(file, pre.decode) would hand it to the transform. */
function decodeLike(img: RgbImage, decode: Preprocessing['decode']): RgbImage {
  const { height: h, width: w } = img;
  const whole = { top: 0, left: 0, height: h, width: w };
  switch (decode.kind) {
    case 'full':
      return img;
    case 'shorter-side': {
      const s = decode.size;
      if (Math.min(h, w) === s) return img;
      return h <= w ? resize(img, whole, s, Math.trunc((s * w) / h)) : resize(img, whole, Math.trunc((s * h) / w), s);
    }
    case 'cover': {
      const s = decode.size;
      if (h === s && w === s) return img;
      const side = Math.min(h, w);
      const square = { top: Math.floor((h - side) / 2), left: Math.floor((w - side) / 2), height: side, width: side };
      return resize(img, square, s, s);
    }
  }
}

/**
 * The model input for one image: size * size * channels normalised floats (HWC), from RGBA pixels of any size,
 * with the card's preprocessing.
 */
export function preprocessRgba(image: RgbaImage, pre: Preprocessing): Float32Array {
  const img = decodeLike({ pixels: rgbOf(image), height: image.height, width: image.width }, pre.decode);
  return preprocessImage(img.pixels, img.height, img.width, 3, pre);
}

/** An image's pixels at its natural size: drawn unscaled onto a canvas and read back. */
export function readPixels(source: HTMLImageElement | ImageBitmap | HTMLCanvasElement): ImageData {
  const width = source instanceof HTMLImageElement ? source.naturalWidth : source.width;
  const height = source instanceof HTMLImageElement ? source.naturalHeight : source.height;
  if (width === 0 || height === 0) throw new Error('the image has no pixels (not loaded yet?)');
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2d canvas context');
  ctx.drawImage(source, 0, 0);
  return ctx.getImageData(0, 0, width, height);
}

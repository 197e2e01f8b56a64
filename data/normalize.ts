// Per-dataset normalisation statistics (mean / std per channel of pixels scaled to [0, 1]) and the per-channel affine
// map that applies them to raw 0-255 values after channel conversion.

export interface NormStats {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export const MNIST_STATS: NormStats = { mean: [0.1307], std: [0.3081] };
export const FASHION_MNIST_STATS: NormStats = { mean: [0.286], std: [0.353] };
export const CIFAR10_STATS: NormStats = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
export const IMAGENET_STATS: NormStats = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** ITU-R BT.601 luma weights (PIL's RGB -> L conversion). */
export const LUMA: readonly [number, number, number] = [0.299, 0.587, 0.114];

/**
 * The statistics of `stats` seen through a model with `channels` input channels: one-channel statistics are repeated
 * for three channels; three-channel statistics collapse to luma-weighted ones for one channel (exact for the mean,
 * an upper bound for the std since the colour channels are positively correlated).
 */
export function statsForChannels(stats: NormStats, channels: number): NormStats {
  const n = stats.mean.length;
  if (n === channels) return stats;
  if (n === 1) return { mean: Array(channels).fill(stats.mean[0]), std: Array(channels).fill(stats.std[0]) };
  if (n === 3 && channels === 1) {
    const dot = (v: readonly number[]): number => LUMA[0] * v[0]! + LUMA[1] * v[1]! + LUMA[2] * v[2]!;
    return { mean: [dot(stats.mean)], std: [dot(stats.std)] };
  }
  throw new Error(`cannot adapt ${n}-channel statistics to ${channels} channels`);
}

/** normalised = raw * scale[c] + shift[c], raw in 0..255. */
export interface ChannelAffine {
  readonly scale: Float32Array;
  readonly shift: Float32Array;
}

export function channelAffine(stats: NormStats, channels: number): ChannelAffine {
  const s = statsForChannels(stats, channels);
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = 1 / (255 * s.std[c]!);
    shift[c] = -s.mean[c]! / s.std[c]!;
  }
  return { scale, shift };
}

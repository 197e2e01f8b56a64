// Deterministic index arithmetic: seeded subsets (the `limit` option), the stratified validation hold-out, and the
// per-epoch shuffle.
import { NasError } from '../common/errors.js';
import { randInt, type Rng, rngFrom } from './augment.js';

/** Fisher-Yates shuffle of `a` in place. */
export function shuffleInPlace(a: Int32Array, rng: Rng): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randInt(rng, 0, i);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

/** 0..n-1. */
export function range(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** The order of a split's positions in one epoch: a permutation drawn from (seed, epoch), or 0..n-1. */
export function epochOrder(n: number, shuffle: boolean, seed: number, epoch: number): Int32Array {
  const order = range(n);
  return shuffle ? shuffleInPlace(order, rngFrom(seed, 'shuffle', epoch)) : order;
}

/** A seeded random subset of `count` of `indices`, in ascending order (all of them when count >= length). */
export function randomSubset(indices: Int32Array, count: number, rng: Rng): Int32Array {
  if (count >= indices.length) return indices;
  return shuffleInPlace(Int32Array.from(indices), rng).subarray(0, count).sort();
}

/** The validation size: a count, or a fraction (< 1) of the training pool, or the dataset's default fraction. */
export function resolveValCount(valSize: number | undefined, pool: number, defaultFraction: number): number {
  const v = valSize ?? defaultFraction;
  if (!Number.isFinite(v) || v < 0) throw new NasError('E_USAGE', `--val-size must be a count or a fraction in [0, 1), got ${v}`);
  const count = v < 1 ? Math.round(v * pool) : v;
  if (!Number.isInteger(count) || count >= pool) {
    throw new NasError('E_USAGE', `--val-size ${v} leaves no training data: the training pool has ${pool} images`);
  }
  return count;
}

/**
 * Holds out `count` of `pool` (indices into `labels`) as a validation set, stratified: each class gives its share
 * (largest remainders settle the rounding), chosen at random from (seed). Both results are sorted and disjoint.
 */
export function stratifiedHoldout(pool: Int32Array, labels: Int32Array, count: number, seed: number): { train: Int32Array; val: Int32Array } {
  const byClass = new Map<number, number[]>();
  for (const i of pool) {
    const c = labels[i]!;
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const quota = classes.map((c) => (count * byClass.get(c)!.length) / pool.length);
  const take = quota.map(Math.floor);
  let left = count - take.reduce((a, b) => a + b, 0);
  const byRemainder = classes.map((_, k) => k).sort((a, b) => quota[b]! - take[b]! - (quota[a]! - take[a]!) || a - b);
  for (const k of byRemainder) {
    if (left === 0) break;
    take[k]! += 1;
    left--;
  }
  const rng = rngFrom(seed, 'val');
  const held = new Uint8Array(labels.length);
  const val: number[] = [];
  classes.forEach((c, k) => {
    const members = shuffleInPlace(Int32Array.from(byClass.get(c)!), rng);
    for (let j = 0; j < take[k]!; j++) {
      held[members[j]!] = 1;
      val.push(members[j]!);
    }
  });
  const train = pool.filter((i) => held[i] === 0);
  return { train, val: Int32Array.from(val).sort() };
}

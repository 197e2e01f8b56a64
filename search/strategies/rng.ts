// The strategies' seeded generator: seedrandom's ARC4, whose state is plain JSON, so a restored strategy continues
// the exact same stream of draws.
import seedrandom from 'seedrandom';
import type { JsonValue } from '../../common/json.js';

export interface Rng {
  /** A float in [0, 1). */
  (): number;
  state(): seedrandom.State.Arc4;
}

export function rngFromSeed(seed: number): Rng {
  return seedrandom(String(seed), { state: true });
}

export function rngFromState(state: JsonValue | undefined): Rng {
  const s = state as seedrandom.State.Arc4 | undefined;
  if (s === undefined || s === null || typeof s !== 'object' || !Array.isArray(s.S) || typeof s.i !== 'number' || typeof s.j !== 'number') {
    throw new Error('strategy state: the generator state is missing or malformed');
  }
  return seedrandom('', { state: { i: s.i, j: s.j, S: [...s.S] } });
}

export function rngStateJson(rng: Rng): JsonValue {
  const s = rng.state();
  return { i: s.i, j: s.j, S: [...s.S] };
}

/** An index in [0, n). */
export function randomIndex(rng: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(rng() * n));
}

/** An index drawn from `probs` (summing to about 1; the last index absorbs rounding). */
export function drawCategorical(rng: () => number, probs: ArrayLike<number>, offset = 0, n = probs.length - offset): number {
  const u = rng();
  let acc = 0;
  for (let k = 0; k < n - 1; k++) {
    acc += probs[offset + k] as number;
    if (u < acc) return k;
  }
  return n - 1;
}

// Seeds derived from other seeds, each a pure function of its inputs so that a run gives the same numbers whichever
// process computes them, in whichever order, and again after a resume. The values are part of every seeded result:
// changing one of these functions changes what a seeded NetAdapt run or training gives. No Node import: the builder,
// which uses nameSeed, also runs in the browser bundle (web/). A search candidate's seed is search/seed.ts.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over 32-bit words from `basis`, reduced to a seed in [0, 2^31 - 1). */
function fnvSeed(words: Iterable<number>, basis = FNV_OFFSET): number {
  let h = basis;
  for (const w of words) h = Math.imul(h ^ w, FNV_PRIME);
  return (h >>> 0) % 2147483647;
}

/** A stable 31-bit seed from a seed and positions (NetAdapt: run seed, iteration, proposal index). */
export function mixSeed(...xs: number[]): number {
  return fnvSeed(xs.map((x) => x >>> 0));
}

/** A stable 31-bit seed from a seed and a name (the builder: a layer's initialiser from its path). */
export function nameSeed(seed: number, name: string): number {
  return fnvSeed(Array.from({ length: name.length }, (_, i) => name.charCodeAt(i)), FNV_OFFSET ^ seed);
}

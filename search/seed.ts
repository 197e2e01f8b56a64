// A search candidate's seed: a pure function of the run seed and the candidate's canonical arch, so that a candidate
// gets the same seed whichever worker evaluates it, in whichever order, and again after a resume (its value is part
// of every seeded search result). SHA-256, which the browser bundle does not need (common/seed.ts is for both).
import { createHash } from 'node:crypto';

/** A non-negative 31-bit seed for one candidate of a search run, from the run seed and its canonical arch. */
export function candidateSeed(runSeed: number, arch: string): number {
  const h = createHash('sha256').update(`${runSeed}\n${arch}`).digest();
  return h.readUInt32BE(0) >>> 1;
}

// Per-candidate seeds: a pure function of the run seed and the canonical arch, so a candidate gets the same weight
// init and data order whichever worker evaluates it, in whichever order, and again after a resume.
import { createHash } from 'node:crypto';

/** A non-negative 31-bit integer seed for one candidate of a run. */
export function candidateSeed(runSeed: number, arch: string): number {
  const h = createHash('sha256').update(`${runSeed}\n${arch}`).digest();
  return h.readUInt32BE(0) >>> 1;
}

// Stage (a): the latency lookup table of this machine's node runner at the space's input size, what `nas latency
// lut build --space S --arch REFERENCE` builds: every entry the search space can produce plus the reference's, then
// calibrated on whole networks. The file is written after each entry, so a killed build resumes where it stopped.
import { join } from 'node:path';
import { isJsonObject, type JsonValue } from '../../common/json.js';
import { buildLutFile } from '../../latency/buildLutFile.js';
import { readLut } from '../../latency/lut.js';
import { predictLatency } from '../../latency/predict.js';
import type { ArchSpec } from '../../space/arch.js';
import { builtinSpace } from '../../space/spaces.js';
import { numberAt, type Say, stringAt } from './record.js';

/** How long the table's entries are timed: the `lut build` defaults, or a quick table for --smoke. */
export interface LutTiming {
  readonly warmup: number;
  readonly runs: number;
  readonly sweeps: number;
  readonly calibrate: number;
  /** Cover this many sampled networks of the space instead of every entry (--smoke: NetAdapt adds what it misses). */
  readonly samples?: number;
};

export const FULL_LUT: LutTiming = { warmup: 5, runs: 30, sweeps: 3, calibrate: 20 };
// Calibrated on 10 networks: on 3 the fit gave -0.10 ms per entry and 3.43 ms overhead (the reference predicted 2.86 ms,
// measured 1.06-1.31 ms); on 10, +0.07 ms and 0.00 ms (1.91 ms).
// The search times candidates against the reference, not by the table: a smoke table covers 8 sampled networks
// (the whole 32 px space took 41 s of the CI suite).
export const SMOKE_LUT: LutTiming = { warmup: 1, runs: 3, sweeps: 1, calibrate: 10, samples: 8 };

export type LutStageResult = {
  readonly path: string;
  readonly entries: number;
  /** The reference's latency as the table predicts it: the search's target. */
  readonly referenceMs: number;
};

export function parseLutStage(v: JsonValue): LutStageResult | null {
  if (!isJsonObject(v)) return null;
  const [path, entries, referenceMs] = [stringAt(v, 'path'), numberAt(v, 'entries'), numberAt(v, 'referenceMs')];
  return path === null || entries === null || referenceMs === null ? null : { path, entries, referenceMs };
}

/** The reference's latency by the table (every entry it needs was built with it). */
export function referencePrediction(lutPath: string, reference: ArchSpec): number {
  return predictLatency(readLut(lutPath), reference).predictedMs;
}

export async function buildPipelineLut(outDir: string, space: string, reference: ArchSpec, timing: LutTiming, say: Say): Promise<LutStageResult> {
  const path = join(outDir, 'latency-lut.json');
  let last = -1;
  const r = await buildLutFile({
    archs: [reference],
    space: builtinSpace(space),
    seed: 0,
    input: reference.input.size,
    runner: 'node',
    backend: 'wasm',
    threads: 1,
    ...timing,
    out: path,
    onProgress: (stage, done, total) => {
      // One line per tenth: a build of thousands of entries would otherwise flood stderr.
      const tenth = Math.floor((10 * done) / total);
      if (tenth === last && done !== total) return;
      last = tenth;
      say(`[lut ${stage}] ${done}/${total}`);
    },
  });
  return { path, entries: r.entries, referenceMs: referencePrediction(path, reference) };
}

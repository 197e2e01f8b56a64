// The pipeline's table: every network with its latency measured together with the others, params, MAdds and test
// top-1 over the seeds (mean and spread), as data; cli/benchPipeline.ts prints it.
import { mean } from '../../latency/stats.js';
import { decodeArch } from '../../space/blockString.js';
import { costOf } from '../../space/cost.js';
import { resolve } from '../../space/resolve.js';
import type { Measured } from './measureStage.js';
import type { Network } from './networks.js';

export interface PipelineRow {
  readonly network: string;
  readonly arch: string;
  readonly latencyMs: number;
  readonly params: number;
  readonly madds: number;
  /** Test top-1 of each seed, in seed order. */
  readonly top1: readonly number[];
  readonly top1Mean: number;
  /** Largest minus smallest test top-1 over the seeds (0 with one seed). */
  readonly top1Spread: number;
}

export function rowOf(n: Network, measured: Measured): PipelineRow {
  const cost = costOf(resolve(decodeArch(n.arch, n.name)));
  const top1 = n.trainings.map((t) => t.top1);
  return {
    network: n.name,
    arch: n.arch,
    latencyMs: measured[n.name] ?? Number.NaN,
    params: cost.params,
    madds: cost.madds,
    top1,
    top1Mean: mean(top1),
    top1Spread: Math.max(...top1) - Math.min(...top1),
  };
}

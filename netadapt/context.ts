// What the parts of a NetAdapt run share while it runs: the run (its id, settings, store, latency source, log), where
// it starts (the seed, the target, the step size), and where it stands (the network chosen last).
import { replaceFile } from '../common/atomicFs.js';
import type { Target } from '../latency/targets.js';
import type { Store } from '../results/store.js';
import type { ArchSpec } from '../space/arch.js';
import type { NetadaptLatency } from './latency.js';
import type { NetadaptSettings, RunHooks } from './types.js';

export interface RunContext {
  readonly runId: string;
  readonly settings: NetadaptSettings;
  readonly store: Store;
  readonly latency: NetadaptLatency;
  readonly log: (line: string) => void;
  readonly hooks: RunHooks;
  /** Native kernel threads of the trainings in this process (NetadaptSession.trainThreads). */
  readonly trainThreads?: number;
}

/** The seed and the goal, fixed for the whole run. */
export interface Start {
  readonly seedSpec: ArchSpec;
  readonly seedCheckpoint: string;
  readonly seedMs: number;
  readonly seedAcc: number;
  readonly target: Target;
  readonly targetMs: number;
  /** Each step cuts at least this much. */
  readonly deltaMs: number;
  /** The final network's spec file. */
  readonly specFile: string;
}

/** The network the run has reached: the seed (iteration 0) or the one chosen last. */
export interface State {
  readonly iteration: number;
  readonly spec: ArchSpec;
  readonly checkpoint: string;
  readonly latencyMs: number;
  readonly accuracy: number;
}

export const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;

/** A spec file, written atomically: a reader (or a kill) never sees half of it. */
export async function writeSpecFile(path: string, spec: ArchSpec): Promise<void> {
  await replaceFile(path, `${JSON.stringify(spec, null, 2)}\n`);
}

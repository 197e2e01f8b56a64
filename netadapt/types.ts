// What a NetAdapt run keeps: its settings (the run's config in the store, all that `--resume RUN` reads back), each
// step's proposals and choice (netadapt_iterations), the fine-tune task a proposal is (netadapt/finetune.ts), and the
// result. All plain JSON data; netadapt/stored.ts checks each on its way back in.
import type { BackendChoice } from '../backend/choices.js';
import type { LatencySourceSpec } from '../latency/resources.js';
import type { SourceRunner } from '../latency/sourceRunner.js';
import type { ArchSpec } from '../space/arch.js';
import type { TrainConfig } from '../train/config.js';
import type { EvalMetrics } from '../train/evaluate.js';
import type { Shrink } from './proposals.js';

/** What fixes the splits: the same for every proposal and for the main process. */
export interface DataKey {
  readonly dataset: string;
  readonly dataDir: string | null;
  readonly input: number;
  readonly channels: number;
  readonly fit: 'resize' | 'pad';
  /** Training pool (train + val) cap; null: the whole training set. */
  readonly trainImages: number | null;
  /** Validation images held out of the training data; null: the dataset's default (as train-final holds out). */
  readonly valImages: number | null;
  readonly dataSeed: number;
}

/** Everything a run needs, as JSON: stored as the run's config, and all that `--resume RUN` reads back. */
export interface NetadaptSettings {
  /** The seed network as the user named it (any width multiplier). */
  readonly arch: ArchSpec;
  readonly archRef: string;
  /** The seed's checkpoint (a checkpoint or run directory). */
  readonly checkpoint: string;
  readonly data: DataKey;
  /** `latency=12ms` or `latency=0.7x` (of the seed's predicted latency). */
  readonly target: string;
  readonly latency: LatencySourceSpec;
  /** Each step cuts at least delta x the seed's latency. */
  readonly delta: number;
  readonly shortSteps: number;
  /** 0: in process; N: a Piscina pool of N threads. Ignored when gpus is given. */
  readonly workers: number;
  /** One fine-tune process per GPU id (absent in runs from before --gpus). */
  readonly gpus?: readonly string[];
  /** Fine-tune recipe (lr, optimizer, batch); its seed is replaced per proposal. */
  readonly finetune: TrainConfig;
  /** Final training recipe (epochs included) for the long fine-tune, the retrain and the baseline. */
  readonly finalTrain: TrainConfig;
  /** 'finetune': continue from the last chosen weights; 'retrain': from scratch, as MobileNetV3 did; 'none': skip. */
  readonly final: 'finetune' | 'retrain' | 'none';
  readonly baseline: 'width' | null;
  readonly seed: number;
  /** Run directory: proposal checkpoints, the final network, its spec file. */
  readonly out: string;
  readonly backend: BackendChoice;
  /** Measure the chosen network of every iteration too, timed with the seed, in its terms (the report's measured column). */
  readonly measureEach: boolean;
  readonly measureRuns: number;
  /** Training images the batch-norm statistics are recalibrated on before every score (0: none; see batchNorm.ts). */
  readonly bnImages: number;
}

/** One proposal's fine-tune: the engine's task config (netadapt/finetune.ts). */
export interface FineTuneConfig {
  readonly parent: string;
  /** The parent's network at width 1 (the checkpoint may record a width multiplier). */
  readonly parentSpec: ArchSpec;
  readonly shrink: Shrink;
  /** Run directory of the proposal's checkpoint (emptied first: a killed attempt may have left one). */
  readonly out: string;
  readonly steps: number;
  readonly train: TrainConfig;
  readonly data: DataKey;
  readonly backend: BackendChoice;
  /** Training images the batch-norm statistics are recalibrated on before scoring (0: none). */
  readonly bnImages: number;
}

export interface ProposalResult {
  readonly index: number;
  readonly shrink: Shrink;
  readonly what: string;
  readonly arch: string;
  readonly latencyMs: number;
  readonly accuracy: number | null;
  readonly checkpoint: string | null;
  readonly error: string | null;
  readonly seed: number;
}

export interface Chosen {
  readonly index: number;
  readonly what: string;
  readonly spec: ArchSpec;
  readonly checkpoint: string;
  readonly latencyMs: number;
  readonly accuracy: number;
  /** dAcc / |dLatency| (accuracy per ms; negative: accuracy lost). */
  readonly score: number;
}

/** A step as the store holds it: its proposals so far, and the one kept (null while the step runs). */
export interface StoredStep {
  readonly iteration: number;
  readonly proposals: readonly ProposalResult[];
  readonly chosen: Chosen | null;
  readonly latencyMeasuredMs: number | null;
}

export interface IterationSummary {
  readonly iteration: number;
  readonly what: string;
  readonly latencyPredictedMs: number;
  readonly latencyMeasuredMs: number | null;
  readonly accuracy: number;
  readonly proposals: number;
}

export interface TrainedResult {
  readonly arch: string;
  readonly blocks: readonly string[];
  readonly latencyPredictedMs: number;
  readonly latencyMeasuredMs: number | null;
  readonly valAccuracy: number | null;
  readonly test: EvalMetrics | null;
  readonly checkpoint: string | null;
  readonly params: number;
}

export type NetadaptStatus = 'met' | 'unreachable' | 'nothing-to-do';

/** The joint measurement of the seed, the final network and the baseline (see NetadaptResult.measured). */
export interface JointMeasurement {
  readonly seedMs: number;
  readonly finalMs: number;
  readonly baselineMs: number | null;
  /** The target in measured terms: a relative target applied to seedMs. */
  readonly targetMs: number;
  /** finalMs / seedMs, and the target as such a ratio. */
  readonly ratio: number;
  readonly targetRatio: number;
  /** finalMs <= targetMs: whether the result meets the target as measured (false: missed, whatever `status` says). */
  readonly targetMet: boolean;
  /** One line: `target met ...` or `TARGET MISSED ...`, with the ratio and the target. */
  readonly verdict: string;
}

export interface NetadaptResult {
  readonly runId: string;
  readonly status: NetadaptStatus;
  readonly message: string;
  readonly targetMs: number;
  readonly deltaMs: number;
  readonly seed: { readonly arch: string; readonly latencyMs: number; readonly valAccuracy: number };
  readonly iterations: readonly IterationSummary[];
  readonly finalSpec: ArchSpec;
  /** The final network's spec file (usable by train-final, export and latency). */
  readonly specFile: string;
  readonly final: TrainedResult | null;
  readonly baseline: (TrainedResult & { readonly width: number }) | null;
  readonly latencyEntriesAdded: number;
  /**
   * Where the run timed networks: `--latency measure`'s judgements and step table, the measured column and the
   * measurement at the end (the source's runner; node, wasm, one thread by default and in runs stored before runners
   * could be chosen).
   */
  readonly runner: SourceRunner;
  /**
   * The seed, the final network and the baseline timed whole together at the end (on `runner`, 10th percentile of
   * interleaved runs), so that they are comparable; the target in measured terms (a relative
   * target applied to the seed's measured latency) and whether the result meets it. Null when the seed was the
   * result (nothing to do).
   */
  readonly measured: JointMeasurement | null;
}

/** What one session of a run is given beside its stored settings (never stored: a queue URL may hold a password). */
export interface NetadaptSession {
  /** A Redis URL: the fine-tunes are queue jobs for `nas worker` processes, instead of the stored --workers/--gpus. */
  readonly queue?: string;
  /** Native kernel threads per fine-tune worker (default 1). */
  readonly threads?: number;
  /** Native kernel threads of the trainings in this process (the final training and the baseline; default: as set). */
  readonly trainThreads?: number;
}

/** Where a run starts its descent: the seed, the target, the step, and the state it resumes from. */
export interface DescentStart {
  readonly runId: string;
  readonly seedMs: number;
  readonly seedAccuracy: number;
  readonly targetMs: number;
  readonly deltaMs: number;
  readonly iteration: number;
  readonly latencyMs: number;
  readonly accuracy: number;
}

export interface RunHooks {
  readonly log?: (line: string) => void;
  /** Before the first step of this process (progress reporting). */
  readonly onDescent?: (start: DescentStart) => void;
  /** After an iteration is stored (tests kill the process here). */
  readonly onIteration?: (iteration: number, summary: IterationSummary) => void;
}

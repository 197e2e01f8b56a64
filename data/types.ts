// The dataset interface that training, evaluation, search and NetAdapt read. A dataset has three deterministic
// splits: train, val (held out from the training data with a seed; search and NetAdapt score on it) and test
// (used only by final evaluation). Batches come out as typed arrays, already resized to the model's input and
// normalised, prepared ahead of the training step.

export type SplitName = 'train' | 'val' | 'test';

/** One batch: NHWC float32 images (normalised) and integer class labels. */
export interface Batch {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  /** Images in this batch (the last batch of an epoch may be smaller unless dropLast). */
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

export interface BatchOptions {
  readonly batchSize: number;
  /** Shuffle with a permutation drawn from (seed, epoch): the same seed and epoch give the same order. */
  readonly shuffle: boolean;
  readonly seed: number;
  readonly epoch: number;
  /** Training augmentation (random crop/flip etc.); evaluation transforms otherwise. */
  readonly augment: boolean;
  /** Drop a last batch smaller than batchSize. */
  readonly dropLast?: boolean;
  /** Start at this batch index of the epoch (resuming mid-epoch); default 0. */
  readonly startBatch?: number;
}

/** A split: its size and a way to iterate over batches. */
export interface Split {
  readonly name: SplitName;
  readonly size: number;
  batches(opts: BatchOptions): AsyncIterable<Batch>;
}

/** The model input the batches are shaped for. */
export interface InputSpec {
  readonly size: number;
  readonly channels: number;
}

export interface Dataset {
  readonly name: string;
  readonly classes: number;
  readonly classNames: readonly string[];
  readonly input: InputSpec;
  readonly train: Split;
  readonly val: Split;
  readonly test: Split;
}

// NetAdapt's two recipes, both derived from the seed's: the short fine-tune of each proposal and the final training.
import type { TrainConfig } from '../train/config.js';

/** The seed's recipe at a constant, lower rate (default a tenth of the seed's), without EMA or periodic checkpoints. */
export function fineTuneRecipe(seedCfg: TrainConfig, lr?: number): TrainConfig {
  return {
    ...seedCfg,
    // Short fine-tunes recover from a cut at a small constant rate; no EMA over a few steps.
    optimizer: { ...seedCfg.optimizer, lr: lr ?? seedCfg.optimizer.lr * 0.1 },
    schedule: { ...seedCfg.schedule, type: 'constant', warmupEpochs: 0 },
    ema: null,
    keepCheckpoints: 1,
    checkpointEverySteps: null,
  };
}

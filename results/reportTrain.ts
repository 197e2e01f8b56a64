// The report page's data of a training run (`nas train-final`): loss, accuracy, learning rate and images per
// second of each epoch, as the training loop stored them.
import { runHeader } from './reportHeader.js';
import type { TrainReport } from './reportTypes.js';
import type { RunRecord } from './runs.js';
import type { Store } from './store.js';

export function trainReport(store: Store, run: RunRecord): TrainReport {
  return {
    kind: 'train',
    ...runHeader(run),
    arch: run.arch,
    epochs: store.listEpochs(run.id).map((e) => ({
      epoch: e.epoch,
      trainLoss: e.trainLoss,
      valLoss: e.valLoss,
      trainAcc: e.trainAcc,
      valTop1: e.valTop1,
      lr: e.lr,
      imagesPerSec: e.imagesPerSec,
    })),
  };
}

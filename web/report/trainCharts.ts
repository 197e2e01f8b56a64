// The charts of training runs (`nas train-final`): loss, accuracy, learning rate and images per second per epoch,
// a line per series (and per run when several are overlaid) with a dot at each epoch, so one epoch still shows.
import type { EpochPoint, TrainReport } from '../../results/reportTypes.js';
import { type SeriesPoint, seriesChart } from './seriesChart.js';

type Key = Exclude<keyof EpochPoint, 'epoch'>;

/** The non-null values of `keys` of every run's epochs, one series per key (and run, when several). */
function points(runs: readonly TrainReport[], keys: readonly (readonly [Key, string])[]): SeriesPoint[] {
  return runs.flatMap((r) =>
    r.epochs.flatMap((e) =>
      keys.flatMap(([k, label]) => {
        const v = e[k];
        return v === null ? [] : [{ x: e.epoch, value: v, series: runs.length > 1 ? `${r.id} ${label}` : label, note: '' }];
      }),
    ),
  );
}

const lineChart = (name: string, title: string, rows: readonly SeriesPoint[], y: string): HTMLElement | null =>
  seriesChart(name, title, rows, { x: 'epoch', y });

export function trainCharts(runs: readonly TrainReport[]): HTMLElement[] {
  const charts = [
    lineChart('loss', 'Loss per epoch', points(runs, [['trainLoss', 'train loss'], ['valLoss', 'val loss']]), 'loss'),
    lineChart('accuracy', 'Accuracy per epoch', points(runs, [['trainAcc', 'train accuracy'], ['valTop1', 'val top-1']]), 'accuracy'),
    lineChart('lr', 'Learning rate per epoch', points(runs, [['lr', 'learning rate']]), 'learning rate'),
    lineChart('images-per-sec', 'Training images per second', points(runs, [['imagesPerSec', 'images/s']]), 'images/s'),
  ];
  return charts.filter((c): c is HTMLElement => c !== null);
}

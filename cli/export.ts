// `nas export --checkpoint DIR --format tfjs|onnx --out DIR`: a checkpoint and its model card as a tfjs LayersModel,
// for a browser page that imports dist/web/nas.js (web/README.md), or as an ONNX model (model.onnx) for ONNX Runtime
// and the converters that read ONNX.
import type { CommandModule } from 'yargs';
import { exportFormats } from '../model/exportFormats.js';
import { allowFallbackOption } from './checkpointOptions.js';
import { backendOption, forceOption, jsonOption } from './options.js';
import type { ExportArgs } from './run/export.js';

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe: 'Export a checkpoint with its model card: a tfjs LayersModel (model.json + weight shards) or ONNX (model.onnx)',
  builder: (y) =>
    y
      .option('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint or run directory (its latest checkpoint)' })
      .option('format', { type: 'string', default: 'tfjs', describe: `export format: ${exportFormats.join(', ')}` })
      .option('out', { type: 'string', demandOption: true, describe: 'directory to write (created; must not hold files unless --force)' })
      .option('weights', {
        choices: ['ema', 'raw'] as const,
        default: 'ema' as const,
        describe: 'ema: the averaged weights training evaluated (when the checkpoint has them); raw: the trained ones',
      })
      .option('force', { ...forceOption, describe: 'replace a non-empty --out (never the checkpoint it reads, nor the current directory)' })
      .option('allow-fallback', allowFallbackOption)
      .option('fold', {
        type: 'boolean',
        default: true,
        describe: 'fold batch norm into the convolutions (inference form, faster); --no-fold keeps it for further training (tfjs only)',
      })
      // Export only copies weights: the plain JavaScript backend avoids starting wasm or libtensorflow.
      .option('backend', { ...backendOption, default: 'cpu' })
      .option('json', jsonOption) as never,
  handler: async (args) => {
    const { runExport } = await import('./run/export.js');
    await runExport(args);
  },
};

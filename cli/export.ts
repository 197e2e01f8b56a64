// `nas export --checkpoint DIR --format tfjs|onnx --out DIR`: a checkpoint and its model card as a tfjs LayersModel,
// for a browser page that imports dist/web/nas.js (web/README.md), or as an ONNX model (model.onnx) for ONNX Runtime
// and the converters that read ONNX.
import type { CommandModule } from 'yargs';
import { type BackendChoice, useBackend } from '../backend/select.js';
import { exportFormats } from '../model/export.js';
import { type ExportResult, exportModel } from '../train/exportCheckpoint.js';
import { describeFallback } from '../train/checkpoint.js';
import { allowFallbackOption } from './checkpointOptions.js';
import { backendOption, forceOption, jsonOption } from './options.js';
import { emit, table, thousands } from './output.js';

interface ExportArgs {
  checkpoint: string;
  format: string;
  out: string;
  weights: 'ema' | 'raw';
  force: boolean;
  'allow-fallback': boolean;
  fold: boolean;
  backend: BackendChoice;
  json: boolean;
}

function toText(r: ExportResult): string {
  const { size, channels } = r.input;
  const note = describeFallback(r.checkpoint, r.fallback);
  return [
    ...(note === null ? [] : [note]),
    `exported ${r.checkpoint} (${r.weights} weights${r.folded ? ', batch norm folded' : ''}) to ${r.out}`,
    `${r.arch}: ${thousands(r.parameters)} parameters, ${size}x${size}x${channels} input, ${r.classes} classes (${r.dataset})`,
    table(['file', 'bytes'], r.files.map((f) => [f.name, thousands(f.bytes)])),
  ].join('\n');
}

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
    await useBackend(args.backend);
    const result = await exportModel({
      checkpoint: args.checkpoint,
      out: args.out,
      format: args.format,
      weights: args.weights,
      force: args.force,
      allowFallback: args['allow-fallback'],
      fold: args.fold,
    });
    emit(result, args.json, toText);
  },
};

// `nas export`: a checkpoint (or a run directory's latest complete one) exported for other runtimes. Choosing and
// reading the checkpoint is train/'s; writing the model in a runtime's format is model/export.ts's.
import { UsageError } from '../common/errors.js';
import { checkOutput } from '../common/outputPath.js';
import { type ExportedFile, exportLayersModel } from '../model/export.js';
import { type ExportFormat, exportFormats, isExportFormat } from '../model/exportFormats.js';
import { exportOnnxModel } from '../model/exportOnnx.js';
import { type CheckpointChoice, loadCheckpointModel } from './checkpoint.js';

export interface ExportOptions {
  /** A checkpoint directory, or a run directory (its latest complete checkpoint). */
  readonly checkpoint: string;
  readonly out: string;
  readonly format: string;
  /** 'ema' (default): the averaged weights when the checkpoint has them, as training evaluated; 'raw': the trained ones. */
  readonly weights?: 'ema' | 'raw';
  /** Replace an existing non-empty `out`. */
  readonly force?: boolean;
  /** A run directory whose newest checkpoint is corrupt: export the newest intact one (default: refuse). */
  readonly allowFallback?: boolean;
  readonly shardBytes?: number;
  /** Fold batch norm into the convolutions (default true): the inference form, one fused kernel per convolution. */
  readonly fold?: boolean;
}

export interface ExportResult {
  readonly format: ExportFormat;
  readonly out: string;
  readonly checkpoint: string;
  /** Set when the run directory's newest checkpoint was corrupt and an older one was exported (allowFallback). */
  readonly fallback: CheckpointChoice['fallback'];
  readonly arch: string;
  /** The weights written: 'raw' when the checkpoint has no EMA weights, whatever was asked. */
  readonly weights: 'ema' | 'raw';
  readonly dataset: string;
  readonly input: { readonly size: number; readonly channels: number };
  readonly classes: number;
  /** Batch norm folded into the convolutions (the default), or kept (--no-fold, for further training). */
  readonly folded: boolean;
  readonly parameters: number;
  readonly files: readonly ExportedFile[];
}

/**
 * Writes a checkpoint's model and card into `out`, atomically (model/export.ts). Refuses an existing non-empty `out`
 * unless `force`; bad input is a NasError with exit code 2.
 */
export async function exportModel(opts: ExportOptions): Promise<ExportResult> {
  if (!isExportFormat(opts.format)) {
    throw new UsageError(`unknown export format '${opts.format}': use ${exportFormats.join(', ')}`);
  }
  const format = opts.format;
  if (format === 'onnx' && opts.fold === false) {
    throw new UsageError('--no-fold keeps batch norm for further training in tfjs; an ONNX export is the inference form: drop --no-fold');
  }
  const out = checkOutput(opts.out, {
    option: '--out',
    kind: 'dir',
    force: opts.force === true,
    reads: [{ what: 'the checkpoint', path: opts.checkpoint }],
  });
  const loaded = await loadCheckpointModel(opts.checkpoint, { weights: opts.weights ?? 'ema', allowFallback: opts.allowFallback === true });
  const { checkpoint, weights } = loaded;
  const written =
    format === 'onnx'
      ? await exportOnnxModel(loaded.model, checkpoint.arch, checkpoint.path, out)
      : await exportLayersModel(loaded.model, checkpoint.arch, checkpoint.path, out, opts);
  return {
    format,
    out,
    checkpoint: checkpoint.path,
    fallback: loaded.fallback,
    arch: checkpoint.archString,
    weights,
    dataset: written.card.dataset,
    input: { size: written.shape.size, channels: written.shape.channels },
    classes: written.shape.classes,
    folded: written.folded,
    parameters: written.parameters,
    files: written.files,
  };
}

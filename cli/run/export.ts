// The work of `nas export` (cli/export.ts), loaded once the command line is checked: it loads tfjs.
import type { BackendChoice } from '../../backend/choices.js';
import { useBackend } from '../../backend/select.js';
import { describeFallback } from '../../train/checkpoint.js';
import { type ExportResult, exportModel } from '../../train/exportCheckpoint.js';
import { emit, table, thousands } from '../output.js';

export interface ExportArgs {
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

/** Exports the checkpoint and prints what was written. */
export async function runExport(args: ExportArgs): Promise<void> {
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
}

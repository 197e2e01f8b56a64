// Export of a model for other runtimes (train/exportCheckpoint.ts exports a checkpoint through it; 'onnx' is
// model/exportOnnx.ts, through exportWith here). 'tfjs': a tfjs LayersModel as tfjs-converter lays it out (model.json
// and weight shards of at most 4 MiB, `group1-shard<i>of<n>.bin`) plus the model card, which a page loads with
// tf.loadLayersModel once web/index.ts (dist/web/nas.js) has registered our layers. tfjs has no file:// saver
// without tfjs-node, so fileSaveHandler writes the files.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { makeTempSibling, removeDeadTemps, writeDurable } from '../common/atomicFs.js';
import { NasError } from '../common/errors.js';
import type { ArchSpec } from '../space/arch.js';
import { resolve } from '../space/resolve.js';
import { MODEL_CARD_FILE, type ModelCard, readModelCard } from './card.js';
import { foldModel } from './fold.js';

/** tfjs-converter's default shard size. */
export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

export interface ExportedFile {
  readonly name: string;
  readonly bytes: number;
}

/** What exportLayersModel wrote. */
export interface ExportedModel {
  readonly card: ModelCard;
  readonly shape: ModelShape;
  /** Batch norm folded into the convolutions (the default), or kept (--no-fold, for further training). */
  readonly folded: boolean;
  readonly parameters: number;
  readonly files: readonly ExportedFile[];
}

export interface ModelShape {
  readonly size: number;
  readonly channels: number;
  readonly classes: number;
}

/** The shard file names tfjs-converter gives a group of `count` shards. */
export function shardNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
}

/**
 * A tf.io save handler writing model.json and the weights, cut into shards of at most `shardBytes`, into `dir`
 * (which must exist). As in tfjs-converter, shards split the concatenated weights at byte boundaries: a loader
 * joins a group's shards before decoding.
 */
export function fileSaveHandler(
  dir: string,
  opts: { readonly shardBytes?: number; readonly onFile?: (file: ExportedFile) => void } = {},
): tf.io.IOHandler {
  const shardBytes = opts.shardBytes ?? DEFAULT_SHARD_BYTES;
  if (!Number.isInteger(shardBytes) || shardBytes < 4) throw new Error(`shard size must be an integer >= 4, got ${shardBytes}`);
  return {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      if (artifacts.modelTopology instanceof ArrayBuffer || artifacts.modelTopology === undefined) {
        throw new Error('fileSaveHandler saves LayersModels (a JSON topology) only');
      }
      const data = artifacts.weightData === undefined ? new Uint8Array(0) : new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
      const count = Math.max(1, Math.ceil(data.byteLength / shardBytes));
      const names = shardNames(count);
      for (const [i, name] of names.entries()) {
        const bytes = await writeDurable(join(dir, name), data.subarray(i * shardBytes, (i + 1) * shardBytes));
        opts.onFile?.({ name, bytes });
      }
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: names, weights: artifacts.weightSpecs ?? [] }],
      };
      const text = JSON.stringify(modelJson);
      opts.onFile?.({ name: 'model.json', bytes: await writeDurable(join(dir, 'model.json'), text) });
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: Buffer.byteLength(JSON.stringify(artifacts.modelTopology)),
          weightSpecsBytes: Buffer.byteLength(JSON.stringify(artifacts.weightSpecs ?? [])),
          weightDataBytes: data.byteLength,
        },
      };
    },
  };
}

/** The model's input [size, channels] and its number of classes, from its input and output shapes. */
function modelShape(model: tf.LayersModel): ModelShape {
  const input = model.inputs[0]?.shape ?? [];
  const output = model.outputs[0]?.shape ?? [];
  const [, h, w, c] = input;
  const classes = output[output.length - 1];
  if (input.length !== 4 || h == null || h !== w || c == null || classes == null) {
    throw new NasError('E_IO', `cannot export a model with input [${input.join(', ')}] and output [${output.join(', ')}]`);
  }
  return { size: h, channels: c, classes };
}

function checkCard(card: ModelCard, shape: ModelShape, where: string): void {
  const { size, channels } = card.preprocessing.input;
  if (size !== shape.size || channels !== shape.channels) {
    throw new NasError('E_IO', `the model card of ${where} is for ${size}x${size}x${channels} inputs, the model takes ${shape.size}x${shape.size}x${shape.channels}`);
  }
  if (card.classNames.length !== shape.classes) {
    throw new NasError('E_IO', `the model card of ${where} names ${card.classNames.length} classes, the model has ${shape.classes} outputs`);
  }
}

export interface LayersExportOptions {
  readonly shardBytes?: number | undefined;
  /** Fold batch norm into the convolutions (default true): the inference form, one fused kernel per convolution. */
  readonly fold?: boolean | undefined;
}

/** Writes a (folded or not) model's files into `dir`, an empty directory; returns what it wrote. */
export type ModelWriter = (model: tf.LayersModel, card: ModelCard, dir: string) => Promise<ExportedFile[]>;

/**
 * What every format shares: `model` (of `arch`) folded unless `fold` is false, checked against the model card found
 * in `cardDir`, written by `write` with the card into `out`, atomically (a temporary directory beside it, then
 * renamed into place). Takes ownership of `model` (disposes it); `out` must have been checked.
 */
export async function exportWith(
  model: tf.LayersModel,
  arch: ArchSpec,
  cardDir: string,
  out: string,
  fold: boolean,
  write: ModelWriter,
): Promise<ExportedModel> {
  let m = model;
  try {
    if (fold) {
      const f = foldModel(m, resolve(arch));
      m.dispose();
      m = f;
    }
    const card = await readModelCard(cardDir);
    const shape = modelShape(m);
    checkCard(card, shape, cardDir);
    const files = await writeExport(out, card, (dir) => write(m, card, dir));
    return { card, shape, folded: fold, parameters: m.countParams(), files: files.sort((a, b) => a.name.localeCompare(b.name)) };
  } finally {
    m.dispose();
  }
}

/** The tfjs LayersModel export (model.json, weight shards and the card); see exportWith. */
export async function exportLayersModel(
  model: tf.LayersModel,
  arch: ArchSpec,
  cardDir: string,
  out: string,
  opts: LayersExportOptions = {},
): Promise<ExportedModel> {
  const shardBytes = opts.shardBytes ?? DEFAULT_SHARD_BYTES;
  return exportWith(model, arch, cardDir, out, opts.fold !== false, async (m, _card, dir) => {
    const files: ExportedFile[] = [];
    await m.save(fileSaveHandler(dir, { shardBytes, onFile: (f) => files.push(f) }));
    return files;
  });
}

/** Writes the model (`writeModel`) and its card into a temporary sibling of `out`, renamed into place; nothing is left on failure. */
async function writeExport(out: string, card: ModelCard, writeModel: (dir: string) => Promise<ExportedFile[]>): Promise<ExportedFile[]> {
  let tmp: string | null = null;
  try {
    await mkdir(dirname(out), { recursive: true });
    await removeDeadTemps(out);
    tmp = await makeTempSibling(out);
    const files = await writeModel(tmp);
    const cardText = `${JSON.stringify(card, null, 2)}\n`;
    files.push({ name: MODEL_CARD_FILE, bytes: await writeDurable(join(tmp, MODEL_CARD_FILE), cardText) });
    await replaceDir(tmp, out);
    return files;
  } catch (e) {
    if (tmp !== null) await rm(tmp, { recursive: true, force: true });
    if (e instanceof NasError) throw e;
    throw new NasError('E_IO', `cannot write the export to ${out}: ${(e as Error).message}`, 1);
  }
}

/** Puts directory `from` at `to`: an existing `to` is moved aside first and deleted once `from` is in place. */
async function replaceDir(from: string, to: string): Promise<void> {
  const old = join(dirname(to), `.${basename(to)}.old-${randomBytes(4).toString('hex')}`);
  let moved = false;
  try {
    await rename(to, old);
    moved = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  try {
    await rename(from, to);
  } catch (e) {
    if (moved) await rename(old, to);
    throw e;
  }
  if (moved) await rm(old, { recursive: true, force: true });
}

// The models of single LUT entries (a stem, one block, a head) and of whole networks, browser-safe so that the
// latency page builds the same ones as the node runner. An entry is described by data (the arch and which piece), so a runner in another
// process or a browser can build it from JSON.
import * as tf from '@tensorflow/tfjs';
import { blockLayers, buildModel, headLayers, type PieceContext, pieceContext, stemLayers } from '../model/build.js';
import type { ArchSpec } from '../space/arch.js';
import { type ResolvedArch, type ResolvedBlock, resolve } from '../space/resolve.js';

export type EntryPiece = { readonly kind: 'stem' } | { readonly kind: 'block'; readonly index: number } | { readonly kind: 'head' };

/** A LUT entry as JSON: the arch it was taken from and which of its pieces. */
export interface EntryRef {
  readonly arch: ArchSpec;
  readonly piece: EntryPiece;
}

/** The inference form (batch norm folded, model/build.ts), the one whole networks are measured in. */
const FORM = { seed: 1, folded: true } as const;

function pieceModel(a: ResolvedArch, input: readonly [number, number, number], layers: (c: PieceContext, x: tf.SymbolicTensor) => tf.SymbolicTensor): tf.LayersModel {
  const x = tf.input({ shape: [...input] });
  return tf.model({ inputs: x, outputs: layers(pieceContext(a, FORM), x) });
}

function blockAt(a: ResolvedArch, index: number): ResolvedBlock {
  const b = a.blocks[index];
  if (b === undefined) throw new RangeError(`block ${index} of ${a.blocks.length}`);
  return b;
}

/** The input [height, width, channels] of one piece of `a`. */
export function entryInput(a: ResolvedArch, piece: EntryPiece): [number, number, number] {
  if (piece.kind === 'stem') return [a.stem.inSize, a.stem.inSize, a.stem.inC];
  if (piece.kind === 'head') return [a.head.inSize, a.head.inSize, a.head.inC];
  const b = blockAt(a, piece.index);
  return [b.inSize, b.inSize, b.inC];
}

/** The model of one piece of `a`: the very layers model/build.ts puts in the whole network. */
export function entryModel(a: ResolvedArch, piece: EntryPiece): tf.LayersModel {
  const input = entryInput(a, piece);
  if (piece.kind === 'stem') return pieceModel(a, input, stemLayers);
  if (piece.kind === 'head') return pieceModel(a, input, headLayers);
  const b = blockAt(a, piece.index);
  return pieceModel(a, input, (c, x) => blockLayers(c, b, x));
}

/** A whole network as every runner times it: folded (batch norm in the convolutions), weights from `seed`, its input. */
export function wholeModel(spec: ArchSpec, seed = 0): { model: tf.LayersModel; input: [number, number, number] } {
  const a = resolve(spec);
  return { model: buildModel(a, { seed, folded: true }), input: [a.inputSize, a.inputSize, a.inputChannels] };
}

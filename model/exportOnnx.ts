// The ONNX export: `model.onnx` (opset 17, batch norm folded, NCHW input with a free batch dimension) beside the
// model card. The card's preprocessing (decode, resize or crop, mean and std) is what a caller applies before the
// input; the class names, the card and the architecture also travel inside the model as metadata_props, so a
// runtime that loads only the .onnx file still knows what the outputs mean.
import type * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { writeDurable } from '../common/atomicFs.js';
import { encodeArch } from '../space/blockString.js';
import type { ArchSpec } from '../space/arch.js';
import type { ModelCard } from './card.js';
import { type ExportedFile, type ExportedModel, exportWith } from './export.js';
import { convertModel, ONNX_INPUT, ONNX_OUTPUT, onnxDims } from './onnxConvert.js';
import { OnnxGraph } from './onnxGraph.js';

export const ONNX_MODEL_FILE = 'model.onnx';

/** Keys of the model's metadata_props. */
export const ONNX_METADATA = {
  classNames: 'class_names',
  modelCard: 'nas_model_card',
  arch: 'nas_arch',
  layout: 'input_layout',
} as const;

/**
 * The ONNX form of a folded model of our layers with one input and one output (a whole network, or a piece of one
 * such as a latency table's entry), as bytes; its dims are the model's, NCHW, with a free batch.
 */
export function onnxBytes(model: tf.LayersModel, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const g = new OnnxGraph();
  convertModel(g, model);
  return g.encode({
    name: model.name,
    input: { name: ONNX_INPUT, dims: onnxDims(model.inputs[0]?.shape ?? [], 'input') },
    output: { name: ONNX_OUTPUT, dims: onnxDims(model.outputs[0]?.shape ?? [], 'output') },
    metadata: { ...metadata, [ONNX_METADATA.layout]: 'NCHW' },
  });
}

/** The ONNX model of a folded `model` of `arch` described by `card`, with the card in its metadata. */
export function onnxModelBytes(model: tf.LayersModel, arch: ArchSpec, card: ModelCard): Uint8Array {
  return onnxBytes(model, {
    [ONNX_METADATA.classNames]: JSON.stringify(card.classNames),
    [ONNX_METADATA.modelCard]: JSON.stringify(card),
    [ONNX_METADATA.arch]: encodeArch(arch),
  });
}

/** Writes `model` (of `arch`) folded as `model.onnx` with the card found in `cardDir` into `out`; see exportWith. */
export async function exportOnnxModel(model: tf.LayersModel, arch: ArchSpec, cardDir: string, out: string): Promise<ExportedModel> {
  return exportWith(model, arch, cardDir, out, true, async (m, card, dir): Promise<ExportedFile[]> => {
    const bytes = await writeDurable(join(dir, ONNX_MODEL_FILE), onnxModelBytes(m, arch, card));
    return [{ name: ONNX_MODEL_FILE, bytes }];
  });
}

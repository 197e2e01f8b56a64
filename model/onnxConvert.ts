// A folded tfjs model (model/fold.ts: batch norm in the convolutions, no dropout) as an ONNX graph in NCHW, the
// layout ONNX Runtime, TensorRT and OpenVINO run natively: every layer of ours becomes the standard ops PyTorch's
// exporter writes for the same block (Conv with bias and group, HardSwish, HardSigmoid, Clip for ReLU6,
// GlobalAveragePool, Gemm, Add), so an exported network runs on any ONNX runtime with no custom op.
import * as tf from '@tensorflow/tfjs';
import { NasError } from '../common/errors.js';
import type { LayerActivation } from './layers.js';
import { ConvBn, DenseAct, Dropout, GlobalAvgPool, SqueezeExcite } from './layers.js';
import { type OnnxGraph } from './onnxGraph.js';

type Gate = 'hsigmoid' | 'sigmoid';

/** The graph's input and output names. */
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'logits';

function weight(layer: tf.layers.Layer, suffix: string, perm?: readonly number[]): { dims: number[]; values: Float32Array } {
  const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`) || v.name.endsWith(`/${suffix}`));
  if (!w) throw new Error(`${layer.name}: no weight '${suffix}'`);
  // Not returned through tf.tidy: tidy walks what it returns element by element looking for tensors, which took
  // seconds for a head's dense weights (a LUT entry converted for the onnxruntime runner).
  const v = w.read();
  const t = perm === undefined ? v : tf.transpose(v, [...perm]);
  try {
    return { dims: t.shape, values: Float32Array.from(t.dataSync()) };
  } finally {
    if (t !== v) t.dispose();
  }
}

function constantOf(g: OnnxGraph, name: string, w: { dims: number[]; values: Float32Array }, dims: readonly number[] = w.dims): string {
  return g.constant(name, dims, w.values);
}

/** `kind` applied to `x` as one standard op (Identity for linear, which callers skip); hswish(x) = x relu6(x + 3) / 6 is HardSwish. */
function activate(g: OnnxGraph, x: string, kind: LayerActivation | Gate, out: string): string {
  switch (kind) {
    case 'linear':
      return g.node('Identity', [x], out);
    case 'relu':
      return g.node('Relu', [x], out);
    case 'relu6': {
      const min = g.constant(`${out}/min`, [], new Float32Array([0]));
      return g.node('Clip', [x, min, g.constant(`${out}/max`, [], new Float32Array([6]))], out);
    }
    case 'hswish':
      return g.node('HardSwish', [x], out);
    case 'hsigmoid':
      return g.node('HardSigmoid', [x], out, { alpha: { float: 1 / 6 }, beta: { float: 0.5 } });
    case 'sigmoid':
      return g.node('Sigmoid', [x], out);
  }
}

/** Pads [top, left, bottom, right]: k//2 on every side, or TF's 'same' (the odd pixel at the bottom and right). */
export function convPads(padding: 'symmetric' | 'same', kernel: number, stride: number, h: number, w: number): number[] {
  if (padding === 'symmetric') return Array<number>(4).fill(Math.floor(kernel / 2));
  const total = (n: number): number => Math.max((Math.ceil(n / stride) - 1) * stride + kernel - n, 0);
  const [th, tw] = [total(h), total(w)];
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

/** A folded ConvBn: Conv (OIHW kernel, bias, group = channels when depthwise) and its activation. */
function convBn(g: OnnxGraph, layer: ConvBn, x: string, inShape: readonly (number | null)[], out: string): string {
  const c = layer.cfg;
  if (c.folded !== true) throw new Error(`${layer.name}: ONNX export takes the folded model (model/fold.ts)`);
  const [, h, w, inC] = inShape;
  if (h == null || w == null || inC == null) throw new Error(`${layer.name}: input shape [${inShape.join(', ')}] is not fixed`);
  // tfjs kernels are [k, k, in, out] ([k, k, C, 1] depthwise); ONNX's are [out, in / group, k, k].
  const kernel = constantOf(g, `${layer.name}/kernel`, weight(layer, 'kernel', c.depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1]));
  const bias = constantOf(g, `${layer.name}/bias`, weight(layer, 'bias'));
  const conv = g.node('Conv', [x, kernel, bias], c.activation === 'linear' ? out : `${layer.name}/conv`, {
    kernel_shape: { ints: [c.kernelSize, c.kernelSize] },
    strides: { ints: [c.strides, c.strides] },
    pads: { ints: convPads(c.padding, c.kernelSize, c.strides, h, w) },
    group: { int: c.depthwise ? inC : 1 },
  });
  return c.activation === 'linear' ? conv : activate(g, conv, c.activation, out);
}

/** A 1x1 Conv with bias from a [in, out] matrix: the squeeze-and-excite's FCs, as torchvision has them. */
function pointwise(g: OnnxGraph, layer: tf.layers.Layer, x: string, which: 'reduce' | 'expand', out: string): string {
  const k = weight(layer, `${which}_kernel`, [1, 0]);
  const [o = 0, i = 0] = k.dims;
  const kernel = constantOf(g, `${layer.name}/${which}_kernel`, k, [o, i, 1, 1]);
  const bias = constantOf(g, `${layer.name}/${which}_bias`, weight(layer, `${which}_bias`));
  return g.node('Conv', [x, kernel, bias], out, { kernel_shape: { ints: [1, 1] } });
}

/** Squeeze-and-excite: GlobalAveragePool -> 1x1 Conv -> Relu -> 1x1 Conv -> gate -> Mul with the input. */
function squeezeExcite(g: OnnxGraph, layer: SqueezeExcite, x: string, out: string): string {
  const n = layer.name;
  const pooled = g.node('GlobalAveragePool', [x], `${n}/pool`);
  const reduced = activate(g, pointwise(g, layer, pooled, 'reduce', `${n}/reduce`), 'relu', `${n}/relu`);
  const gate = activate(g, pointwise(g, layer, reduced, 'expand', `${n}/expand`), layer.cfg.gate, `${n}/gate`);
  return g.node('Mul', [x, gate], out);
}

/** Fully connected: Gemm with the [in, out] kernel as it is (transB 0), bias, then the activation. */
function dense(g: OnnxGraph, layer: DenseAct, x: string, out: string): string {
  const kernel = constantOf(g, `${layer.name}/kernel`, weight(layer, 'kernel'));
  const bias = constantOf(g, `${layer.name}/bias`, weight(layer, 'bias'));
  const linear = layer.cfg.activation === 'linear';
  const y = g.node('Gemm', [x, kernel, bias], linear ? out : `${layer.name}/gemm`);
  return linear ? y : activate(g, y, layer.cfg.activation, out);
}

/** The ONNX dims of a tfjs NHWC shape ([batch, H, W, C] -> [batch, C, H, W]; [batch, F] stays): the batch is free. */
export function onnxDims(shape: readonly (number | null)[], what: string): (number | string)[] {
  const rest = shape.slice(1);
  if (!rest.every((d): d is number => typeof d === 'number') || (rest.length !== 1 && rest.length !== 3)) {
    throw new NasError('E_IO', `cannot export a model whose ${what} has shape [${shape.join(', ')}] to ONNX: it needs [batch, H, W, C] or [batch, F]`);
  }
  const [h, w, c] = rest;
  return c === undefined ? ['batch', ...rest] : ['batch', c, h ?? 0, w ?? 0];
}

/** The input tensors' names and the first one's NHWC shape. */
function inputsOf(layer: tf.layers.Layer, names: ReadonlyMap<string, string>): { xs: string[]; shape: (number | null)[] } {
  const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
  const xs = inbound.map((l) => {
    const n = names.get(l.name);
    if (n === undefined) throw new Error(`ONNX export: ${layer.name} reads ${l.name}, not converted yet`);
    return n;
  });
  const first = inbound[0]?.outputShape;
  const shape = Array.isArray(first) && !Array.isArray(first[0]) ? first.map((d) => (typeof d === 'number' ? d : null)) : [];
  return { xs, shape };
}

/** One layer's nodes, writing `out`; the name its output goes by (a Dropout is its input: identity at inference). */
function convertLayer(g: OnnxGraph, layer: tf.layers.Layer, xs: readonly string[], shape: readonly (number | null)[], out: string): string {
  const [x = ''] = xs;
  if (layer instanceof ConvBn) return convBn(g, layer, x, shape, out);
  if (layer instanceof SqueezeExcite) return squeezeExcite(g, layer, x, out);
  if (layer instanceof DenseAct) return dense(g, layer, x, out);
  if (layer instanceof GlobalAvgPool) return g.node('Flatten', [g.node('GlobalAveragePool', [x], `${layer.name}/pool`)], out, { axis: { int: 1 } });
  if (layer instanceof Dropout) return out === ONNX_OUTPUT ? g.node('Identity', [x], out) : x;
  if (layer.getClassName() === 'Add') return g.node('Add', [...xs], out);
  throw new NasError('E_IO', `cannot export layer ${layer.name} (${layer.getClassName()}) to ONNX: no ONNX form is defined for it`);
}

/**
 * Fills `g` with `model` (a folded model of ours, one NHWC input and one output): the graph's input is `input`
 * [batch, C, H, W], its output `logits` [batch, classes]. Tensors are named after the layers.
 */
export function convertModel(g: OnnxGraph, model: tf.LayersModel): void {
  const names = new Map<string, string>();
  const inputLayer = model.inputLayers[0];
  const outputLayer = model.outputLayers[0];
  if (model.inputLayers.length !== 1 || model.outputLayers.length !== 1 || !inputLayer || !outputLayer) {
    throw new NasError('E_IO', `cannot export ${model.name} to ONNX: it has ${model.inputLayers.length} inputs and ${model.outputLayers.length} outputs, not one each`);
  }
  // Every tensor is NCHW from the input on (the weights are transposed instead), so no Transpose is needed.
  names.set(inputLayer.name, ONNX_INPUT);
  for (const layer of model.layers) {
    if (layer === inputLayer) continue;
    const { xs, shape } = inputsOf(layer, names);
    names.set(layer.name, convertLayer(g, layer, xs, shape, layer === outputLayer ? ONNX_OUTPUT : layer.name));
  }
  if (names.get(outputLayer.name) !== ONNX_OUTPUT) throw new Error(`ONNX export: the output layer ${outputLayer.name} wrote no '${ONNX_OUTPUT}'`);
}

// An ONNX graph as it is built (nodes, float initializers, one input and one output) and its encoding into a
// ModelProto with onnx-proto's generated messages (protobufjs), so no protobuf byte is written by hand here.
// model/onnxConvert.ts fills it from a folded tfjs model.
import type OnnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { lazyPackage } from '../common/lazyPackage.js';

const onnxProto = lazyPackage<typeof OnnxProto>('onnx-proto');

/** The opset written: 17 has HardSwish (14+) and is what torch.onnx.export of PyTorch 1.13 writes at most. */
export const ONNX_OPSET = 17;
/** IR version 8 is the one of ONNX 1.10-1.12 (opsets 15-17). */
const IR_VERSION = 8;

/** A node attribute: a whole number, a float, a list of whole numbers or a string. */
export type OnnxAttribute = { readonly int: number } | { readonly float: number } | { readonly ints: readonly number[] } | { readonly string: string };

/** A dimension: a fixed size, or the name of a free one (the batch). */
export type OnnxDim = number | string;

function attribute(name: string, a: OnnxAttribute): Onnx.IAttributeProto {
  const T = onnxProto().onnx.AttributeProto.AttributeType;
  if ('int' in a) return { name, type: T.INT, i: a.int };
  if ('float' in a) return { name, type: T.FLOAT, f: a.float };
  if ('ints' in a) return { name, type: T.INTS, ints: [...a.ints] };
  return { name, type: T.STRING, s: new TextEncoder().encode(a.string) };
}

function valueInfo(name: string, dims: readonly OnnxDim[]): Onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: onnxProto().onnx.TensorProto.DataType.FLOAT, shape: { dim } } } };
}

/** float32 values as little-endian bytes, the layout TensorProto.raw_data requires whatever the host's order. */
function littleEndian(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}

export class OnnxGraph {
  private readonly nodes: Onnx.INodeProto[] = [];
  private readonly initializers: Onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();

  /** A constant float tensor; its name is returned. Names are unique in a graph. */
  constant(name: string, dims: readonly number[], values: Float32Array): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (values.length !== count) throw new Error(`ONNX initializer ${name}: ${values.length} values for dims [${dims.join(', ')}]`);
    this.claim(name);
    this.initializers.push({ name, dims: [...dims], dataType: onnxProto().onnx.TensorProto.DataType.FLOAT, rawData: littleEndian(values) });
    return name;
  }

  /** A node of the default domain computing `output` from `inputs`; returns `output`. */
  node(opType: string, inputs: readonly string[], output: string, attrs: Readonly<Record<string, OnnxAttribute>> = {}): string {
    this.claim(output);
    const attribute_ = Object.entries(attrs).map(([k, a]) => attribute(k, a));
    this.nodes.push({ opType, name: output, input: [...inputs], output: [output], attribute: attribute_ });
    return output;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`ONNX graph: the name '${name}' is used twice`);
    this.names.add(name);
  }

  /** The whole model: one float input and one float output, with `metadata` as its metadata_props. */
  encode(opts: {
    readonly name: string;
    readonly input: { readonly name: string; readonly dims: readonly OnnxDim[] };
    readonly output: { readonly name: string; readonly dims: readonly OnnxDim[] };
    readonly metadata: Readonly<Record<string, string>>;
  }): Uint8Array {
    const graph: Onnx.IGraphProto = {
      name: opts.name,
      node: this.nodes,
      initializer: this.initializers,
      input: [valueInfo(opts.input.name, opts.input.dims)],
      output: [valueInfo(opts.output.name, opts.output.dims)],
    };
    const { onnx } = onnxProto();
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'nas',
      graph,
      metadataProps: Object.entries(opts.metadata).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

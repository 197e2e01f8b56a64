// Our compiled inference (model/inferencePlan.ts, the folded model as native calls) against an ONNX Runtime session of
// the same network's ONNX form, paired in one process: one run of each in alternation, so load from other tenants of
// the machine falls on both alike and the per-pair ratio survives it where absolute times do not. Batch 1, one thread.
// Prints, per network: the median ms of each, and the median and 25th-75th percentiles of the per-pair ratios ours /
// ORT. --layers adds each native call's median ms (timed in whole runs of the plan), its MACs and GMAC/s.
// Usage: node dist/bench/inference-paired-ort.js [--net mobilenetv3-large@224 ...] [--pairs 300] [--warmup 20]
//        [--layers] [--json]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { useBackend } from '../backend/select.js';
import { UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import { table } from '../common/textTable.js';
import { onnxFormOf } from '../latency/onnxForm.js';
import { fixedInput } from '../latency/ortTiming.js';
import { median, quantile } from '../latency/stats.js';
import { buildModel } from '../model/build.js';
import { compileInference, type InferencePlan } from '../model/inferencePlan.js';
import { ConvBn, DenseAct } from '../model/layers.js';
import { ONNX_INPUT } from '../model/onnxConvert.js';
import { loadArch } from '../results/archRef.js';
import { resolve } from '../space/resolve.js';

/** `text` as an integer >= min, or a UsageError naming `flag`. */
function int(text: string, flag: string, min = 1): number {
  const n = Number(text);
  checkInteger(flag, n, min);
  return n;
}

interface LayerTime {
  readonly layer: string;
  readonly ms: number;
  readonly macs: number;
}

interface Result {
  readonly net: string;
  readonly pairs: number;
  readonly oursMs: number;
  readonly ortMs: number;
  /** Per-pair ratios ours / ORT: median, 25th and 75th percentiles. */
  readonly ratio: { median: number; p25: number; p75: number };
  readonly layers?: LayerTime[];
}

/** Multiply-adds of a layer at batch 1 (convolutions and dense layers; 0 for the rest). */
function macsOf(model: tf.LayersModel, name: string): number {
  const layer = model.getLayer(name);
  const [x] = Array.isArray(layer.input) ? layer.input : [layer.input];
  const [y] = Array.isArray(layer.output) ? layer.output : [layer.output];
  const size = (y?.shape ?? []).slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
  const inC = x?.shape[x.shape.length - 1] ?? 1;
  if (layer instanceof ConvBn) return size * layer.cfg.kernelSize ** 2 * (layer.cfg.depthwise ? 1 : inC);
  return layer instanceof DenseAct ? size * inC : 0;
}

function layerTimes(model: tf.LayersModel, plan: InferencePlan, x: tf.Tensor, runs: number): LayerTime[] {
  return plan.profile(x, runs).map((p) => ({ layer: p.layer, ms: median(p.samplesMs), macs: macsOf(model, p.layer) }));
}

async function pairedNet(text: string, o: { pairs: number; warmup: number; layers: boolean }): Promise<Result> {
  const at = text.lastIndexOf('@');
  if (at <= 0) throw new UsageError(`--net ${text}: expected REF@INPUT, e.g. mobilenetv3-large@224`);
  const input = int(text.slice(at + 1), `--net ${text}: the input`);
  const a = resolve(loadArch([text.slice(0, at)], { input }));
  const model = buildModel(a, { seed: 0, folded: true });
  const { bytes, dims } = onnxFormOf(buildModel(a, { seed: 0, folded: true }));
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const feeds = { [ONNX_INPUT]: new ort.Tensor('float32', fixedInput(dims), dims) };
  const shape = [1, a.inputSize, a.inputSize, a.inputChannels];
  const plan = compileInference(model, shape);
  if (plan === null) throw new UsageError(`${text}: the model does not compile to an inference plan (wasm with our kernels?)`);
  const x = tf.tensor(fixedInput(shape), shape);
  const ours: number[] = [];
  const theirs: number[] = [];
  try {
    for (let i = -o.warmup; i < o.pairs; i++) {
      const t0 = performance.now();
      plan.run(x, 'one');
      const t1 = performance.now();
      await session.run(feeds);
      const t2 = performance.now();
      if (i >= 0) ours.push(t1 - t0), theirs.push(t2 - t1);
    }
    const ratios = ours.map((v, i) => v / (theirs[i] ?? Number.NaN));
    const layers = o.layers ? { layers: layerTimes(model, plan, x, o.pairs) } : {};
    return {
      net: text, pairs: o.pairs, oursMs: median(ours), ortMs: median(theirs),
      ratio: { median: median(ratios), p25: quantile(ratios, 0.25), p75: quantile(ratios, 0.75) }, ...layers,
    };
  } finally {
    await session.release();
    plan.dispose();
    model.dispose();
    x.dispose();
  }
}

function text(results: readonly Result[]): string {
  const f = (v: number, d = 2): string => v.toFixed(d);
  const rows = results.map((r) => [r.net, String(r.pairs), f(r.oursMs, 3), f(r.ortMs, 3), `${f(r.ratio.median, 3)}x`, `${f(r.ratio.p25, 3)}-${f(r.ratio.p75, 3)}x`]);
  const out = [table(['network', 'pairs', 'ours ms', 'ORT ms', 'ours/ORT (median of pairs)', '25-75th pct'], rows)];
  for (const r of results) {
    if (r.layers === undefined) continue;
    const total = r.layers.reduce((s, l) => s + l.ms, 0);
    const lrows = r.layers.map((l) => [l.layer, f(l.ms, 4), l.macs === 0 ? '' : f(l.macs / 1e6, 2), l.macs === 0 ? '' : f(l.macs / l.ms / 1e6, 1)]);
    out.push(`\n${r.net}: native calls (median ms in whole runs; sum ${f(total, 3)} ms)`, table(['layer', 'ms', 'MMAC', 'GMAC/s'], lrows));
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      net: { type: 'string', multiple: true, default: ['mobilenetv3-large@224', 'mobilenetv3-small@224', 'mobilenetv3-small@32'] },
      pairs: { type: 'string', default: '300' },
      warmup: { type: 'string', default: '20' },
      layers: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const o = { pairs: int(values.pairs, '--pairs'), warmup: int(values.warmup, '--warmup', 0), layers: values.layers };
  await useBackend('wasm', { threads: 1 });
  const results: Result[] = [];
  for (const net of values.net) results.push(await pairedNet(net, o));
  process.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : `${text(results)}\n`);
}

await main().catch((e: unknown) => {
  if (!(e instanceof UsageError)) throw e;
  process.stderr.write(`inference-paired-ort: ${e.message}\n`);
  process.exit(2);
});

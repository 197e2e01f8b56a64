// Where our compiled inference (model/inferencePlan.ts, the folded model as native calls) spends its time: each native
// call's median ms, timed where it runs inside whole runs of the plan, with its multiply-adds and GMAC/s. Batch 1, one
// thread. To set it against ONNX Runtime layer by layer, use ORT's own profiler on the same network's ONNX form
// (`nas export --format onnx`); for whole networks against ORT and the other peers, bench/inference-vs-peers.ts
// --paired.
// Usage: node dist/bench/inference-layers.js [--net mobilenetv3-large@224 ...] [--runs 200] [--warmup 20] [--json]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import { table } from '../common/textTable.js';
import { fixedInput } from '../latency/ortTiming.js';
import { median } from '../latency/stats.js';
import { buildModel } from '../model/build.js';
import { compileInference } from '../model/inferencePlan.js';
import { ConvBn, DenseAct } from '../model/layers.js';
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
  readonly runs: number;
  /** Sum of the native calls' medians. */
  readonly totalMs: number;
  readonly layers: LayerTime[];
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

function profileNet(text: string, o: { runs: number; warmup: number }): Result {
  const at = text.lastIndexOf('@');
  if (at <= 0) throw new UsageError(`--net ${text}: expected REF@INPUT, e.g. mobilenetv3-large@224`);
  const input = int(text.slice(at + 1), `--net ${text}: the input`);
  const a = resolve(loadArch([text.slice(0, at)], { input }));
  const model = buildModel(a, { seed: 0, folded: true });
  const shape = [1, a.inputSize, a.inputSize, a.inputChannels];
  const plan = compileInference(model, shape);
  const x = tf.tensor(fixedInput(shape), shape);
  try {
    if (plan === null) throw new UsageError(`${text}: the model does not compile to an inference plan (wasm with our kernels?)`);
    for (let i = 0; i < o.warmup; i++) plan.run(x, 'one');
    const layers = plan.profile(x, o.runs).map((p) => ({ layer: p.layer, ms: median(p.samplesMs), macs: macsOf(model, p.layer) }));
    return { net: text, runs: o.runs, totalMs: layers.reduce((s, l) => s + l.ms, 0), layers };
  } finally {
    plan?.dispose();
    model.dispose();
    x.dispose();
  }
}

function text(results: readonly Result[]): string {
  const f = (v: number, d = 2): string => v.toFixed(d);
  const out: string[] = [];
  for (const r of results) {
    const rows = r.layers.map((l) => [l.layer, f(l.ms, 4), l.macs === 0 ? '' : f(l.macs / 1e6, 2), l.macs === 0 ? '' : f(l.macs / l.ms / 1e6, 1)]);
    out.push(`${r.net}: native calls (median ms over ${r.runs} whole runs; sum ${f(r.totalMs, 3)} ms)`, table(['layer', 'ms', 'MMAC', 'GMAC/s'], rows), '');
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      net: { type: 'string', multiple: true, default: ['mobilenetv3-large@224', 'mobilenetv3-small@224', 'mobilenetv3-small@32'] },
      runs: { type: 'string', default: '200' },
      warmup: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
    },
  });
  const o = { runs: int(values.runs, '--runs'), warmup: int(values.warmup, '--warmup', 0) };
  await useBackend('wasm', { threads: 1 });
  const results: Result[] = [];
  for (const net of values.net) results.push(profileNet(net, o));
  process.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : `${text(results)}\n`);
}

await main().catch((e: unknown) => {
  if (!(e instanceof UsageError)) throw e;
  process.stderr.write(`inference-layers: ${e.message}\n`);
  process.exit(2);
});

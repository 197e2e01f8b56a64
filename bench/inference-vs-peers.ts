// Inference latency of nas (the folded model on wasm with our kernels, one thread) against two peers on the same
// network, batch 1, one thread, in one run: PyTorch (torchvision, eval mode) and ONNX Runtime's CPU provider
// (npm onnxruntime-node, a dev dependency) on torchvision's network exported to ONNX. Prints each median and the
// ratios nas / peer.
// Usage: node dist/bench/inference-vs-peers.js [--arch mobilenetv3-large,mobilenetv3-small] [--input 224]
//        [--warmup 10] [--runs 50] [--json]
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { measureLatency } from '../latency/measure.js';
import { median } from '../latency/stats.js';
import { buildModel } from '../model/build.js';
import { referenceArch } from '../space/reference.js';
import { applyOverrides } from '../space/load.js';
import { resolve } from '../space/resolve.js';
import { runJson } from './runJson.js';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'mobilenetv3-large,mobilenetv3-small' },
    input: { type: 'string', default: '224' },
    warmup: { type: 'string', default: '10' },
    runs: { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
  },
});
const archs = values.arch.split(',');
const input = Number(values.input);
const warmup = Number(values.warmup);
const runs = Number(values.runs);
for (const a of archs) {
  if (a !== 'mobilenetv3-large' && a !== 'mobilenetv3-small') {
    process.stderr.write(`--arch takes mobilenetv3-large and/or mobilenetv3-small (torchvision has those), got ${a}\n`);
    process.exit(2);
  }
}

const torchScript = fileURLToPath(new URL('../../bench/torch_infer.py', import.meta.url));
const onnxDir = join(tmpdir(), 'nas-bench-onnx');
mkdirSync(onnxDir, { recursive: true });

interface OrtModule {
  InferenceSession: {
    create(path: string, opts: Record<string, unknown>): Promise<{ run(feeds: Record<string, unknown>): Promise<unknown>; release(): Promise<void> }>;
  };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown;
}

async function loadOrt(): Promise<OrtModule | string> {
  try {
    return (await import('onnxruntime-node' as string)) as OrtModule;
  } catch (e) {
    return `onnxruntime-node is not installed (npm install: it is a dev dependency): ${(e as Error).message.split('\n')[0]}`;
  }
}

async function ortLatency(ort: OrtModule, path: string): Promise<number> {
  const session = await ort.InferenceSession.create(path, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
  const x = new ort.Tensor('float32', Float32Array.from({ length: 3 * input * input }, (_, i) => (i % 255) / 255), [1, 3, input, input]);
  for (let i = 0; i < warmup; i++) await session.run({ input: x });
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run({ input: x });
    samples.push(performance.now() - t0);
  }
  await session.release();
  return median(samples);
}

interface Row {
  arch: string;
  nasMs: number;
  pytorchMs: number;
  onnxruntimeMs: number | null;
  nasOverOnnxruntime: number | null;
  nasOverPytorch: number;
}

const info = await useBackend('wasm', { threads: 1 });
const ort = await loadOrt();
const rows: Row[] = [];
let torchVersion = '';
for (const name of archs) {
  const torch = runJson('/usr/bin/python3', [torchScript, '--arch', name, '--input', String(input), '--warmup', String(warmup), '--runs', String(runs), '--onnx', onnxDir]);
  torchVersion = String(torch['version']);
  const arch = resolve(applyOverrides(referenceArch(name), { input }));
  const model = buildModel(arch, { folded: true });
  const nas = measureLatency(model, { input: [input, input, 3], warmup, runs });
  model.dispose();
  const onnxPath = String(torch['onnx']);
  const onnxMs = typeof ort === 'string' || !existsSync(onnxPath) ? null : await ortLatency(ort, onnxPath);
  const pytorchMs = Number(torch['medianMs']);
  rows.push({
    arch: name,
    nasMs: nas.medianMs,
    pytorchMs,
    onnxruntimeMs: onnxMs,
    nasOverOnnxruntime: onnxMs === null ? null : nas.medianMs / onnxMs,
    nasOverPytorch: nas.medianMs / pytorchMs,
  });
}
tf.disposeVariables();

const result = { input, batch: 1, threads: 1, backend: info.name, pytorch: torchVersion, onnxruntime: typeof ort === 'string' ? ort : 'onnxruntime-node', rows };
if (values.json) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  const f = (v: number | null, d = 2): string => (v === null ? 'n/a' : v.toFixed(d));
  const lines = [
    `inference, input ${input}, batch 1, one thread; nas on ${info.name} (folded model), PyTorch ${torchVersion}, ONNX Runtime CPU`,
    'arch                nas ms   ORT ms  PyTorch ms  nas/ORT  nas/PyTorch',
    ...rows.map(
      (r) =>
        `${r.arch.padEnd(18)} ${f(r.nasMs).padStart(7)} ${f(r.onnxruntimeMs).padStart(8)} ${f(r.pytorchMs).padStart(11)} ${(f(r.nasOverOnnxruntime) + 'x').padStart(8)} ${(f(r.nasOverPytorch) + 'x').padStart(12)}`,
    ),
  ];
  if (typeof ort === 'string') lines.push(`ONNX Runtime skipped: ${ort}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

// Inference latency of our runtimes against their peers, on the same networks, batch 1, the same thread count, in
// one run: tfjs in Node (our wasm kernels, the folded model: the node runner), tfjs-wasm in headless Chromium (the
// browser runner), ONNX Runtime's CPU provider in Node and onnxruntime-web's wasm provider in Chromium (both on the
// ONNX form `nas export --format onnx` writes), and PyTorch (torchvision's network, eval mode, bench/torch_infer.py;
// only for networks torchvision has). Each network is timed in rounds that visit every runtime in turn (the order
// rotating each round), so load from other tenants of the machine falls on all of them alike. Prints each median and
// the ratios ours / peer.
// Usage: node dist/bench/inference-vs-peers.js [--net mobilenetv3-large@224 --net mobilenetv3-small@224
//        --net mobilenetv3-small@32] [--threads 1] [--rounds 5] [--warmup 10] [--runs 50] [--db FILE] [--json]
// --net REF@INPUT takes anything --arch takes (run:RUN#best for a searched network). The browser runtimes run one
// thread only: with --threads N > 1 they are skipped, and said so.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { table } from '../common/textTable.js';
import { type LatencyRunner, openRunner } from '../latency/runner.js';
import { median } from '../latency/stats.js';
import { loadArch } from '../results/archRef.js';
import type { ArchSpec } from '../space/arch.js';
import { PYTHON, runJson } from './runJson.js';

const RUNTIMES = ['nas-node', 'tfjs-chromium', 'onnxruntime', 'ort-web', 'pytorch'] as const;
type Runtime = (typeof RUNTIMES)[number];
const TORCHVISION = new Set(['mobilenetv3-large', 'mobilenetv3-small']);
const TORCH_SCRIPT = fileURLToPath(new URL('../../bench/torch_infer.py', import.meta.url));

interface Net {
  readonly label: string;
  readonly ref: string;
  readonly input: number;
  readonly spec: ArchSpec;
}

interface Timing {
  readonly warmup: number;
  readonly runs: number;
}

/** Samples (ms) of `net` on one runtime; empty when the runtime cannot run this network. */
type Timer = (net: Net, t: Timing) => Promise<readonly number[]>;

interface Opened {
  readonly timers: Partial<Record<Runtime, Timer>>;
  readonly runners: LatencyRunner[];
  /** Why a runtime is absent from this run. */
  readonly skipped: Partial<Record<Runtime, string>>;
}

function usage(message: string): never {
  process.stderr.write(`inference-vs-peers: ${message}\n`);
  process.exit(2);
}

function positiveInt(text: string, flag: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) usage(`${flag} must be an integer >= ${min}, got ${text}`);
  return n;
}

/** `REF@INPUT` as a network built at that input. */
function parseNet(text: string, db: string | undefined): Net {
  const at = text.lastIndexOf('@');
  if (at <= 0) usage(`--net ${text}: expected REF@INPUT, e.g. mobilenetv3-small@224 or run:RUN#best@32`);
  const ref = text.slice(0, at);
  const input = positiveInt(text.slice(at + 1), `--net ${text}: the input`);
  return { label: `${ref}@${input}`, ref, input, spec: loadArch([ref], { input, ...(db === undefined ? {} : { db }) }) };
}

const runnerTimer =
  (runner: LatencyRunner): Timer =>
  async (net, t) => {
    const [s] = await runner.measureArchs([net.spec], { warmup: t.warmup, runs: t.runs, rounds: 1, seed: 0 });
    return s?.samplesMs ?? [];
  };

function pytorchTimer(threads: number): Timer {
  return async (net, t) => {
    if (!TORCHVISION.has(net.ref)) return [];
    const args = ['--arch', net.ref, '--input', String(net.input), '--warmup', String(t.warmup), '--runs', String(t.runs), '--threads', String(threads)];
    const out = runJson(PYTHON, [TORCH_SCRIPT, ...args]);
    const samples = out['samplesMs'];
    if (!Array.isArray(samples) || !samples.every((v): v is number => typeof v === 'number')) throw new Error('torch_infer.py gave no samplesMs');
    return samples;
  };
}

/** Each runtime opened, or the reason it is not (a missing Chromium, more threads than a page runs). */
async function openRuntimes(threads: number): Promise<Opened> {
  const opened: Opened = { timers: {}, runners: [], skipped: {} };
  const settings: [Runtime, string, string][] = [
    ['nas-node', 'node', 'wasm'],
    ['tfjs-chromium', 'browser', 'wasm'],
    ['onnxruntime', 'onnxruntime', 'cpu'],
    ['ort-web', 'browser', 'ort-web'],
  ];
  for (const [runtime, runner, backend] of settings) {
    if (runner === 'browser' && threads !== 1) {
      opened.skipped[runtime] = 'the browser runner measures with one thread';
      continue;
    }
    try {
      const r = await openRunner(runner, { backend, threads });
      opened.runners.push(r);
      opened.timers[runtime] = runnerTimer(r);
    } catch (e) {
      opened.skipped[runtime] = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'failed to open';
    }
  }
  opened.timers.pytorch = pytorchTimer(threads);
  return opened;
}

/** `net` on every runtime, in `rounds` rounds of runs / rounds timed runs each, the order rotating each round. */
async function timeNet(net: Net, timers: Opened['timers'], o: { rounds: number; warmup: number; runs: number }): Promise<Partial<Record<Runtime, number[]>>> {
  const order = RUNTIMES.filter((r) => timers[r] !== undefined);
  const samples: Partial<Record<Runtime, number[]>> = {};
  const perRound = Math.max(1, Math.ceil(o.runs / o.rounds));
  for (let r = 0; r < o.rounds; r++) {
    for (let k = 0; k < order.length; k++) {
      const runtime = order[(k + r) % order.length];
      const timer = runtime === undefined ? undefined : timers[runtime];
      if (runtime === undefined || timer === undefined) continue;
      const xs = await timer(net, { warmup: r === 0 ? o.warmup : 1, runs: perRound });
      samples[runtime] = [...(samples[runtime] ?? []), ...xs];
    }
  }
  return samples;
}

interface Row {
  readonly net: string;
  readonly input: number;
  /** Median ms per runtime (null: not run on this network). */
  readonly medianMs: Record<Runtime, number | null>;
  readonly runs: Record<Runtime, number>;
  /** Ours / peer: Node tfjs against ONNX Runtime and PyTorch, Chromium tfjs against onnxruntime-web. */
  readonly ratios: { nodeOverOnnxruntime: number | null; nodeOverPytorch: number | null; chromiumOverOrtWeb: number | null };
}

function byRuntime<T>(f: (r: Runtime) => T): Record<Runtime, T> {
  return { 'nas-node': f('nas-node'), 'tfjs-chromium': f('tfjs-chromium'), onnxruntime: f('onnxruntime'), 'ort-web': f('ort-web'), pytorch: f('pytorch') };
}

function rowOf(net: Net, samples: Partial<Record<Runtime, number[]>>): Row {
  const med = (r: Runtime): number | null => {
    const xs = samples[r] ?? [];
    return xs.length === 0 ? null : median(xs);
  };
  const medianMs = byRuntime(med);
  const runs = byRuntime((r) => samples[r]?.length ?? 0);
  const ratio = (a: Runtime, b: Runtime): number | null => {
    const x = medianMs[a];
    const y = medianMs[b];
    return x === null || y === null ? null : x / y;
  };
  return {
    net: net.label,
    input: net.input,
    medianMs,
    runs,
    ratios: { nodeOverOnnxruntime: ratio('nas-node', 'onnxruntime'), nodeOverPytorch: ratio('nas-node', 'pytorch'), chromiumOverOrtWeb: ratio('tfjs-chromium', 'ort-web') },
  };
}

function text(result: { threads: number; rounds: number; machine: string; rows: Row[]; skipped: Opened['skipped'] }): string {
  const f = (v: number | null, suffix = ''): string => (v === null ? 'n/a' : `${v.toFixed(2)}${suffix}`);
  const header = ['network', 'nas Node ms', 'tfjs Chromium ms', 'ORT ms', 'ort-web ms', 'PyTorch ms', 'Node/ORT', 'Node/PyTorch', 'Chromium tfjs/ort-web'];
  const rows = result.rows.map((r) => [
    r.net, ...RUNTIMES.map((rt) => f(r.medianMs[rt])),
    f(r.ratios.nodeOverOnnxruntime, 'x'), f(r.ratios.nodeOverPytorch, 'x'), f(r.ratios.chromiumOverOrtWeb, 'x'),
  ]);
  const skipped = Object.entries(result.skipped).map(([rt, why]) => `${rt} skipped: ${why}`);
  return [`inference, batch 1, ${result.threads} thread(s), ${result.rounds} interleaved rounds; ${result.machine}`, table(header, rows), ...skipped].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      net: { type: 'string', multiple: true, default: ['mobilenetv3-large@224', 'mobilenetv3-small@224', 'mobilenetv3-small@32'] },
      threads: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '10' },
      runs: { type: 'string', default: '50' },
      db: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const threads = positiveInt(values.threads, '--threads');
  const o = { rounds: positiveInt(values.rounds, '--rounds'), warmup: positiveInt(values.warmup, '--warmup', 0), runs: positiveInt(values.runs, '--runs') };
  const nets = values.net.map((n) => parseNet(n, values.db));
  const opened = await openRuntimes(threads);
  const rows: Row[] = [];
  try {
    for (const net of nets) rows.push(rowOf(net, await timeNet(net, opened.timers, o)));
  } finally {
    for (const r of opened.runners) await r.close();
  }
  const machine = opened.runners.map((r) => `${r.name}/${r.backend}: ${r.machine}`).join(' | ');
  const result = { batch: 1, threads, ...o, machine, skipped: opened.skipped, rows };
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${text(result)}\n`);
}

await main();

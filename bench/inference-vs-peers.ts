// Inference latency of our runtimes against their peers, on the same networks, batch 1, the same thread count, in
// one run: tfjs in Node (our wasm kernels, the folded model: the node runner), tfjs-wasm in headless Chromium (the
// browser runner), ONNX Runtime's CPU provider in Node and onnxruntime-web's wasm provider in Chromium (both on the
// ONNX form `nas export --format onnx` writes), and PyTorch (torchvision's network, eval mode, bench/torch_infer.py;
// only for networks torchvision has). Each network is timed in rounds that visit every runtime in turn (the order
// rotating each round), so load from other tenants of the machine falls on all of them alike. Prints each median and
// the ratios ours / peer. With --paired each network is instead built once on every runtime but PyTorch and timed in
// rounds of one run on each (bench/pairedRounds.ts); the ratios are then medians of per-round ratios, with their
// quartiles.
// Usage: node dist/bench/inference-vs-peers.js [--net mobilenetv3-large@224 --net mobilenetv3-small@224
//        --net mobilenetv3-small@32] [--threads 1] [--rounds 5] [--warmup 10] [--runs 50] [--db FILE] [--json]
//        node dist/bench/inference-vs-peers.js --paired [--pairs 200] [--net ...] [--threads 1] [--warmup 10] [--json]
// --net REF@INPUT takes anything --arch takes (run:RUN#best for a searched network). The browser runtimes run one
// thread only: with --threads N > 1 they are skipped, and said so.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { table } from '../common/textTable.js';
import type { PreparedArchs } from '../latency/prepared.js';
import { type LatencyRunner, openRunner } from '../latency/runner.js';
import { median } from '../latency/stats.js';
import { loadArch } from '../results/archRef.js';
import type { ArchSpec } from '../space/arch.js';
import { type PairRounds, pairRatios, type RatioSpread, rotated, timePairs } from './pairedRounds.js';
import { PYTHON, runJson } from './runJson.js';

/** The runtimes this process opens runners for (PyTorch runs in a process of its own, per measurement). */
const IN_PROCESS = ['nas-node', 'tfjs-chromium', 'onnxruntime', 'ort-web'] as const;
const RUNTIMES = [...IN_PROCESS, 'pytorch'] as const;
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
  readonly runners: Partial<Record<Runtime, LatencyRunner>>;
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
  try {
    return { label: `${ref}@${input}`, ref, input, spec: loadArch([ref], { input, ...(db === undefined ? {} : { db }) }) };
  } catch (e) {
    usage(`--net ${text}: ${e instanceof Error ? e.message : String(e)}`);
  }
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
  const opened: Opened = { runners: {}, skipped: {} };
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
      opened.runners[runtime] = await openRunner(runner, { backend, threads });
    } catch (e) {
      opened.skipped[runtime] = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'failed to open';
    }
  }
  return opened;
}

function openedRunners(opened: Opened): LatencyRunner[] {
  return IN_PROCESS.flatMap((rt) => opened.runners[rt] ?? []);
}

/** The unpaired mode's timer of each opened runtime, and PyTorch's. */
function timersOf(opened: Opened, threads: number): Partial<Record<Runtime, Timer>> {
  const timers: Partial<Record<Runtime, Timer>> = { pytorch: pytorchTimer(threads) };
  for (const rt of IN_PROCESS) {
    const r = opened.runners[rt];
    if (r !== undefined) timers[rt] = runnerTimer(r);
  }
  return timers;
}

/** `net` on every runtime, in `rounds` rounds of runs / rounds timed runs each, the order rotating each round. */
async function timeNet(net: Net, timers: Partial<Record<Runtime, Timer>>, o: Unpaired): Promise<Partial<Record<Runtime, number[]>>> {
  const order = RUNTIMES.filter((r) => timers[r] !== undefined);
  const samples: Partial<Record<Runtime, number[]>> = {};
  const perRound = Math.max(1, Math.ceil(o.runs / o.rounds));
  for (let r = 0; r < o.rounds; r++) {
    for (const runtime of rotated(order, r)) {
      const xs = (await timers[runtime]?.(net, { warmup: r === 0 ? o.warmup : 1, runs: perRound })) ?? [];
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

const medianOf = (xs: readonly number[] | undefined): number | null => (xs === undefined || xs.length === 0 ? null : median(xs));

function rowOf(net: Net, samples: Partial<Record<Runtime, number[]>>): Row {
  const medianMs = byRuntime((r) => medianOf(samples[r]));
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


interface PairedRow {
  readonly net: string;
  readonly input: number;
  /** Median ms of each runtime's runs (null: not paired; PyTorch always). */
  readonly medianMs: Record<Runtime, number | null>;
  /** Rounds: timed runs on each paired runtime. */
  readonly pairs: number;
  /** Each runtime's ms in round order (empty: not paired). */
  readonly samplesMs: Record<Runtime, readonly number[]>;
  /** Ours / peer per round: their median and quartiles. */
  readonly ratios: { nodeOverOnnxruntime: RatioSpread | null; chromiumOverOrtWeb: RatioSpread | null };
}

const PYTORCH_UNPAIRED = 'not timed in paired mode (a process of its own per measurement; run without --paired for its column)';

function pairedRowOf(net: Net, samples: ReadonlyMap<Runtime, number[]>, pairs: number): PairedRow {
  const ratio = (a: Runtime, b: Runtime): RatioSpread | null => {
    const x = samples.get(a);
    const y = samples.get(b);
    return x === undefined || y === undefined ? null : pairRatios(x, y);
  };
  return {
    net: net.label,
    input: net.input,
    medianMs: byRuntime((r) => medianOf(samples.get(r))),
    pairs,
    samplesMs: byRuntime((r) => samples.get(r) ?? []),
    ratios: { nodeOverOnnxruntime: ratio('nas-node', 'onnxruntime'), chromiumOverOrtWeb: ratio('tfjs-chromium', 'ort-web') },
  };
}

/** `net` built once on every runtime that can keep it, timed in paired rounds, released whatever happens. */
async function pairedNet(net: Net, runners: Opened['runners'], o: PairRounds): Promise<PairedRow> {
  const prepared = new Map<Runtime, PreparedArchs>();
  try {
    for (const rt of IN_PROCESS) {
      const p = await runners[rt]?.prepareArchs?.([net.spec], { seed: 0 });
      if (p !== undefined) prepared.set(rt, p);
    }
    return pairedRowOf(net, await timePairs(prepared, 0, o), o.pairs);
  } finally {
    for (const p of prepared.values()) await p.close();
  }
}

/** Opened runtimes whose runner cannot keep a network built, and PyTorch: why each is not in the paired rounds. */
function unpairedRuntimes(opened: Opened): Partial<Record<Runtime, string>> {
  const why: Partial<Record<Runtime, string>> = { pytorch: PYTORCH_UNPAIRED };
  for (const rt of IN_PROCESS) {
    if (opened.runners[rt] !== undefined && opened.runners[rt]?.prepareArchs === undefined) why[rt] = 'its runner cannot keep a network built, so it is not paired';
  }
  return why;
}

const ms = (v: number | null, suffix = ''): string => (v === null ? 'n/a' : `${v.toFixed(2)}${suffix}`);

function textOf(title: string, header: string[], rows: string[][], skipped: Partial<Record<Runtime, string>>): string {
  const notes = Object.entries(skipped).map(([rt, why]) => `${rt} skipped: ${why}`);
  return [title, table(header, rows), ...notes].join('\n');
}

interface Report {
  readonly json: object;
  readonly text: string;
}

function machineOf(opened: Opened): string {
  return openedRunners(opened).map((r) => `${r.name}/${r.backend}: ${r.machine}`).join(' | ');
}

async function runUnpaired(nets: readonly Net[], opened: Opened, threads: number, o: Unpaired): Promise<Report> {
  const timers = timersOf(opened, threads);
  const rows: Row[] = [];
  for (const net of nets) rows.push(rowOf(net, await timeNet(net, timers, o)));
  const result = { batch: 1, threads, rounds: o.rounds, warmup: o.warmup, runs: o.runs, machine: machineOf(opened), skipped: opened.skipped, rows };
  const header = ['network', 'nas Node ms', 'tfjs Chromium ms', 'ORT ms', 'ort-web ms', 'PyTorch ms', 'Node/ORT', 'Node/PyTorch', 'Chromium tfjs/ort-web'];
  const cells = rows.map((r) => [
    r.net, ...RUNTIMES.map((rt) => ms(r.medianMs[rt])),
    ms(r.ratios.nodeOverOnnxruntime, 'x'), ms(r.ratios.nodeOverPytorch, 'x'), ms(r.ratios.chromiumOverOrtWeb, 'x'),
  ]);
  const title = `inference, batch 1, ${threads} thread(s), ${o.rounds} interleaved rounds; ${result.machine}`;
  return { json: result, text: textOf(title, header, cells, opened.skipped) };
}

async function runPaired(nets: readonly Net[], opened: Opened, threads: number, o: PairRounds): Promise<Report> {
  const skipped = { ...opened.skipped, ...unpairedRuntimes(opened) };
  const rows: PairedRow[] = [];
  for (const net of nets) rows.push(await pairedNet(net, opened.runners, o));
  const result = { mode: 'paired', batch: 1, threads, pairs: o.pairs, warmup: o.warmup, machine: machineOf(opened), skipped, rows };
  const spread = (s: RatioSpread | null): string => (s === null ? 'n/a' : `${s.median.toFixed(2)}x (${s.p25.toFixed(2)}-${s.p75.toFixed(2)})`);
  const header = ['network', 'nas Node ms', 'tfjs Chromium ms', 'ORT ms', 'ort-web ms', 'Node/ORT (p25-p75)', 'Chromium tfjs/ort-web (p25-p75)'];
  const cells = rows.map((r) => [r.net, ...IN_PROCESS.map((rt) => ms(r.medianMs[rt])), spread(r.ratios.nodeOverOnnxruntime), spread(r.ratios.chromiumOverOrtWeb)]);
  const title =
    `inference, batch 1, ${threads} thread(s), paired: ${o.pairs} rounds of one run on each runtime (order rotating) after ${o.warmup} ` +
    `warm-up runs; medians per runtime, ratios the median of per-round ratios (25th-75th percentile); ${result.machine}`;
  return { json: result, text: textOf(title, header, cells, skipped) };
}

interface Unpaired {
  readonly rounds: number;
  readonly warmup: number;
  readonly runs: number;
}

type Mode = ({ readonly paired: false } & Unpaired) | ({ readonly paired: true } & PairRounds);

function flags() {
  try {
    return parseArgs({
      options: {
        net: { type: 'string', multiple: true, default: ['mobilenetv3-large@224', 'mobilenetv3-small@224', 'mobilenetv3-small@32'] },
        threads: { type: 'string', default: '1' },
        rounds: { type: 'string' },
        warmup: { type: 'string', default: '10' },
        runs: { type: 'string' },
        paired: { type: 'boolean', default: false },
        pairs: { type: 'string' },
        db: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e));
  }
}

function modeOf(v: ReturnType<typeof flags>, warmup: number): Mode {
  if (v.paired) {
    if (v.rounds !== undefined || v.runs !== undefined) usage('--rounds and --runs time the unpaired mode: with --paired, --pairs sets the rounds');
    return { paired: true, warmup, pairs: positiveInt(v.pairs ?? '200', '--pairs') };
  }
  if (v.pairs !== undefined) usage('--pairs needs --paired');
  return { paired: false, warmup, rounds: positiveInt(v.rounds ?? '5', '--rounds'), runs: positiveInt(v.runs ?? '50', '--runs') };
}

async function main(): Promise<void> {
  const v = flags();
  const threads = positiveInt(v.threads, '--threads');
  const mode = modeOf(v, positiveInt(v.warmup, '--warmup', 0));
  const nets = v.net.map((n) => parseNet(n, v.db));
  const opened = await openRuntimes(threads);
  let report: Report;
  try {
    report = mode.paired ? await runPaired(nets, opened, threads, mode) : await runUnpaired(nets, opened, threads, mode);
  } finally {
    for (const r of openedRunners(opened)) await r.close();
  }
  process.stdout.write(v.json ? `${JSON.stringify(report.json, null, 2)}\n` : `${report.text}\n`);
}

await main();

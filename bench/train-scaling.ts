// Training throughput against thread count: images/s of nas and of PyTorch (torch.set_num_threads) at 1, 2, ... N
// threads (N: this machine's cores) for MobileNetV3-Small at 32 and 224 px and MobileNetV3-Large at 224 px, each
// pair measured one after the other (bench/trainPair.ts), with each side's speed-up over its own one-thread figure
// and the ratio nas / PyTorch. Run it on a quiet machine: every figure is a wall-clock rate.
// The warm-up is long on purpose: a process's first steps grow the wasm heap, fault in fresh pages and compile, and
// ran 1.3-2x the steady time for up to 15 steps at 32 px (10 and 3 steps gave 1.27x where the steady state gives
// 1.6x); both sides get the same. Small at 32 px runs at batch 32 (the table) and 64 (the recipe's batch).
// Usage: node dist/bench/train-scaling.js [--max-threads N] [--cases small@32x32,small@32x64,small@224x16,large@224x16]
//        [--steps 20] [--warmup 10] [--classes 10] [--backend wasm] [--json]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { table } from '../common/textTable.js';
import { isTorchArch, measurePair, type PairResult, type TorchArch } from './trainPair.js';

interface Case {
  readonly arch: TorchArch;
  readonly input: number;
  readonly batch: number;
}

interface Row extends Case, PairResult {
  readonly threads: number;
  /** images/s over the same side's one-thread figure. */
  readonly nasSpeedup: number;
  readonly pytorchSpeedup: number;
}

/** `small@224x16`: network, input size and batch; a one-line error naming the bad item otherwise. */
function parseCase(text: string): Case {
  const m = /^(small|large)@(\d+)x(\d+)$/.exec(text.trim());
  const arch = `mobilenetv3-${m?.[1] ?? ''}`;
  if (m === null || !isTorchArch(arch)) throw new Error(`--cases: '${text}' is not NETWORK@INPUTxBATCH, e.g. small@224x16`);
  return { arch, input: Number(m[2]), batch: Number(m[3]) };
}

function positive(name: string, text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be an integer >= 1, got ${text}`);
  return v;
}

const { values } = parseArgs({
  options: {
    'max-threads': { type: 'string', default: String(availableParallelism()) },
    cases: { type: 'string', default: 'small@32x32,small@32x64,small@224x16,large@224x16' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '10' },
    classes: { type: 'string', default: '10' },
    backend: { type: 'string', default: 'wasm' },
    json: { type: 'boolean', default: false },
  },
});

/** Every case at 1..maxThreads threads, one-thread figures first (the speed-ups divide by them). */
function measureAll(cases: readonly Case[], maxThreads: number): Row[] {
  const common = { classes: positive('classes', values.classes), steps: positive('steps', values.steps), warmup: Number(values.warmup), backend: values.backend };
  const rows: Row[] = [];
  for (const c of cases) {
    let base: PairResult | null = null;
    for (let threads = 1; threads <= maxThreads; threads++) {
      const r = measurePair({ ...c, ...common, threads });
      base ??= r;
      rows.push({ ...c, threads, ...r, nasSpeedup: r.nas.imagesPerSec / base.nas.imagesPerSec, pytorchSpeedup: r.pytorch.imagesPerSec / base.pytorch.imagesPerSec });
      process.stderr.write(`${c.arch} ${c.input} px, ${threads} thread(s): nas ${r.nas.imagesPerSec.toFixed(1)}, PyTorch ${r.pytorch.imagesPerSec.toFixed(1)} images/s\n`);
    }
  }
  return rows;
}

function toText(rows: readonly Row[]): string {
  const head = ['network', 'input', 'batch', 'threads', 'nas img/s', 'nas x1', 'PyTorch img/s', 'PyTorch x1', 'nas / PyTorch'];
  const body = rows.map((r) => [
    r.arch, String(r.input), String(r.batch), String(r.threads), r.nas.imagesPerSec.toFixed(1), `${r.nasSpeedup.toFixed(2)}x`,
    r.pytorch.imagesPerSec.toFixed(1), `${r.pytorchSpeedup.toFixed(2)}x`, `${r.ratio.toFixed(2)}x`,
  ]);
  const torch = rows[0]?.pytorch.version ?? '?';
  return `nas (${rows[0]?.nas.backend ?? '?'}) against PyTorch ${torch}, ${availableParallelism()} cores\n${table(head, body)}`;
}

try {
  const cases = values.cases.split(',').map(parseCase);
  const rows = measureAll(cases, positive('max-threads', values['max-threads']));
  process.stdout.write(values.json ? `${JSON.stringify({ cores: availableParallelism(), rows }, null, 2)}\n` : `${toText(rows)}\n`);
} catch (e) {
  process.stderr.write(`train-scaling: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}

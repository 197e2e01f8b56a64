// Training throughput against thread count: images/s of nas and of PyTorch (torch.set_num_threads) at 1, 2, ... N
// threads (N: this machine's cores) for MobileNetV3-Small at 32 and 224 px and MobileNetV3-Large at 224 px, each
// pair measured one after the other (bench/trainPair.ts), with each side's speed-up over its own one-thread figure
// and the ratio nas / PyTorch. Run it on a quiet machine: every figure is a wall-clock rate.
// The warm-up is long on purpose: a process's first steps grow the wasm heap, fault in fresh pages and compile, and
// ran 1.3-2x the steady time for up to 15 steps at 32 px (10 and 3 steps gave 1.27x where the steady state gives
// 1.6x); both sides get the same. Small at 32 px runs at batch 32 (the table) and 64 (the recipe's batch).
// Usage: node dist/bench/train-scaling.js [--max-threads N] [--cases small@32x32,small@32x64,small@224x16,large@224x16]
//        [--steps 20] [--warmup 10] [--rounds 1] [--classes 10] [--backend wasm] [--json]
// With --rounds R every cell is measured R times, round after round, and the table gives medians (speed-ups paired
// within a round): on a shared machine one run of a cell can be 15% off.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { table } from '../common/textTable.js';
import { median } from '../latency/stats.js';
import { isTorchArch, measurePair, type PairResult, type TorchArch } from './trainPair.js';

interface Case {
  readonly arch: TorchArch;
  readonly input: number;
  readonly batch: number;
}

interface Row extends Case, PairResult {
  readonly threads: number;
  /** images/s over the same side's one-thread figure: the median over rounds of each round's ratio. */
  readonly nasSpeedup: number;
  readonly pytorchSpeedup: number;
  /** Each round's measurement (the row's figures are their medians). */
  readonly rounds: readonly PairResult[];
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
    rounds: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});

/**
 * Every case at 1..maxThreads threads, `rounds` times over (round after round, so that a drift of the machine's
 * speed spreads over every cell), each cell the median of its rounds.
 */
function measureAll(cases: readonly Case[], maxThreads: number, rounds: number): Row[] {
  const common = { classes: positive('classes', values.classes), steps: positive('steps', values.steps), warmup: Number(values.warmup), backend: values.backend };
  const cells = cases.map(() => Array.from({ length: maxThreads }, (): PairResult[] => []));
  for (let round = 0; round < rounds; round++) {
    cases.forEach((c, ci) => {
      for (let threads = 1; threads <= maxThreads; threads++) {
        const r = measurePair({ ...c, ...common, threads });
        cells[ci]?.[threads - 1]?.push(r);
        process.stderr.write(`round ${round + 1}/${rounds}: ${c.arch} ${c.input} px, batch ${c.batch}, ${threads} thread(s): nas ${r.nas.imagesPerSec.toFixed(1)}, PyTorch ${r.pytorch.imagesPerSec.toFixed(1)} images/s\n`);
      }
    });
  }
  return cases.flatMap((c, ci) => {
    const byThreads = cells[ci] ?? [];
    const base = byThreads[0] ?? [];
    return byThreads.map((rs, t) => row(c, t + 1, rs, base));
  });
}

/** A cell's row: median figures, and speed-ups paired round by round with the one-thread cell. */
function row(c: Case, threads: number, rs: readonly PairResult[], base: readonly PairResult[]): Row {
  const nas = median(rs.map((r) => r.nas.imagesPerSec));
  const pytorch = median(rs.map((r) => r.pytorch.imagesPerSec));
  const [first] = rs;
  if (first === undefined) throw new Error('no measurement');
  const ratioTo = (side: 'nas' | 'pytorch'): number => median(rs.map((r, i) => r[side].imagesPerSec / (base[i]?.[side].imagesPerSec ?? Number.NaN)));
  return {
    ...c,
    threads,
    nas: { ...first.nas, imagesPerSec: nas, msPerStep: median(rs.map((r) => r.nas.msPerStep)) },
    pytorch: { ...first.pytorch, imagesPerSec: pytorch, msPerStep: median(rs.map((r) => r.pytorch.msPerStep)) },
    ratio: nas / pytorch,
    nasSpeedup: ratioTo('nas'),
    pytorchSpeedup: ratioTo('pytorch'),
    rounds: rs,
  };
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
  const rows = measureAll(cases, positive('max-threads', values['max-threads']), positive('rounds', values.rounds));
  process.stdout.write(values.json ? `${JSON.stringify({ cores: availableParallelism(), rows }, null, 2)}\n` : `${toText(rows)}\n`);
} catch (e) {
  process.stderr.write(`train-scaling: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}

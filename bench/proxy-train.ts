// One proxy evaluation per sampled architecture of the 'mnasnet-small-input' space, with the evaluator's defaults
// (or --config JSON) on one core: seconds per candidate (data loading reported apart: a worker pays it once) and
// the accuracies, whose spread says whether the proxy ranks architectures at all. CPU seconds are printed beside
// wall seconds: on a shared machine they are the steadier figure of what one core needs.
// Or, with --arch (repeatable: anything `--arch` takes) and --seeds, the given architectures under each seed: whether
// the proxy tells them apart, by accuracy and by its losses (docs/PIPELINE.md, Results).
// Usage: node dist/bench/proxy-train.js [--archs 6] [--seed 0] [--config '{"proxyImages":2048}'] [--json]
//        node dist/bench/proxy-train.js --arch mobilenetv3-small --arch 'v1_in32x3_...' --seeds 11,22,33 [--config ..]
import { parseArgs } from 'node:util';
import seedrandom from 'seedrandom';
import { parseProxyConfig } from '../proxy-train/config.js';
import { evaluate } from '../proxy-train/evaluate.js';
import type { JsonValue } from '../common/json.js';
import { loadArch } from '../results/archRef.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { applySample, sampleUniform } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';

const { values } = parseArgs({
  options: {
    archs: { type: 'string', default: '6' },
    seed: { type: 'string', default: '0' },
    space: { type: 'string', default: 'mnasnet-small-input' },
    config: { type: 'string', default: '{}' },
    arch: { type: 'string', multiple: true, default: [] },
    seeds: { type: 'string', default: '11,22,33' },
    classes: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
  },
});

const config = JSON.parse(values.config) as Record<string, JsonValue>;
const settings = parseProxyConfig(config);
const space = builtinSpace(values.space);
const rng = seedrandom(`bench-proxy-${values.seed}`);
interface Row {
  arch: string;
  madds: number;
  params: number;
  accuracy: number;
  seconds: number;
  cpuSeconds: number;
  trainSeconds: number;
  evalSeconds: number;
  steps: number;
  seed: number;
  finalLoss: number | null;
  valLoss: number;
}
const rows: Row[] = [];
let loadSeconds = 0;
/** The (architecture, seed) pairs to score: the given architectures under each of --seeds, or sampled ones. */
function jobs(): { arch: ArchSpec; seed: number }[] {
  if (values.arch.length === 0) {
    return Array.from({ length: Number(values.archs) }, (_, i) => ({ arch: applySample(space, sampleUniform(space, rng)), seed: Number(values.seed) * 1000 + i }));
  }
  const given = values.arch.map((a) => loadArch([a], { classes: Number(values.classes) }));
  return values.seeds.split(',').flatMap((seed) => given.map((arch) => ({ arch, seed: Number(seed) })));
}

for (const [i, { arch, seed }] of jobs().entries()) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const m = await evaluate(arch, { seed, arch: encodeArch(arch), config });
  const used = process.cpuUsage(c0);
  const load = Number(m['loadSeconds'] ?? 0);
  loadSeconds += load;
  const row = {
    arch: encodeArch(arch),
    madds: Number(m.madds),
    params: Number(m.params),
    accuracy: m.accuracy,
    seconds: (performance.now() - t0) / 1000 - load,
    cpuSeconds: (used.user + used.system) / 1e6,
    trainSeconds: Number(m['trainSeconds']),
    evalSeconds: Number(m['evalSeconds']),
    steps: Number(m['steps']),
    seed,
    finalLoss: typeof m['finalLoss'] === 'number' ? m['finalLoss'] : null,
    valLoss: Number(m['valLoss']),
  };
  rows.push(row);
  if (!values.json) {
    process.stderr.write(
      `${i + 1} (seed ${seed}): ${(row.madds / 1e6).toFixed(1)}M MAdds, ${(row.params / 1e6).toFixed(2)}M params: ` +
        `top-1 ${(100 * row.accuracy).toFixed(2)}%, train loss ${row.finalLoss?.toFixed(4)}, val loss ${row.valLoss.toFixed(4)} in ${row.seconds.toFixed(1)} s, ${row.cpuSeconds.toFixed(1)} CPU s (train ${row.trainSeconds.toFixed(1)}, eval ${row.evalSeconds.toFixed(1)})\n`,
    );
  }
}

const acc = rows.map((r) => r.accuracy);
const secs = rows.map((r) => r.seconds);
const cpu = rows.map((r) => r.cpuSeconds);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]): number => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const result = {
  space: values.space,
  settings,
  dataLoadSeconds: loadSeconds,
  secondsPerCandidate: { mean: mean(secs), max: Math.max(...secs), min: Math.min(...secs) },
  cpuSecondsPerCandidate: { mean: mean(cpu), max: Math.max(...cpu), min: Math.min(...cpu) },
  accuracy: { mean: mean(acc), sd: sd(acc), min: Math.min(...acc), max: Math.max(...acc) },
  candidates: rows,
};
if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  process.stdout.write(
    `${rows.length} ${values.arch.length > 0 ? `evaluations (${values.arch.length} given archs x seeds ${values.seeds})` : `archs of ${values.space}`}, ${settings.proxyImages} images x ${settings.proxyEpochs} epochs, ` +
      `validation ${settings.valImages}, ${settings.backend}, one thread\n` +
      `seconds per candidate: mean ${result.secondsPerCandidate.mean.toFixed(1)}, max ${result.secondsPerCandidate.max.toFixed(1)} ` +
      `(data load ${loadSeconds.toFixed(1)} s, once per worker); CPU seconds mean ${result.cpuSecondsPerCandidate.mean.toFixed(1)}, ` +
      `max ${result.cpuSecondsPerCandidate.max.toFixed(1)}\n` +
      `validation top-1: mean ${(100 * result.accuracy.mean).toFixed(2)}%, sd ${(100 * result.accuracy.sd).toFixed(2)} points, ` +
      `range ${(100 * result.accuracy.min).toFixed(2)}..${(100 * result.accuracy.max).toFixed(2)}%\n`,
  );
}

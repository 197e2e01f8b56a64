// A NetAdapt result timed against its seed again, outside the run: the seed and the result timed together (node
// runner, wasm, one thread, 180 runs each in interleaved rounds, p10, as the run's end does) several times, each
// line the ratio and the seed's own p10 (how loaded the machine was); with --baseline, the width baseline of the
// result found as the run finds it (each width compared with the result in A/B rounds), then the three timed together.
// Usage: node dist/bench/netadapt-latency.js --seed CHECKPOINT --result OUT/final.arch.json [--repeats 6] [--baseline]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { baselineWidth } from '../netadapt/final.js';
import { openNetadaptLatency } from '../netadapt/latency.js';
import { measureTogether } from '../netadapt/measure.js';
import { materialise } from '../netadapt/proposals.js';
import type { ArchSpec } from '../space/arch.js';
import { validateArchSpec } from '../space/validate.js';
import { readCheckpoint, resolveCheckpoint } from '../train/checkpoint.js';

const RUNS = 180;

async function repeats(seed: ArchSpec, result: ArchSpec, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const [s = Number.NaN, f = Number.NaN] = await measureTogether([seed, result], RUNS, 'wasm');
    console.log(`result / seed ${(f / s).toFixed(3)} (seed p10 ${s.toFixed(3)} ms)`);
  }
}

async function baseline(seedArch: ArchSpec, result: ArchSpec): Promise<void> {
  const seed = materialise(seedArch);
  const lat = await openNetadaptLatency({ kind: 'measure' }, { seed, backend: 'wasm' });
  const judged = await lat.confirm(result);
  const b = await baselineWidth(seedArch, { spec: result, ms: judged.ms }, lat);
  const [s = Number.NaN, f = Number.NaN, w = Number.NaN] = await measureTogether([seed, result, b.spec], RUNS, 'wasm');
  console.log(`baseline width ${b.width.toFixed(3)}; together: result ${(f / s).toFixed(3)}x, baseline ${(w / s).toFixed(3)}x of the seed, baseline / result ${(w / f).toFixed(3)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seed: { type: 'string' }, result: { type: 'string' }, repeats: { type: 'string', default: '6' }, baseline: { type: 'boolean', default: false } },
  });
  if (values.seed === undefined || values.result === undefined) throw new Error('usage: --seed CHECKPOINT --result SPEC.json [--repeats N] [--baseline]');
  const ck = await readCheckpoint(await resolveCheckpoint(values.seed));
  const result = validateArchSpec(JSON.parse(readFileSync(values.result, 'utf8')));
  await repeats(materialise(ck.arch), result, Number(values.repeats));
  if (values.baseline) await baseline(ck.arch, result);
}

await main();

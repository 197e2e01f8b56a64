// The zero-cost scores (zero-cost/score.ts) of a few architectures, with their cost: MobileNetV3-Small (small input:
// stem stride 1) at widths 0.35 to 1.0, and uniform samples of a search space, on one seeded minibatch of the
// dataset. A quick check that the scores are not nonsense (they should rise with width) and of what one costs.
// Run: node dist/bench/zero-cost.js [--dataset fashion-mnist] [--input 32] [--samples 8] [--batch 64] [--seed 0] [--json]
import seedrandom from 'seedrandom';
import { useBackend } from '../backend/select.js';
import { isDatasetName } from '../data/load.js';
import { applySample, sampleUniform } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';
import { loadArch } from '../space/load.js';
import { costOf } from '../space/cost.js';
import { resolve } from '../space/resolve.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { ZERO_COST_SCORES } from '../zero-cost/config.js';
import { minibatch } from '../zero-cost/minibatch.js';
import { scoreAccuracy } from '../zero-cost/accuracy.js';
import { zeroCostScore } from '../zero-cost/score.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const dataset = arg('dataset', 'fashion-mnist');
const input = Number(arg('input', '32'));
const samples = Number(arg('samples', '8'));
const batchSize = Number(arg('batch', '64'));
const seed = Number(arg('seed', '0'));
const spaceName = arg('space', 'mnasnet-small-input');
const json = process.argv.includes('--json');

function architectures(): { label: string; arch: ArchSpec }[] {
  const out = [0.35, 0.5, 0.75, 1].map((width) => ({
    label: `mobilenetv3-small x${width}`,
    arch: loadArch(['mobilenetv3-small'], { width, smallInput: true, input, classes: 10, channels: 1 }),
  }));
  const space = builtinSpace(spaceName);
  const rng = seedrandom(`zero-cost-bench-${seed}`);
  for (let i = 0; i < samples; i++) {
    const arch = applySample(space, sampleUniform(space, rng));
    out.push({ label: `${spaceName} #${i}`, arch: { ...arch, input: { ...arch.input, size: input } } });
  }
  return out;
}

async function main(): Promise<void> {
  if (!isDatasetName(dataset)) throw new Error(`--dataset ${dataset}: unknown`);
  await useBackend('wasm');
  const rows = [];
  for (const { label, arch } of architectures()) {
    const { batch } = await minibatch({ dataset, dataDir: null, fit: 'resize', batch: batchSize, dataSeed: seed, input: arch.input });
    const cost = costOf(resolve(arch));
    const row: Record<string, number | string> = { label, arch: encodeArch(arch), params: cost.params, madds: cost.madds };
    for (const name of ZERO_COST_SCORES) {
      const r = zeroCostScore(name, arch, batch, seed);
      row[name] = r.score;
      row[`${name}Accuracy`] = scoreAccuracy(name, r.score, { center: null, scale: null });
      row[`${name}Seconds`] = r.seconds;
    }
    rows.push(row);
    if (!json) {
      const f = (k: string, d: number): string => Number(row[k]).toFixed(d);
      process.stdout.write(
        `${label.padEnd(28)} params ${String(cost.params).padStart(8)}  MAdds ${String(cost.madds).padStart(9)}  ` +
          `naswot ${f('naswot', 1)} (${f('naswotSeconds', 2)} s, acc ${f('naswotAccuracy', 3)})  ` +
          `ln synflow ${f('synflow', 2)} (${f('synflowSeconds', 2)} s, acc ${f('synflowAccuracy', 3)})\n`,
      );
    }
  }
  if (json) process.stdout.write(`${JSON.stringify({ dataset, input, batch: batchSize, seed, rows }, null, 1)}\n`);
}

await main();

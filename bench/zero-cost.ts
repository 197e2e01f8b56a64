// The zero-cost scores (zero-cost/score.ts) of a few architectures, with their cost: MobileNetV3-Small (small input:
// stem stride 1) at widths 0.35 to 1.0 and uniform samples of a search space, or the done candidates of a stored
// search run (--db, --run) with the Kendall tau of each score against the run's accuracy (a proxy evaluator's). All
// on one seeded minibatch of the dataset. A quick check that the scores are not nonsense, and of what one costs.
// Run: node dist/bench/zero-cost.js [--dataset fashion-mnist] [--input 32] [--samples 8] [--batch 64] [--seed 0]
//      [--db FILE --run RUN] [--json]
import seedrandom from 'seedrandom';
import { useBackend } from '../backend/select.js';
import { isJsonObject } from '../common/json.js';
import { isDatasetName } from '../data/load.js';
import { kendallTau } from '../latency/stats.js';
import { openStore } from '../results/store.js';
import type { ArchSpec } from '../space/arch.js';
import { decodeArch, encodeArch } from '../space/blockString.js';
import { costOf } from '../space/cost.js';
import { loadArch } from '../space/load.js';
import { resolve } from '../space/resolve.js';
import { applySample, sampleUniform } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';
import { mappedValue, scoreAccuracy } from '../zero-cost/accuracy.js';
import { ZERO_COST_SCORES } from '../zero-cost/config.js';
import { minibatch } from '../zero-cost/minibatch.js';
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
const db = arg('db', '');
const runId = arg('run', '');
const json = process.argv.includes('--json');

interface Subject {
  readonly label: string;
  readonly arch: ArchSpec;
  /** The accuracy a stored run measured (its evaluator's), when the subject comes from one. */
  readonly accuracy: number | null;
}

const atInput = (arch: ArchSpec): ArchSpec => ({ ...arch, input: { ...arch.input, size: input } });

function referenceAndSamples(): Subject[] {
  const out: Subject[] = [0.35, 0.5, 0.75, 1].map((width) => ({
    label: `mobilenetv3-small x${width}`,
    arch: loadArch(['mobilenetv3-small'], { width, smallInput: true, input, classes: 10, channels: 1 }),
    accuracy: null,
  }));
  const space = builtinSpace(spaceName);
  const rng = seedrandom(`zero-cost-bench-${seed}`);
  for (let i = 0; i < samples; i++) {
    out.push({ label: `${spaceName} #${i}`, arch: atInput(applySample(space, sampleUniform(space, rng))), accuracy: null });
  }
  return out;
}

function storedRun(): Subject[] {
  const store = openStore(db, { readonly: true });
  try {
    return store.listCandidates(runId, { status: 'done', orderBy: 'seq' }).map((c) => {
      const m = c.metrics ?? undefined;
      const acc = isJsonObject(m) && typeof m['accuracy'] === 'number' ? m['accuracy'] : null;
      return { label: `${runId} seq ${c.seq}`, arch: atInput(decodeArch(c.arch)), accuracy: acc };
    });
  } finally {
    store.close();
  }
}

async function scoreRow(s: Subject): Promise<Record<string, number | string | null>> {
  if (!isDatasetName(dataset)) throw new Error(`--dataset ${dataset}: unknown`);
  const { batch } = await minibatch({ dataset, dataDir: null, fit: 'resize', batch: batchSize, dataSeed: seed, input: s.arch.input });
  const cost = costOf(resolve(s.arch));
  const row: Record<string, number | string | null> = {
    label: s.label,
    arch: encodeArch(s.arch),
    params: cost.params,
    madds: cost.madds,
    accuracy: s.accuracy,
  };
  for (const name of ZERO_COST_SCORES) {
    const r = zeroCostScore(name, s.arch, batch, seed);
    row[name] = r.score;
    row[`${name}Accuracy`] = scoreAccuracy(name, mappedValue(name, r.score, batch.count), { center: null, scale: null });
    row[`${name}Seconds`] = r.seconds;
  }
  return row;
}

function line(row: Record<string, number | string | null>): string {
  const f = (k: string, d: number): string => Number(row[k]).toFixed(d);
  const acc = row['accuracy'] === null ? '' : `  accuracy ${f('accuracy', 4)}`;
  return (
    `${String(row['label']).padEnd(28)} params ${String(row['params']).padStart(8)}  MAdds ${String(row['madds']).padStart(9)}${acc}  ` +
    `naswot ${f('naswot', 1)} (${f('naswotSeconds', 2)} s, acc ${f('naswotAccuracy', 3)})  ` +
    `ln synflow ${f('synflow', 2)} (${f('synflowSeconds', 2)} s, acc ${f('synflowAccuracy', 3)})`
  );
}

/** Kendall tau of each score, params and MAdds against the stored accuracy (rows that have one). */
function taus(rows: readonly Record<string, number | string | null>[]): Record<string, number> | null {
  const withAcc = rows.filter((r) => typeof r['accuracy'] === 'number');
  if (withAcc.length < 3) return null;
  const acc = withAcc.map((r) => Number(r['accuracy']));
  return Object.fromEntries(['naswot', 'synflow', 'params', 'madds'].map((k) => [k, kendallTau(withAcc.map((r) => Number(r[k])), acc)]));
}

async function main(): Promise<void> {
  await useBackend('wasm');
  const rows = [];
  for (const s of db === '' ? referenceAndSamples() : storedRun()) {
    const row = await scoreRow(s);
    rows.push(row);
    if (!json) process.stdout.write(`${line(row)}\n`);
  }
  const tau = taus(rows);
  if (json) process.stdout.write(`${JSON.stringify({ dataset, input, batch: batchSize, seed, rows, kendallTau: tau }, null, 1)}\n`);
  else if (tau !== null) {
    const text = Object.entries(tau).map(([k, v]) => `${k} ${v.toFixed(3)}`);
    process.stdout.write(`Kendall tau against the run's accuracy: ${text.join(', ')}\n`);
  }
}

await main();

// `nas train-final` against PyTorch on Fashion-MNIST: MobileNetV3-Small, the same recipe, input, batch and epochs,
// for each seed one side after the other, one thread each. The recipe is read by our parser (so keys left out take
// train/config.ts's defaults) and handed to both sides in full; the PyTorch peer (bench/torch_train_fashion.py) takes
// every optimizer and schedule our recipes use. Prints both test top-1 figures per seed, the means over the seeds,
// their difference, and the training speed ratio.
// Usage: node dist/bench/train-final-vs-pytorch.js [--config configs/small-data.json] [--seeds 0,1] [--epochs 3]
//        [--input 32] [--limit N] [--json]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONFIGS_DIR, parseTrainConfig } from '../train/config.js';
import { PYTHON, runJson } from './runJson.js';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: join(CONFIGS_DIR, 'small-data.json') },
    seeds: { type: 'string', default: '0' },
    epochs: { type: 'string', default: '3' },
    input: { type: 'string', default: '32' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const seeds = values.seeds.split(',').map(Number);
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) {
  process.stderr.write(`--seeds must be comma-separated non-negative integers, got ${values.seeds}\n`);
  process.exit(2);
}

interface SeedResult {
  readonly seed: number;
  readonly nas: number;
  readonly pytorch: number;
  readonly nasImagesPerSec: number;
  readonly pytorchImagesPerSec: number;
}

const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const peer = fileURLToPath(new URL('../../bench/torch_train_fashion.py', import.meta.url));
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (x: number): string => (100 * x).toFixed(2);

function runSeed(dir: string, recipe: string, seed: number): SeedResult {
  const common = ['--epochs', values.epochs, '--input', values.input, ...(values.limit ? ['--limit', values.limit] : [])];
  const ours = runJson(process.execPath, [
    cli, 'train-final', '--variant', 'small', '--data', 'fashion-mnist', '--config', recipe, '--seed', String(seed),
    '--backend', 'wasm', '--out', join(dir, `run-s${seed}`), '--db', join(dir, 'nas.db'), '--json', ...common,
  ]);
  const torch = runJson(PYTHON, [peer, '--config', recipe, '--seed', String(seed), '--threads', '1', ...common]);
  return {
    seed,
    nas: Number((ours['test'] as { top1: number }).top1),
    pytorch: Number(torch['testTop1']),
    nasImagesPerSec: Number(ours['imagesPerSec']),
    pytorchImagesPerSec: Number(torch['imagesPerSec']),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'nas-bench-'));
try {
  const config = parseTrainConfig(JSON.parse(readFileSync(values.config, 'utf8')));
  const recipe = join(dir, 'recipe.json');
  writeFileSync(recipe, JSON.stringify(config, null, 2));
  const runs = seeds.map((s) => runSeed(dir, recipe, s));
  const nasMean = mean(runs.map((r) => r.nas));
  const torchMean = mean(runs.map((r) => r.pytorch));
  const result = {
    config: values.config,
    optimizer: config.optimizer.type,
    epochs: Number(values.epochs),
    input: Number(values.input),
    runs,
    nasMean,
    pytorchMean: torchMean,
    top1Difference: nasMean - torchMean,
    speedRatio: mean(runs.map((r) => r.nasImagesPerSec)) / mean(runs.map((r) => r.pytorchImagesPerSec)),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const lines = runs.map((r) => `seed ${r.seed}: nas ${pct(r.nas)}%  PyTorch ${pct(r.pytorch)}%  difference ${pct(r.nas - r.pytorch)}`);
    process.stdout.write(
      `MobileNetV3-Small on Fashion-MNIST, input ${values.input}, ${values.epochs} epochs, ${values.config} (${config.optimizer.type})\n` +
        `${lines.join('\n')}\n` +
        `mean over ${runs.length} seed(s): nas ${pct(nasMean)}%  PyTorch ${pct(torchMean)}%  difference ${pct(result.top1Difference)} points\n` +
        `speed ratio nas / PyTorch ${result.speedRatio.toFixed(2)}x\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// `nas train-final` against PyTorch on Fashion-MNIST: MobileNetV3-Small, the same recipe file
// (configs/small-data.json), input, batch and epochs, one after the other in one run, one thread each.
// Prints both test top-1 figures, both training images/s and the ratios.
// Usage: node dist/bench/train-final-vs-pytorch.js [--epochs 3] [--input 32] [--limit N] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runJson } from './runJson.js';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '3' },
    input: { type: 'string', default: '32' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const peer = fileURLToPath(new URL('../../bench/torch_train_fashion.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nas-bench-'));
try {
  const limit = values.limit ? ['--limit', values.limit] : [];
  const ours = runJson(process.execPath, [
    cli, 'train-final', '--variant', 'small', '--data', 'fashion-mnist', '--input', values.input, '--epochs', values.epochs,
    '--backend', 'wasm', '--out', join(dir, 'run'), '--db', join(dir, 'nas.db'), '--json', ...limit,
  ]);
  const torch = runJson('/usr/bin/python3', [peer, '--epochs', values.epochs, '--input', values.input, '--threads', '1', ...limit]);
  const oursTop1 = Number((ours['test'] as { top1: number }).top1);
  const torchTop1 = Number(torch['testTop1']);
  const oursIps = Number(ours['imagesPerSec']);
  const torchIps = Number(torch['imagesPerSec']);
  const result = {
    epochs: Number(values.epochs),
    input: Number(values.input),
    nas: { testTop1: oursTop1, imagesPerSec: oursIps },
    pytorch: { testTop1: torchTop1, imagesPerSec: torchIps, version: torch['version'] },
    top1Difference: oursTop1 - torchTop1,
    speedRatio: oursIps / torchIps,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    process.stdout.write(
      `MobileNetV3-Small on Fashion-MNIST, input ${values.input}, ${values.epochs} epochs, configs/small-data.json\n` +
        `nas:     test top-1 ${(100 * oursTop1).toFixed(2)}%, ${oursIps.toFixed(0)} images/s\n` +
        `PyTorch: test top-1 ${(100 * torchTop1).toFixed(2)}%, ${torchIps.toFixed(0)} images/s\n` +
        `difference ${(100 * result.top1Difference).toFixed(2)} points; speed ratio nas / PyTorch ${result.speedRatio.toFixed(2)}x\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

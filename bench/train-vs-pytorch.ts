// Training speed of nas (wasm + our kernels, one thread) against PyTorch (torchvision's model, one thread) on
// the same network, input and batch, measured one after the other in one run. Prints both and the ratio.
// Usage: node dist/bench/train-vs-pytorch.js [--arch mobilenetv3-small] [--input 32] [--classes 10]
//        [--batch 64] [--steps 20] [--backend wasm] [--json]
// (bench/train-scaling.ts measures the same pair at 1..N threads.)
import { parseArgs } from 'node:util';
import { isTorchArch, measurePair } from './trainPair.js';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'mobilenetv3-small' },
    input: { type: 'string', default: '32' },
    classes: { type: 'string', default: '10' },
    batch: { type: 'string', default: '64' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'wasm' },
    json: { type: 'boolean', default: false },
  },
});

const arch = values.arch;
if (!isTorchArch(arch)) {
  process.stderr.write(`--arch must be mobilenetv3-small or mobilenetv3-large (torchvision has those), got ${arch}\n`);
  process.exit(2);
}

const settings = {
  arch, input: Number(values.input), classes: Number(values.classes), batch: Number(values.batch),
  steps: Number(values.steps), warmup: Number(values.warmup), backend: values.backend, threads: 1,
};
const { nas, pytorch, ratio } = measurePair(settings);
const result = {
  arch, input: settings.input, classes: settings.classes, batch: settings.batch,
  nas, pytorch, ratio,
};
if (values.json) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  process.stdout.write(
    `${arch}, input ${values.input}, ${values.classes} classes, batch ${values.batch}, one thread\n` +
      `nas (${nas.backend}): ${nas.imagesPerSec.toFixed(1)} images/s (${nas.msPerStep.toFixed(1)} ms/step)\n` +
      `PyTorch ${pytorch.version}: ${pytorch.imagesPerSec.toFixed(1)} images/s (${pytorch.msPerStep.toFixed(1)} ms/step)\n` +
      `ratio nas / PyTorch: ${ratio.toFixed(2)}x\n`,
  );
}

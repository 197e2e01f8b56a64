// Training speed of nas (wasm + our kernels, one thread) against PyTorch (torchvision's model, one thread) on
// the same network, input and batch, measured one after the other in one run. Prints both and the ratio.
// Usage: node dist/bench/train-vs-pytorch.js [--arch mobilenetv3-small] [--input 32] [--classes 10]
//        [--batch 64] [--steps 20] [--backend wasm] [--json]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PYTHON, runJson } from './runJson.js';

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

if (values.arch !== 'mobilenetv3-small' && values.arch !== 'mobilenetv3-large') {
  process.stderr.write(`--arch must be mobilenetv3-small or mobilenetv3-large (torchvision has those), got ${values.arch}\n`);
  process.exit(2);
}

const common = ['--input', values.input, '--classes', values.classes, '--batch', values.batch, '--steps', values.steps, '--warmup', values.warmup];
const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const torchScript = fileURLToPath(new URL('../../bench/torch_train.py', import.meta.url));

const ours = runJson(process.execPath, [cli, 'bench', 'train', '--arch', values.arch, '--backend', values.backend, '--threads', '1', '--json', ...common]);
const torch = runJson(PYTHON, [torchScript, '--arch', values.arch, '--threads', '1', ...common]);
const oursIps = Number(ours['imagesPerSec']);
const torchIps = Number(torch['imagesPerSec']);
const result = {
  arch: values.arch,
  input: Number(values.input),
  classes: Number(values.classes),
  batch: Number(values.batch),
  nas: { backend: ours['backend'], imagesPerSec: oursIps, msPerStep: ours['msPerStep'] },
  pytorch: { version: torch['version'], imagesPerSec: torchIps, msPerStep: torch['msPerStep'] },
  ratio: oursIps / torchIps,
};
if (values.json) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  process.stdout.write(
    `${values.arch}, input ${values.input}, ${values.classes} classes, batch ${values.batch}, one thread\n` +
      `nas (${String(ours['backend'])}): ${oursIps.toFixed(1)} images/s (${Number(ours['msPerStep']).toFixed(1)} ms/step)\n` +
      `PyTorch ${String(torch['version'])}: ${torchIps.toFixed(1)} images/s (${Number(torch['msPerStep']).toFixed(1)} ms/step)\n` +
      `ratio nas / PyTorch: ${result.ratio.toFixed(2)}x\n`,
  );
}

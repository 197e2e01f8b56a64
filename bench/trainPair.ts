// One training-speed measurement of nas (`nas bench train`, in a child process) and PyTorch (bench/torch_train.py,
// torchvision's model) on the same network, input, batch and thread count, one after the other; shared by
// bench/train-vs-pytorch.ts (one thread) and bench/train-scaling.ts (1..N threads).
import { fileURLToPath } from 'node:url';
import { PYTHON, runJson } from './runJson.js';

export const torchArchs = ['mobilenetv3-small', 'mobilenetv3-large'] as const;
export type TorchArch = (typeof torchArchs)[number];

export interface PairSettings {
  readonly arch: TorchArch;
  readonly input: number;
  readonly classes: number;
  readonly batch: number;
  readonly steps: number;
  readonly warmup: number;
  readonly backend: string;
  readonly threads: number;
}

export interface Side {
  readonly imagesPerSec: number;
  readonly msPerStep: number;
}

export interface PairResult {
  readonly nas: Side & { readonly backend: string };
  readonly pytorch: Side & { readonly version: string };
  /** nas images/s over PyTorch's. */
  readonly ratio: number;
}

const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const torchScript = fileURLToPath(new URL('../../bench/torch_train.py', import.meta.url));

/** Whether `v` names a network torchvision has (the PyTorch side needs its model). */
export function isTorchArch(v: string): v is TorchArch {
  return torchArchs.some((a) => a === v);
}

export function measurePair(s: PairSettings): PairResult {
  const common = ['--input', s.input, '--classes', s.classes, '--batch', s.batch, '--steps', s.steps, '--warmup', s.warmup, '--threads', s.threads].map(String);
  const ours = runJson(process.execPath, [cli, 'bench', 'train', '--arch', s.arch, '--backend', s.backend, '--json', ...common]);
  const torch = runJson(PYTHON, [torchScript, '--arch', s.arch, ...common]);
  const nas = { backend: String(ours['backend']), imagesPerSec: Number(ours['imagesPerSec']), msPerStep: Number(ours['msPerStep']) };
  const pytorch = { version: String(torch['version']), imagesPerSec: Number(torch['imagesPerSec']), msPerStep: Number(torch['msPerStep']) };
  return { nas, pytorch, ratio: nas.imagesPerSec / pytorch.imagesPerSec };
}

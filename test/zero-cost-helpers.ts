// A tiny network with fixed weights for the zero-cost tests and the PyTorch reference of synflow
// (test/reference/synflow_torch.py). It has every piece synflow's forward pass handles: 'same' padding at stride 2
// on an odd size, a regular conv, an ir block with expand, SE (hard-sigmoid) and residual, a ds block with a MnasNet
// SE (sigmoid), ReLU, ReLU6 and hard-swish, head.hidden and biases.
// Reference numbers (after npx tsc -p tsconfig.json):
//   node -e "import('./dist/test/zero-cost-helpers.js').then((m) => console.log(JSON.stringify(m.tinyNetJson())))" \
//     | /usr/bin/python3 test/reference/synflow_torch.py
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../model/build.js';
import { decodeArch } from '../space/blockString.js';
import { type ResolvedArch, resolve } from '../space/resolve.js';

export const TINY_ARCH =
  'v1_in9x2_cls3_w1_padsame_bn0.99_eps0.001_drop0.2:stem_k3_s2_c8_hs:conv_k3_s1_c8_r6:ir_k3_s1_x16_c8_se_hs,ds_k3_s2_c8_sem0.5_re:head_c16_h8_hs';

/** The fixed value of entry i of the j-th weight tensor: signs mixed, magnitudes 0.05 to 0.3 (|theta| is used). */
function fixedValue(i: number, j: number): number {
  const v = (((i * 7 + j * 3) % 11) - 4) / 20;
  return v === 0 ? 0.05 : v;
}

/** The tiny network with fixed kernels and biases (batch norm keeps its initial gamma 1, beta 0, mean 0, var 1). */
export function tinyNet(text = TINY_ARCH): { arch: ResolvedArch; model: tf.LayersModel } {
  const arch = resolve(decodeArch(text));
  const model = buildModel(arch, { seed: 1 });
  model.weights.forEach((w, j) => {
    if (!/(kernel|bias)$/.test(w.originalName)) return;
    const n = w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
    w.write(tf.tensor(Array.from({ length: n }, (_, i) => fixedValue(i, j)), w.shape.map((d) => d ?? 1)));
  });
  return { arch, model };
}

/** What the PyTorch reference reads: the resolved architecture and every weight by name (shape, values). */
export function tinyNetJson(): unknown {
  const { arch, model } = tinyNet();
  const weights = Object.fromEntries(model.weights.map((w) => [w.originalName, { shape: w.shape, data: Array.from(w.read().dataSync()) }]));
  return { arch: { ...arch, spec: undefined }, weights };
}

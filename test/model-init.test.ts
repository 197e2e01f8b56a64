// The builder's initial weights follow torchvision's MobileNetV3 init, which `nas train-final` is measured against
// (bench/train-final-vs-pytorch.ts): convolutions kaiming-normal with PyTorch's fan-out, linear layers N(0, 0.01).
// The expected spread is computed here from PyTorch's own rule (torch.nn.init: fan-out = weight.shape[0] x kernel
// area, on PyTorch's weight layout; groups do not divide it), independently of model/layers.ts. With tfjs's
// varianceScaling (truncated at 2 sigma, a depthwise fan-out of k^2 alone) SGD trained 1.8 points worse.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { buildModel } from '../model/build.js';
import { ConvBn, DenseAct, SqueezeExcite } from '../model/layers.js';
import { referenceArch } from '../space/reference.js';
import { resolve } from '../space/resolve.js';

interface Kernel {
  readonly name: string;
  readonly data: Float32Array;
  /** The standard deviation torchvision draws this weight with. */
  readonly std: number;
}

/** torch.nn.init's fan-out of a weight in PyTorch's layout [out, in / groups, kh, kw] (or [out, in]). */
function torchFanOut(torchShape: readonly number[]): number {
  return torchShape.reduce((a, b, i) => (i === 1 ? a : a * b), 1);
}

/** Our kernel's shape in PyTorch's layout: conv HWIO -> OIHW, depthwise [k, k, C, 1] -> [C, 1, k, k], SE [in, out] -> [out, in, 1, 1]. */
function torchShape(shape: readonly (number | null)[], depthwise: boolean): number[] {
  const [a = 1, b = 1, c = 1, d = 1] = shape.map((x) => x ?? 1);
  if (shape.length === 2) return [b, a, 1, 1];
  return depthwise ? [c, 1, a, b] : [d, c, a, b];
}

function kernels(model: tf.LayersModel): { conv: Kernel[]; linear: Kernel[] } {
  const conv: Kernel[] = [];
  const linear: Kernel[] = [];
  const add = (list: Kernel[], w: tf.LayerVariable, std: number): void => {
    list.push({ name: w.originalName, data: w.read().dataSync() as Float32Array, std });
  };
  for (const layer of model.layers) {
    const depthwise = layer instanceof ConvBn && layer.getConfig()['depthwise'] === true;
    for (const w of layer.weights) {
      if (!/kernel$/.test(w.originalName)) continue;
      if (layer instanceof DenseAct) add(linear, w, 0.01);
      else if (layer instanceof ConvBn || layer instanceof SqueezeExcite) add(conv, w, Math.sqrt(2 / torchFanOut(torchShape(w.shape, depthwise))));
      else assert.fail(`unexpected kernel ${w.originalName} in ${layer.getClassName()}`);
    }
  }
  return { conv, linear };
}

function sampleStd(x: Float32Array): number {
  let s = 0;
  let q = 0;
  for (const v of x) {
    s += v;
    q += v * v;
  }
  const m = s / x.length;
  return Math.sqrt(q / x.length - m * m);
}

describe('initial weights are torchvision\'s', () => {
  let conv: Kernel[] = [];
  let linear: Kernel[] = [];
  before(async () => {
    await useBackend('wasm');
    const arch = resolve({ ...referenceArch('mobilenetv3-small'), input: { size: 32, channels: 3 }, classes: 10 });
    const model = buildModel(arch, { seed: 3 });
    ({ conv, linear } = kernels(model));
    model.dispose();
  });

  it('every convolution kernel (depthwise and squeeze-excite included) has std sqrt(2 / PyTorch fan-out)', () => {
    assert.ok(conv.length > 40 && conv.some((k) => k.name.endsWith('dw/kernel')), 'MobileNetV3-Small has depthwise kernels');
    for (const k of [...conv, ...linear]) {
      const ratio = sampleStd(k.data) / k.std;
      // Four standard errors of a sample std (1 / sqrt(2n)), plus a little.
      const tol = 4 / Math.sqrt(2 * k.data.length) + 0.02;
      assert.ok(Math.abs(ratio - 1) < tol, `${k.name}: std ${sampleStd(k.data).toExponential(3)}, torchvision's ${k.std.toExponential(3)} (ratio ${ratio.toFixed(3)})`);
    }
  });

  it('convolution weights are normal, not truncated: std 1 and 1.24% beyond 2.5 sigma once standardised', () => {
    let n = 0;
    let sq = 0;
    let tail = 0;
    for (const k of conv) {
      for (const v of k.data) {
        const z = v / k.std;
        n++;
        sq += z * z;
        if (Math.abs(z) > 2.5) tail++;
      }
    }
    // A standard normal: P(|z| > 2.5) = 0.0124; truncation at 2 sigma gives 0 and a std of 0.88.
    assert.ok(n > 300_000, `${n} convolution weights`);
    assert.ok(Math.abs(Math.sqrt(sq / n) - 1) < 0.01, `pooled std ${Math.sqrt(sq / n).toFixed(4)}`);
    assert.ok(Math.abs(tail / n - 0.0124) < 0.002, `fraction beyond 2.5 sigma ${(tail / n).toFixed(4)}`);
  });
});

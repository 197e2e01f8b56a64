// MobileNetV3 built from our IR, given torchvision's weights, must produce torchvision's logits at 224x224.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { buildModel } from '../model/build.js';
import { importTorchvisionMobileNetV3 } from '../model/importTorchvision.js';
import { readSafetensors } from '../model/safetensors.js';
import { referenceArch } from '../space/reference.js';
import { resolve } from '../space/resolve.js';

const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('../../test/reference/torchvision_mobilenetv3.py', import.meta.url));
const probe = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : 'python3-torch / python3-torchvision are not installed (apt-get install python3-torchvision)';

describe('torchvision MobileNetV3 weights give torchvision logits', { skip }, () => {
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nas-tv-'));
    await useBackend('wasm');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const variant of ['small', 'large'] as const) {
    it(`mobilenetv3-${variant}: max |logit difference| <= 1e-3 at 224x224`, () => {
      const out = join(dir, variant);
      const r = spawnSync(python, [script, variant, out, '--size', '224', '--batch', '2'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const arch = resolve(referenceArch(`mobilenetv3-${variant}`));
      const model = buildModel(arch);
      importTorchvisionMobileNetV3(model, arch, readSafetensors(join(out, 'weights.safetensors')));
      const io = readSafetensors(join(out, 'io.safetensors'));
      const input = io.get('input');
      const expected = io.get('logits');
      assert.ok(input && expected);
      const logits = tf.tidy(() => {
        const nhwc = tf.transpose(tf.tensor(input.data, [...input.shape]), [0, 2, 3, 1]);
        return (model.predict(nhwc) as tf.Tensor).dataSync();
      });
      let maxDiff = 0;
      let maxRef = 0;
      for (let i = 0; i < expected.data.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs((logits[i] ?? Number.NaN) - (expected.data[i] ?? 0)));
        maxRef = Math.max(maxRef, Math.abs(expected.data[i] ?? 0));
      }
      assert.equal(logits.length, expected.data.length);
      assert.ok(maxRef > 0.5, `reference logits are too small to compare (${maxRef})`);
      assert.ok(maxDiff <= 1e-3, `max |diff| ${maxDiff} (max |logit| ${maxRef})`);
      model.dispose();
    });
  }
});

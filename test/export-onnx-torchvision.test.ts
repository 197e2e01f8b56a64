// The same weights, two exporters, one runtime: torchvision's MobileNetV3 (seeded, batch norm calibrated, as
// torchvision-logits.test.ts) exported by torch.onnx.export, and the same state_dict imported into ours and exported
// by us: ONNX Runtime gives the same logits for both, and PyTorch's, within 1e-3. Small goes through the CLI
// (`nas import-weights`, `nas export --format onnx`); Large through the same library calls in this process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../backend/select.js';
import { preprocessingFor } from '../data/load.js';
import { makeModelCard } from '../model/card.js';
import { ONNX_MODEL_FILE, onnxModelBytes } from '../model/exportOnnx.js';
import { foldModel } from '../model/fold.js';
import { importWeights } from '../model/importWeights.js';
import { type NamedArray, readSafetensors } from '../model/safetensors.js';
import { referenceArch } from '../space/reference.js';
import { resolve } from '../space/resolve.js';
import { runCli } from './cli-helpers.js';
import { maxAbs, maxAbsDiff, ortRun } from './onnx-helpers.js';

const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('../../test/reference/torchvision_mobilenetv3.py', import.meta.url));
const probe = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : 'python3-torch / python3-torchvision are not installed (apt-get install python3-torchvision)';
const TOLERANCE = 1e-3;

/** torchvision's model of `variant` written by the reference script into `out`: weights, io and torchvision.onnx. */
function torchvisionReference(variant: 'small' | 'large', out: string): { input: NamedArray; pytorch: NamedArray } {
  const py = spawnSync(python, [script, variant, out, '--size', '224', '--batch', '2', '--onnx'], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  const io = readSafetensors(join(out, 'io.safetensors'));
  const input = io.get('input');
  const pytorch = io.get('logits');
  assert.ok(input && pytorch);
  assert.ok(maxAbs(pytorch.data) > 0.5, `reference logits are too small to compare (${maxAbs(pytorch.data)})`);
  return { input, pytorch };
}

/** Ours and torch.onnx.export's model in ONNX Runtime on the reference input: both within 1e-3 of each other and of PyTorch. */
async function compare(what: string, ours: string | Uint8Array, ref: string, input: NamedArray, pytorch: NamedArray): Promise<void> {
  const mine = await ortRun(ours, input.data, input.shape);
  const theirs = await ortRun(join(ref, 'torchvision.onnx'), input.data, input.shape);
  const d = maxAbsDiff(mine, theirs);
  assert.ok(d <= TOLERANCE, `${what}: ours vs torch.onnx.export in ONNX Runtime: max |diff| ${d.toExponential(2)}`);
  const eager = maxAbsDiff(mine, pytorch.data);
  assert.ok(eager <= TOLERANCE, `${what}: ours in ONNX Runtime vs PyTorch eager: max |diff| ${eager.toExponential(2)}`);
  process.stdout.write(`# ${what}: max |logit diff| ours vs torch.onnx.export ${d.toExponential(2)}, vs PyTorch ${eager.toExponential(2)}\n`);
}

describe('torchvision MobileNetV3: our ONNX export = torch.onnx.export in ONNX Runtime', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-onnx-tv-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('small, through nas import-weights and nas export: the logits of torch.onnx.export and PyTorch within 1e-3', async () => {
    const ref = join(dir, 'small');
    const { input, pytorch } = torchvisionReference('small', ref);
    const run = join(dir, 'run');
    const weights = join(ref, 'weights.safetensors');
    const imported = runCli(['import-weights', '--from', 'torchvision', '--arch', 'mobilenetv3-small', '--weights', weights, '--out', run]);
    assert.equal(imported.status, 0, imported.stderr);
    const exported = runCli(['export', '--checkpoint', run, '--format', 'onnx', '--out', join(dir, 'ours')]);
    assert.equal(exported.status, 0, exported.stderr);
    await compare('mobilenetv3-small', join(dir, 'ours', ONNX_MODEL_FILE), ref, input, pytorch);
  });

  it('large, through importWeights and onnxModelBytes: the logits of torch.onnx.export and PyTorch within 1e-3', async () => {
    const ref = join(dir, 'large');
    const { input, pytorch } = torchvisionReference('large', ref);
    await useBackend('cpu'); // the import and the export only copy weights
    const { model, spec } = importWeights('torchvision', referenceArch('mobilenetv3-large'), join(ref, 'weights.safetensors'));
    const folded = foldModel(model, resolve(spec));
    model.dispose();
    try {
      const pre = preprocessingFor('folder', { input: { size: 224, channels: 3 }, smallImages: false });
      const card = makeModelCard('folder', Array.from({ length: spec.classes }, (_, i) => `class ${i}`), pre);
      await compare('mobilenetv3-large', onnxModelBytes(folded, spec, card), ref, input, pytorch);
    } finally {
      folded.dispose();
    }
  });
});

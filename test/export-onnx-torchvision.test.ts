// The same weights, two exporters, one runtime: torchvision's MobileNetV3-Small (seeded, batch norm calibrated, as
// torchvision-logits.test.ts) exported by torch.onnx.export, and the same state_dict imported into ours by
// `nas import-weights` and exported by `nas export --format onnx`: ONNX Runtime gives the same logits for both, and
// PyTorch's, within 1e-3.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ONNX_MODEL_FILE } from '../model/exportOnnx.js';
import { readSafetensors } from '../model/safetensors.js';
import { runCli } from './cli-helpers.js';
import { maxAbs, maxAbsDiff, ortRun } from './onnx-helpers.js';

const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('../../test/reference/torchvision_mobilenetv3.py', import.meta.url));
const probe = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : 'python3-torch / python3-torchvision are not installed (apt-get install python3-torchvision)';
const TOLERANCE = 1e-3;

describe('torchvision MobileNetV3-Small: our ONNX export = torch.onnx.export in ONNX Runtime', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-onnx-tv-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the logits of torchvision exported by PyTorch, and PyTorch eager, within 1e-3 at 224x224', async () => {
    const ref = join(dir, 'reference');
    const py = spawnSync(python, [script, 'small', ref, '--size', '224', '--batch', '2', '--onnx'], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    const run = join(dir, 'run');
    const weights = join(ref, 'weights.safetensors');
    const imported = runCli(['import-weights', '--from', 'torchvision', '--arch', 'mobilenetv3-small', '--weights', weights, '--out', run]);
    assert.equal(imported.status, 0, imported.stderr);
    const exported = runCli(['export', '--checkpoint', run, '--format', 'onnx', '--out', join(dir, 'ours')]);
    assert.equal(exported.status, 0, exported.stderr);

    const io = readSafetensors(join(ref, 'io.safetensors'));
    const input = io.get('input');
    const pytorch = io.get('logits');
    assert.ok(input && pytorch);
    const ours = await ortRun(join(dir, 'ours', ONNX_MODEL_FILE), input.data, input.shape);
    const theirs = await ortRun(join(ref, 'torchvision.onnx'), input.data, input.shape);
    assert.ok(maxAbs(pytorch.data) > 0.5, `reference logits are too small to compare (${maxAbs(pytorch.data)})`);
    const d = maxAbsDiff(ours, theirs);
    assert.ok(d <= TOLERANCE, `ours vs torch.onnx.export in ONNX Runtime: max |diff| ${d.toExponential(2)}`);
    const eager = maxAbsDiff(ours, pytorch.data);
    assert.ok(eager <= TOLERANCE, `ours in ONNX Runtime vs PyTorch eager: max |diff| ${eager.toExponential(2)}`);
    process.stdout.write(`# max |logit diff|: ours vs torch.onnx.export ${d.toExponential(2)}, vs PyTorch ${eager.toExponential(2)}\n`);
  });
});

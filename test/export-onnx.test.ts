// `nas export --format onnx`, checked by ONNX Runtime itself: MobileNetV3-Small trained a few steps on MNIST and a
// network of the MnasNet search space (regular, depthwise-separable and inverted-residual blocks, sigmoid
// squeeze-and-excite, ReLU6, residual adds) trained a few steps on Fashion-MNIST are exported through the CLI, and
// ONNX Runtime's logits equal our tfjs logits (the checkpoint loaded as training evaluated it) within 1e-3, on
// random and on real images, at two batch sizes. Bad input gets one line and exit code 2.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { useBackend } from '../backend/select.js';
import { type LoadedDataset, loadDataset } from '../data/load.js';
import type { Batch } from '../data/types.js';
import { buildModel } from '../model/build.js';
import { makeModelCard, MODEL_CARD_FILE, writeModelCard } from '../model/card.js';
import { ONNX_METADATA, ONNX_MODEL_FILE, onnxBytes, onnxModelBytes } from '../model/exportOnnx.js';
import { foldModel } from '../model/fold.js';
import { type EntryPiece, entryInput, entryModel } from '../latency/entryModels.js';
import { convPads } from '../model/onnxConvert.js';
import type { ArchSpec } from '../space/arch.js';
import { referenceArch } from '../space/reference.js';
import { resolve } from '../space/resolve.js';
import { applySample, sampleUniform } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';
import { loadCheckpointModel } from '../train/checkpoint.js';
import { parseTrainConfig } from '../train/config.js';
import { trainModel } from '../train/loop.js';
import { commandHarness, runCli, userError } from './cli-helpers.js';
import { randn } from './ops-helpers.js';
import { fromNchw, type NhwcBatch, maxAbs, maxAbsDiff, ortLogits, readOnnx, tfjsLogits } from './onnx-helpers.js';
import { rng } from './random.js';

const TOLERANCE = 1e-3;
const INPUT = { size: 32, channels: 1 };

const dir = mkdtempSync(join(tmpdir(), 'nas-onnx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A point of the MnasNet space (small-input variant, seed 1) with every op the space has: see the coverage test. */
function searchedArch(): ArchSpec {
  const space = builtinSpace('mnasnet-small-input');
  const arch = applySample(space, sampleUniform(space, rng(1)));
  return { ...arch, input: INPUT, classes: 10 };
}

interface Case {
  readonly name: string;
  readonly arch: ArchSpec;
  readonly dataset: 'mnist' | 'fashion-mnist';
  /** ONNX ops the export must contain (the network's ops). */
  readonly ops: readonly string[];
}

const CASES: readonly Case[] = [
  {
    name: 'mobilenetv3-small',
    arch: { ...referenceArch('mobilenetv3-small'), input: INPUT, classes: 10 },
    dataset: 'mnist',
    ops: ['Conv', 'HardSwish', 'Relu', 'HardSigmoid', 'GlobalAveragePool', 'Mul', 'Add', 'Flatten', 'Gemm'],
  },
  { name: 'searched (mnasnet space)', arch: searchedArch(), dataset: 'fashion-mnist', ops: ['Conv', 'Clip', 'Sigmoid', 'Mul', 'Add', 'Gemm'] },
];

const runDir = (c: Case): string => join(dir, c.name.replace(/\W+/g, '-'), 'run');
const outDir = (c: Case): string => join(dir, c.name.replace(/\W+/g, '-'), 'onnx');
const data = new Map<string, LoadedDataset>();

/** A few real training steps (EMA on, so the exported weights are the averaged ones) and the run's model card. */
async function trainCase(c: Case): Promise<void> {
  const ds = await loadDataset(c.dataset, { input: INPUT, seed: 1, limit: { train: 160, test: 16 } });
  data.set(c.name, ds);
  const config = parseTrainConfig({ epochs: 1, batchSize: 16, optimizer: { type: 'adamw', lr: 0.01 }, schedule: { type: 'constant' }, ema: { decay: 0.5 }, seed: 2 });
  const model = buildModel(resolve(c.arch), { seed: 2 });
  try {
    await trainModel({ model, arch: c.arch, config, train: ds.train, runDir: runDir(c), maxSteps: 8 });
  } finally {
    model.dispose();
  }
  await writeModelCard(runDir(c), makeModelCard(ds.name, ds.classNames, ds.preprocessing));
}

before(async () => {
  await useBackend('wasm');
  for (const c of CASES) await trainCase(c);
});

/** The first `count` test images of the case's dataset, preprocessed as the card says (the evaluation transform). */
async function realImages(c: Case, count: number): Promise<NhwcBatch> {
  const ds = data.get(c.name);
  assert.ok(ds);
  const batches: Batch[] = [];
  for await (const b of ds.test.batches({ batchSize: count, shuffle: false, seed: 0, epoch: 0, augment: false })) batches.push(b);
  const b = batches[0];
  assert.ok(b && b.count === count);
  return { data: b.images, count, ...INPUT };
}

function randomImages(count: number, seed: number): NhwcBatch {
  return { data: randn(count * INPUT.size * INPUT.size * INPUT.channels, seed), count, ...INPUT };
}

for (const c of CASES) {
  describe(`nas export --format onnx: ${c.name}`, () => {
    it('writes model.onnx (opset 17, free batch, NCHW, batch norm folded, class names in its metadata) and the model card', () => {
      const r = runCli(['export', '--checkpoint', runDir(c), '--format', 'onnx', '--out', outDir(c), '--json']);
      assert.equal(r.status, 0, r.stderr);
      const result = JSON.parse(r.stdout) as { format: string; folded: boolean; files: { name: string }[] };
      assert.equal(result.format, 'onnx');
      assert.equal(result.folded, true);
      assert.deepEqual(readdirSync(outDir(c)).sort(), [MODEL_CARD_FILE, ONNX_MODEL_FILE].sort());
      const m = readOnnx(join(outDir(c), ONNX_MODEL_FILE));
      assert.deepEqual(m.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]]);
      const g = m.graph;
      assert.ok(g);
      const dims = (g.input ?? [])[0]?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue));
      assert.deepEqual(dims, ['batch', 1, 32, 32]);
      const ops = new Set((g.node ?? []).map((n) => n.opType));
      for (const op of c.ops) assert.ok(ops.has(op), `${op} in ${[...ops].join(', ')}`);
      for (const op of ['BatchNormalization', 'Dropout']) assert.ok(!ops.has(op), `no ${op}`);
      const meta = new Map(m.metadataProps.map((p) => [p.key, p.value]));
      assert.deepEqual(JSON.parse(meta.get(ONNX_METADATA.classNames) ?? 'null'), data.get(c.name)?.classNames);
      assert.equal(meta.get(ONNX_METADATA.layout), 'NCHW');
      assert.ok((g.initializer ?? []).every((t) => t.dataType === 1 && (t.rawData?.length ?? 0) > 0));
    });

    it('ONNX Runtime gives our tfjs logits within 1e-3 on random and real images, at batch 1 and 8', async () => {
      await useBackend('wasm');
      const { model } = await loadCheckpointModel(runDir(c));
      try {
        const file = join(outDir(c), ONNX_MODEL_FILE);
        for (const [what, batch] of [
          ['random, batch 8', randomImages(8, 11)],
          ['random, batch 1', randomImages(1, 12)],
          [`${c.dataset} test images, batch 8`, await realImages(c, 8)],
        ] as const) {
          const ours = tfjsLogits(model, batch);
          const theirs = await ortLogits(file, batch);
          assert.ok(maxAbs(ours) > 0.05, `${what}: logits ${maxAbs(ours)} are large enough to show an error`);
          const d = maxAbsDiff(theirs, ours);
          assert.ok(d <= TOLERANCE, `${what}: ONNX Runtime differs from tfjs by ${d.toExponential(2)}`);
        }
      } finally {
        model.dispose();
      }
    });
  });
}

describe('ONNX export details', () => {
  it('the searched network has every op of its space: conv, ds and ir blocks, sigmoid SE, ReLU6, residual adds', () => {
    const r = resolve(searchedArch());
    assert.deepEqual(new Set(r.blocks.map((b) => b.type)), new Set(['conv', 'ds', 'ir']));
    assert.ok(r.blocks.some((b) => b.se?.gate === 'sigmoid'));
    assert.ok(r.blocks.some((b) => b.act === 'relu6') && r.blocks.some((b) => b.residual));
  });

  it("TF 'same' padding puts the odd pixel at the bottom and right, as ONNX Runtime then computes", async () => {
    assert.deepEqual(convPads('same', 3, 2, 32, 32), [0, 0, 1, 1]);
    assert.deepEqual(convPads('same', 5, 1, 8, 8), [2, 2, 2, 2]);
    assert.deepEqual(convPads('symmetric', 5, 2, 32, 32), [2, 2, 2, 2]);
    await useBackend('wasm');
    const arch = { ...searchedArch(), padding: 'same' as const };
    const model = buildModel(resolve(arch), { seed: 4 });
    const folded = foldModel(model, resolve(arch));
    try {
      const card = makeModelCard('fashion-mnist', Array.from({ length: 10 }, (_, i) => `c${i}`), data.get(CASES[1]?.name ?? '')!.preprocessing);
      const batch = randomImages(4, 13);
      const d = maxAbsDiff(await ortLogits(onnxModelBytes(folded, arch, card), batch), tfjsLogits(folded, batch));
      assert.ok(d <= TOLERANCE, `same padding: ONNX Runtime differs from tfjs by ${d.toExponential(2)}`);
    } finally {
      model.dispose();
      folded.dispose();
    }
  });
});

describe('ONNX form of latency table entries', () => {
  it('every piece of MobileNetV3-Small (stem, each block, head) runs in ONNX Runtime as in tfjs', async () => {
    await useBackend('wasm');
    const arch = resolve({ ...referenceArch('mobilenetv3-small'), input: INPUT, classes: 10 });
    const pieces: EntryPiece[] = [{ kind: 'stem' }, ...arch.blocks.map((_, index) => ({ kind: 'block' as const, index })), { kind: 'head' }];
    for (const [i, piece] of pieces.entries()) {
      const model = entryModel(arch, piece);
      try {
        const [size, , channels] = entryInput(arch, piece);
        const batch = { data: randn(2 * size * size * channels, 20 + i), count: 2, size, channels };
        const ours = tfjsLogits(model, batch);
        // A block's output is NHWC in tfjs and NCHW in ONNX: compared in NHWC.
        const out = model.outputs[0]?.shape ?? [];
        const theirs = await ortLogits(onnxBytes(model), batch);
        const nhwc = out.length === 4 ? fromNchw(theirs, 2, out[1] ?? 0, out[3] ?? 0) : theirs;
        const d = maxAbsDiff(nhwc, ours);
        assert.ok(d <= TOLERANCE, `${JSON.stringify(piece)}: ONNX Runtime differs from tfjs by ${d.toExponential(2)}`);
      } finally {
        model.dispose();
      }
    }
  });
});

describe('nas export --format onnx: bad input', () => {
  const c = CASES[0]!;
  // The export command alone, as main runs it: the refusals need none of the other commands' imports.
  const entry = { entry: commandHarness('../cli/export.js', 'exportCommand') };
  it('refuses an unknown format, an existing --out without --force and --no-fold, each in one line', () => {
    userError(runCli(['export', '--checkpoint', runDir(c), '--format', 'onxx', '--out', join(dir, 'x')], entry), "unknown export format 'onxx'", 'tfjs, onnx');
    const taken = join(dir, 'taken');
    mkdirSync(taken);
    writeFileSync(join(taken, 'keep.txt'), 'mine');
    userError(runCli(['export', '--checkpoint', runDir(c), '--format', 'onnx', '--out', taken], entry), taken, '--force');
    assert.deepEqual(readdirSync(taken), ['keep.txt']);
    userError(runCli(['export', '--checkpoint', runDir(c), '--format', 'onnx', '--out', join(dir, 'y'), '--no-fold'], entry), '--no-fold');
  });
});

// Resume: a run stopped after a checkpoint (in-process, or a child process killed with SIGKILL) and resumed ends
// with the weights, optimizer state, EMA and metrics of an uninterrupted run with the same seed; checkpoints are
// atomic, verified on load, pruned, and refused for another architecture.
//
// Run as a child process (NAS_TRAIN_CHILD set), this file trains instead of testing: see child() below.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { NasError } from '../common/errors.js';
import { buildModel } from '../model/build.js';
import { Dropout } from '../model/layers.js';
import { resolve } from '../space/resolve.js';
import {
  type EpochMetrics,
  listCheckpoints,
  readCheckpoint,
  resolveCheckpoint,
  writeCheckpoint,
} from '../train/checkpoint.js';
import { parseTrainConfig, type TrainConfig } from '../train/config.js';
import { type TrainResult, trainModel } from '../train/loop.js';
import { blobSplit, tinyArch } from './train-helpers.js';

const arch = tinyArch();
const config: TrainConfig = parseTrainConfig({
  epochs: 3,
  batchSize: 32,
  optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true },
  schedule: { type: 'cosine', warmupEpochs: 0.5 },
  weightDecay: 1e-4,
  labelSmoothing: 0.1,
  ema: { decay: 0.9, warmup: true },
  clipGradNorm: 2,
  keepCheckpoints: 2,
  seed: 7,
});

function splits(delayMs = 0): { train: ReturnType<typeof blobSplit>; val: ReturnType<typeof blobSplit> } {
  const wait = (): void => {
    const until = performance.now() + delayMs;
    while (performance.now() < until);
  };
  return {
    train: blobSplit({ size: 256, classes: 4, imageSize: 16, seed: 1, ...(delayMs > 0 ? { onBatch: wait } : {}) }),
    val: blobSplit({ name: 'val', size: 64, classes: 4, imageSize: 16, seed: 2 }),
  };
}

/** History without wall-clock fields. */
function metricsOf(h: readonly EpochMetrics[]): unknown[] {
  return h.map(({ seconds: _s, imagesPerSec: _i, ...rest }) => rest);
}

/** sha256 of the weights, optimizer state and EMA weights of a checkpoint (from its verified manifest). */
function stateHashes(dir: string): Record<string, string> {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, { sha256: string }> };
  const out: Record<string, string> = {};
  for (const f of ['weights.bin', 'optimizer.bin', 'ema.bin']) out[f] = m.files[f]?.sha256 ?? 'missing';
  return out;
}

async function run(runDir: string, opts: { resume?: boolean; stopAt?: string; delayMs?: number; print?: boolean } = {}): Promise<TrainResult> {
  const { train, val } = splits(opts.delayMs ?? 0);
  const model = buildModel(resolve(arch), { seed: 11 });
  try {
    return await trainModel({
      model,
      arch,
      config,
      train,
      evalSplit: val,
      runDir,
      resumeFrom: opts.resume ? runDir : null,
      hooks: {
        onStep: opts.print ? (p) => process.stdout.write(`step ${p.step}\n`) : undefined,
        onEpochEnd: opts.print ? (m) => void process.stdout.write(`saving ${m.epoch}\n`) : undefined,
        onCheckpoint: (path) => {
          if (opts.print) process.stdout.write(`checkpoint ${path}\n`);
          if (opts.stopAt && path.endsWith(opts.stopAt)) throw new Error(`stop at ${opts.stopAt}`);
        },
      },
    });
  } finally {
    model.dispose();
  }
}

/** The child: train (resuming when asked) in NAS_TRAIN_CHILD's run directory, printing progress and the result. */
async function child(): Promise<void> {
  const { dir, resume, delayMs } = JSON.parse(process.env['NAS_TRAIN_CHILD'] ?? '{}') as { dir: string; resume: boolean; delayMs: number };
  await useBackend('wasm');
  const r = await run(dir, { resume, delayMs, print: true });
  process.stdout.write(`result ${JSON.stringify({ history: metricsOf(r.history), final: r.final, checkpoint: r.checkpoint })}\n`);
}

interface ChildRun {
  readonly output: string;
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
}

interface KillRule {
  /** Kill once the child's output so far satisfies this... */
  readonly output?: (out: string) => boolean;
  /** ...or, once `afterOutput` is in the output, as soon as an entry whose name matches appears in the run dir. */
  readonly file?: RegExp;
  readonly afterOutput?: string;
}

/** Run the child, killing it with SIGKILL when `kill` says. */
function spawnChild(dir: string, resume: boolean, delayMs: number, kill: KillRule | null): Promise<ChildRun> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      // Without the test runner's context: the child is a plain training process.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), NAS_TRAIN_CHILD: JSON.stringify({ dir, resume, delayMs }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const watcher =
      kill?.file !== undefined
        ? watch(dir, (_event, name) => {
            const armed = kill.afterOutput === undefined || out.includes(kill.afterOutput);
            if (armed && name !== null && kill.file?.test(name) && p.exitCode === null) p.kill('SIGKILL');
          })
        : null;
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (kill?.output && kill.output(out) && p.exitCode === null) p.kill('SIGKILL');
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', fail);
    p.on('close', (code, signal) => {
      watcher?.close();
      if (signal === null && code !== 0) fail(new Error(`child exited with ${code}: ${err}`));
      else done({ output: out, signal, code });
    });
  });
}

/** Every checkpoint directory present is complete: it verifies against its manifest and loads. */
async function assertAllComplete(dir: string): Promise<void> {
  for (const name of readdirSync(dir)) {
    if (!/^(epoch|step)-\d+$/.test(name)) continue;
    const ck = await readCheckpoint(join(dir, name), arch);
    assert.equal(ck.archString.length > 0, true);
  }
}

if (process.env['NAS_TRAIN_CHILD']) {
  await child();
} else {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'nas-train-resume-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  let reference: { dir: string; result: TrainResult } | null = null;
  const uninterrupted = async (): Promise<{ dir: string; result: TrainResult }> => {
    if (!reference) {
      const dir = tempDir();
      reference = { dir, result: await run(dir) };
    }
    return reference;
  };

  describe('resume', () => {
    it('Dropout restores its mask stream from getState/setState', async () => {
      await useBackend('wasm');
      const a = new Dropout({ rate: 0.5, seed: 3 });
      const b = new Dropout({ rate: 0.5, seed: 99 });
      const x = tf.ones([2, 16]);
      const mask = (d: Dropout): number[] => tf.tidy(() => Array.from((d.apply(x, { training: true }) as tf.Tensor).dataSync()));
      mask(a);
      b.setState(a.getState());
      assert.deepEqual(mask(b), mask(a));
      assert.notDeepEqual(mask(a), mask(a), 'masks change from call to call');
      x.dispose();
    });

    it('2 epochs + resume for the third ends exactly as 3 uninterrupted epochs', async () => {
      await useBackend('wasm');
      const ref = await uninterrupted();
      const dir = tempDir();
      await assert.rejects(run(dir, { stopAt: 'epoch-0002' }), /stop at epoch-0002/);
      assert.equal(readFileSync(join(dir, 'latest'), 'utf8').trim(), 'epoch-0002');
      const resumed = await run(dir, { resume: true });
      assert.equal(resumed.resumedFrom, join(dir, 'epoch-0002'));
      assert.deepEqual(metricsOf(resumed.history), metricsOf(ref.result.history));
      assert.deepEqual(resumed.final, ref.result.final);
      assert.deepEqual(stateHashes(join(dir, 'epoch-0003')), stateHashes(join(ref.dir, 'epoch-0003')));
    });

    it('resumes from a checkpoint inside an epoch (checkpointEverySteps) to the same end', async () => {
      await useBackend('wasm');
      const ref = await uninterrupted();
      const dir = tempDir();
      const { train, val } = splits();
      const every = { ...config, checkpointEverySteps: 5 };
      const go = async (resume: boolean): Promise<TrainResult> => {
        const model = buildModel(resolve(arch), { seed: 11 });
        try {
          return await trainModel({
            model,
            arch,
            config: every,
            train,
            evalSplit: val,
            runDir: dir,
            resumeFrom: resume ? dir : null,
            hooks: {
              onCheckpoint: (p) => {
                if (!resume && p.endsWith('step-00000010')) throw new Error('stop');
              },
            },
          });
        } finally {
          model.dispose();
        }
      };
      await assert.rejects(go(false), /stop/);
      const ck = await readCheckpoint(await resolveCheckpoint(dir));
      assert.deepEqual([ck.loop.epoch, ck.loop.stepInEpoch, ck.loop.step], [1, 2, 10]);
      const resumed = await go(true);
      assert.deepEqual(metricsOf(resumed.history), metricsOf(ref.result.history));
      assert.deepEqual(stateHashes(join(dir, 'epoch-0003')), stateHashes(join(ref.dir, 'epoch-0003')));
    });

    it('keeps the last K checkpoints and points latest at the newest', async () => {
      const ref = await uninterrupted();
      assert.deepEqual(
        (await listCheckpoints(ref.dir)).map((c) => c.name),
        ['epoch-0002', 'epoch-0003'],
      );
      assert.equal(readFileSync(join(ref.dir, 'latest'), 'utf8').trim(), 'epoch-0003');
      assert.deepEqual(
        readdirSync(ref.dir).filter((n) => n.startsWith('.')),
        [],
        'no temporary directories left',
      );
    });

    it('refuses a checkpoint of another architecture, naming both', async () => {
      await useBackend('wasm');
      const ref = await uninterrupted();
      const other = { ...arch, classes: 5 };
      const model = buildModel(resolve(other), { seed: 1 });
      const { train } = splits();
      await assert.rejects(
        trainModel({ model, arch: other, config, train, runDir: ref.dir, resumeFrom: ref.dir }),
        (e: unknown) => {
          assert.ok(e instanceof NasError && e.code === 'E_ARCH' && e.exitCode === 2, String(e));
          assert.match(e.message, /is of another architecture: it has v1_in16x3_cls4_.* this run is v1_in16x3_cls5_/);
          assert.ok(!e.message.includes('\n'));
          return true;
        },
      );
      model.dispose();
    });

    it('refuses to resume with another batch size or seed (they fix the data order)', async () => {
      await useBackend('wasm');
      const ref = await uninterrupted();
      const model = buildModel(resolve(arch), { seed: 1 });
      const { train } = splits();
      await assert.rejects(
        trainModel({ model, arch, config: { ...config, batchSize: 16 }, train, resumeFrom: ref.dir }),
        /cannot resume from .*epoch-0003: it was trained with batchSize 32, the config says 16/,
      );
      await assert.rejects(trainModel({ model, arch, config: { ...config, seed: 8 }, train, resumeFrom: ref.dir }), /seed 7, the config says 8/);
      model.dispose();
    });

    it('refuses to write non-finite weights, leaving the run directory as it was', async () => {
      await useBackend('wasm');
      const model = buildModel(resolve(arch), { seed: 1 });
      const w = model.weights[0];
      assert.ok(w);
      tf.tidy(() => {
        w.write(tf.fill(w.shape as number[], Number.NaN));
      });
      const dir = tempDir();
      const contents = {
        arch,
        config,
        loop: { epoch: 1, stepInEpoch: 0, step: 8, epochLossSum: 0, epochLossCount: 0, dropout: {}, history: [], seed: 7 },
        optimizer: null,
        ema: null,
      };
      await assert.rejects(writeCheckpoint(dir, 'epoch-0001', model, contents), (e: unknown) => e instanceof NasError && e.code === 'E_DIVERGED');
      assert.deepEqual(readdirSync(dir), []);
      model.dispose();
    });

    it('verifies checkpoints: a flipped byte or a truncated file is refused, latest falls back to a good one', async () => {
      const ref = await uninterrupted();
      const dir = tempDir();
      for (const name of ['epoch-0002', 'epoch-0003']) {
        mkdirSync(join(dir, name));
        for (const f of readdirSync(join(ref.dir, name))) writeFileSync(join(dir, name, f), readFileSync(join(ref.dir, name, f)));
      }
      writeFileSync(join(dir, 'latest'), 'epoch-0003\n');
      const weights = join(dir, 'epoch-0003', 'weights.bin');
      const bytes = readFileSync(weights);
      bytes[100] = (bytes[100] ?? 0) ^ 1;
      writeFileSync(weights, bytes);
      await assert.rejects(readCheckpoint(join(dir, 'epoch-0003')), /weights\.bin does not match its sha256/);
      assert.equal(await resolveCheckpoint(dir), join(dir, 'epoch-0002'));
      truncateSync(join(dir, 'epoch-0002', 'optimizer.bin'), 10);
      await assert.rejects(readCheckpoint(join(dir, 'epoch-0002')), /optimizer\.bin has 10 bytes/);
      await assert.rejects(resolveCheckpoint(dir), (e: unknown) => e instanceof NasError && e.code === 'E_IO' && /no complete checkpoint/.test(e.message));
      // A killed writer's temporary directory is neither listed nor read.
      mkdirSync(join(dir, '.tmp-abc'));
      assert.deepEqual(
        (await listCheckpoints(dir)).map((c) => c.name),
        ['epoch-0002', 'epoch-0003'],
      );
    });

    it('survives SIGKILL inside an epoch and while writing a checkpoint: resumed, it ends as the uninterrupted run', async () => {
      await useBackend('wasm');
      const ref = await uninterrupted();
      const dir = tempDir();
      // Killed inside epoch 2, a few steps after the epoch-1 checkpoint.
      const first = await spawnChild(dir, false, 10, { output: (out) => out.includes('checkpoint') && /step 10\n/.test(out) });
      assert.equal(first.signal, 'SIGKILL');
      assert.match(first.output, /checkpoint .*epoch-0001/);
      assert.doesNotMatch(first.output, /epoch-0002/);
      await assertAllComplete(dir);
      // Resumed, and killed as epoch 2's checkpoint directory is being written...
      const second = await spawnChild(dir, true, 5, { file: /^\.tmp-/, afterOutput: 'saving 2' });
      assert.equal(second.signal, 'SIGKILL');
      await assertAllComplete(dir);
      // ...and again as `latest` is being replaced.
      const third = await spawnChild(dir, true, 5, { file: /^latest\.tmp-/, afterOutput: 'saving 2' });
      assert.equal(third.signal, 'SIGKILL');
      await assertAllComplete(dir);
      const last = await spawnChild(dir, true, 0, null);
      assert.equal(last.code, 0);
      await assertAllComplete(dir);
      assert.deepEqual(
        readdirSync(dir).filter((n) => n.startsWith('.') || n.includes('tmp')),
        [],
        'the finished run cleaned what the killed writers left',
      );
      const line = last.output.split('\n').find((l) => l.startsWith('result '));
      assert.ok(line, `no result in ${last.output}`);
      const got = JSON.parse(line.slice('result '.length)) as { history: unknown[]; final: { top1: number; top5: number; loss: number } };
      const want = ref.result.final;
      assert.ok(want);
      assert.ok(Math.abs(got.final.top1 - want.top1) <= 1e-4 && Math.abs(got.final.top5 - want.top5) <= 1e-4);
      assert.ok(Math.abs(got.final.loss - want.loss) <= 1e-4, `loss ${got.final.loss} vs ${want.loss}`);
      assert.deepEqual(got.history, JSON.parse(JSON.stringify(metricsOf(ref.result.history))));
      assert.deepEqual(stateHashes(join(dir, 'epoch-0003')), stateHashes(join(ref.dir, 'epoch-0003')));
    });
  });
}

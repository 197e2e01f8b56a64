// Reliability of training and of the commands that read checkpoints, through the real CLI (issue 13, items 2, 10
// and 11): mid-epoch checkpoints (`--set checkpointEverySteps=N`) are recorded and resumed exactly; a run directory
// whose newest checkpoint is corrupt is refused by eval / predict / export unless `--allow-fallback`, which says
// what it used instead and why; a malformed model card and out-of-range numeric options are one-line user errors.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { CLI, type CliRun, runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-rel-train-'));
const db = join(dir, 'nas.db');
after(() => rmSync(dir, { recursive: true, force: true }));

// A small net on 16 px MNIST: two epochs at batch 25 (as test/cli-train-final.test.ts), 22 steps each.
const train = [
  'train-final', '--data', 'mnist', '--limit', '600', '--input', '16', '--epochs', '2', '--batch', '25',
  '--arch', 'ir_k3_s2_x32_c16_re', 'ir_k3_s1_x48_c16_se_hs', '--seed', '3', '--backend', 'wasm', '--db', db, '--json',
];
const EVERY = 4;
const everySteps = ['--set', `checkpointEverySteps=${EVERY}`];

interface TrainJson {
  runId: string;
  steps: number;
  checkpoint: string | null;
  resumedFrom: string | null;
  test: { top1: number; top5: number; loss: number; count: number };
  history: { epoch: number; trainLoss: number; valTop1: number | null; valTop5: number | null; imagesPerSec: number }[];
}

interface CheckpointJson {
  epoch: number;
  step: number;
  path: string;
}

function ok(r: CliRun): string {
  assert.equal(r.status, 0, `exit code (stderr: ${r.stderr})`);
  return r.stdout;
}

function trained(out: string, extra: string[] = []): TrainJson {
  return JSON.parse(ok(runCli([...train, '--out', out, ...extra]))) as TrainJson;
}

/** The run's latest checkpoint as the results store recorded it (`nas runs show --json`). */
function storedCheckpoint(runId: string): CheckpointJson | null {
  const shown = JSON.parse(ok(runCli(['runs', 'show', runId, '--db', db, '--json']))) as { latestCheckpoint: CheckpointJson | null };
  return shown.latestCheckpoint;
}

/** sha256 of the weights and optimizer state of a checkpoint, from its manifest. */
function stateHashes(ck: string): Record<string, string | undefined> {
  const m = JSON.parse(readFileSync(join(ck, 'manifest.json'), 'utf8')) as { files: Record<string, { sha256: string }> };
  return { weights: m.files['weights.bin']?.sha256, optimizer: m.files['optimizer.bin']?.sha256 };
}

/** History without the wall-clock field. */
const metricsOf = (r: TrainJson): unknown[] => r.history.map(({ imagesPerSec: _i, ...rest }) => rest);

const readLatest = (out: string): string => {
  try {
    return readFileSync(join(out, 'latest'), 'utf8').trim();
  } catch {
    return '';
  }
};

/** Starts train-final and SIGKILLs it as soon as `latest` names a checkpoint `when` accepts. */
async function killWhen(out: string, args: string[], when: (latest: string) => boolean): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...train, '--out', out, ...args], { stdio: 'ignore' });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && !when(readLatest(out))) await sleep(5);
  child.kill('SIGKILL');
  await exited;
  return readLatest(out);
}

describe('train-final with checkpoints inside epochs (checkpointEverySteps)', () => {
  it('records them with a whole epoch and the global step, and a resume from one ends as the uninterrupted run', async () => {
    const straight = trained(join(dir, 'straight'), everySteps);
    const spe = straight.steps / 2;
    const last = storedCheckpoint(straight.runId);
    assert.deepEqual([last?.epoch, last?.step, last?.path], [2, straight.steps, join(dir, 'straight', 'epoch-0002')]);
    // Checkpoints inside epochs change nothing about the training itself.
    const plain = trained(join(dir, 'plain'));
    assert.deepEqual(stateHashes(join(dir, 'plain', 'epoch-0002')), stateHashes(join(dir, 'straight', 'epoch-0002')));

    // Killed inside the second epoch once `latest` names its second mid-epoch checkpoint (so the store holds one).
    const out = join(dir, 'killed');
    const midEpoch2 = (name: string): boolean => /^step-\d+$/.test(name) && Number(name.slice(5)) >= spe + 2 * EVERY;
    const latest = await killWhen(out, everySteps, midEpoch2);
    assert.ok(midEpoch2(latest), `killed with latest '${latest}': the run finished or never reached epoch 2's checkpoints`);
    assert.ok(!existsSync(join(out, 'epoch-0002')), 'the run finished before it was killed');
    const runId = (JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { runId: string }).runId;
    const recorded = storedCheckpoint(runId);
    assert.ok(recorded, 'no checkpoint recorded');
    assert.equal(recorded.epoch, 1, 'a checkpoint inside epoch 2 is recorded at 1 whole epoch');
    assert.ok(recorded.step > spe && recorded.step % EVERY === 0 && recorded.step <= Number(latest.slice(5)), `step ${recorded.step}`);
    assert.equal(recorded.path, join(out, `step-${String(recorded.step).padStart(8, '0')}`));

    // Resumed with the same setting: it continues from the mid-epoch checkpoint and ends bit-identical.
    const resumed = JSON.parse(ok(runCli([...train, '--out', out, '--resume', ...everySteps]))) as TrainJson;
    assert.equal(resumed.resumedFrom, join(out, latest));
    assert.equal(resumed.runId, runId);
    assert.deepEqual(metricsOf(resumed), metricsOf(straight));
    assert.deepEqual(resumed.test, straight.test);
    assert.deepEqual(stateHashes(join(out, 'epoch-0002')), stateHashes(join(dir, 'straight', 'epoch-0002')));
    assert.deepEqual(plain.test, straight.test);
    const final = storedCheckpoint(runId);
    assert.deepEqual([final?.epoch, final?.step], [2, straight.steps]);
  });
});

describe('a run directory whose newest checkpoint is corrupt', () => {
  let run = '';
  let image = '';
  before(async () => {
    run = join(dir, 'fixture');
    ok(runCli([...train.map((a) => (a === '600' ? '300' : a)), '--out', run]));
    image = join(dir, 'digit.png');
    await sharp(Buffer.alloc(28 * 28, 128), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(image);
  });

  interface FallbackJson {
    checkpoint: string;
    fallback: { skipped: { path: string; reason: string }[] } | null;
  }

  /** A line of text output naming the corrupt checkpoint, why, and the one used instead. */
  const saysFallback = (text: string, copy: string): boolean =>
    text.split('\n').some((l) => l.includes(join(copy, 'epoch-0002')) && l.includes('sha256') && l.includes(join(copy, 'epoch-0001')));

  /** A copy of the fixture run whose epoch-0002 weights have one flipped byte. */
  const corruptCopy = (name: string): string => {
    const copy = join(dir, name);
    cpSync(run, copy, { recursive: true });
    const weights = join(copy, 'epoch-0002', 'weights.bin');
    const bytes = readFileSync(weights);
    bytes[100] = (bytes[100] ?? 0) ^ 1;
    writeFileSync(weights, bytes);
    return copy;
  };

  it('eval refuses it in one line naming the checkpoint and --allow-fallback, in text and --json', () => {
    const copy = corruptCopy('corrupt-eval');
    for (const json of [[], ['--json']]) {
      const r = runCli(['eval', '--checkpoint', copy, '--limit', '20', ...json]);
      userError(r, join(copy, 'epoch-0002'), '--allow-fallback');
      assert.equal(r.stdout, '');
    }
  });

  it('eval --allow-fallback evaluates the newest intact checkpoint and says which and why', () => {
    const copy = corruptCopy('corrupt-fallback');
    const r = JSON.parse(ok(runCli(['eval', '--checkpoint', copy, '--limit', '20', '--allow-fallback', '--json']))) as FallbackJson & { count: number };
    assert.equal(r.checkpoint, join(copy, 'epoch-0001'));
    assert.deepEqual(r.fallback, { skipped: [{ path: join(copy, 'epoch-0002'), reason: 'weights.bin does not match its sha256' }] });
    assert.equal(r.count, 20);
    const text = ok(runCli(['eval', '--checkpoint', copy, '--limit', '20', '--allow-fallback']));
    assert.ok(saysFallback(text, copy), text);
    // An intact run: no fallback; a corrupt checkpoint named directly is refused even with the flag.
    const intact = JSON.parse(ok(runCli(['eval', '--checkpoint', run, '--limit', '20', '--json']))) as { checkpoint: string; fallback: unknown };
    assert.deepEqual([intact.checkpoint, intact.fallback], [join(run, 'epoch-0002'), null]);
    userError(runCli(['eval', '--checkpoint', join(copy, 'epoch-0002'), '--limit', '20', '--allow-fallback']), join(copy, 'epoch-0002'), 'sha256');
  });

  it('predict and export refuse it the same way, and fall back only with --allow-fallback', () => {
    const copy = corruptCopy('corrupt-predict');
    userError(runCli(['predict', '--checkpoint', copy, image]), join(copy, 'epoch-0002'), '--allow-fallback');
    const p = JSON.parse(ok(runCli(['predict', '--checkpoint', copy, image, '--allow-fallback', '--json']))) as FallbackJson;
    assert.deepEqual([p.checkpoint, p.fallback?.skipped[0]?.path], [join(copy, 'epoch-0001'), join(copy, 'epoch-0002')]);
    const text = ok(runCli(['predict', '--checkpoint', copy, image, '--allow-fallback']));
    assert.ok(saysFallback(text, copy), text);

    const exported = join(dir, 'exported');
    userError(runCli(['export', '--checkpoint', copy, '--out', exported]), join(copy, 'epoch-0002'), '--allow-fallback');
    assert.ok(!existsSync(exported));
    const e = JSON.parse(ok(runCli(['export', '--checkpoint', copy, '--out', exported, '--allow-fallback', '--json']))) as FallbackJson;
    assert.deepEqual([e.checkpoint, e.fallback?.skipped[0]?.path], [join(copy, 'epoch-0001'), join(copy, 'epoch-0002')]);
    const again = ok(runCli(['export', '--checkpoint', copy, '--out', exported, '--allow-fallback', '--force']));
    assert.ok(saysFallback(again, copy), again);
  });

  it('a malformed model-card.json is one line, exit 2, naming the file (eval, predict, export)', () => {
    const copy = join(dir, 'bad-card');
    cpSync(run, copy, { recursive: true });
    const card = join(copy, 'model-card.json');
    writeFileSync(card, '{"format":\n  bad}\n');
    userError(runCli(['eval', '--checkpoint', copy, '--limit', '20']), card, 'JSON');
    userError(runCli(['predict', '--checkpoint', copy, image]), card, 'JSON');
    userError(runCli(['export', '--checkpoint', copy, '--out', join(dir, 'bad-card-export')]), card, 'JSON');
    writeFileSync(card, JSON.stringify({ format: 'nas-model-card', version: 1, dataset: 'mnist', classNames: [1, 2], preprocessing: {} }));
    userError(runCli(['eval', '--checkpoint', copy, '--limit', '20']), card, 'classNames');
  });

  it('numeric options out of range name the option typed and its range', () => {
    // Each command checks its count options with the same function (cli/checkpointOptions.ts): a few values suffice.
    for (const v of ['-5', 'abc']) {
      const r = runCli(['eval', '--checkpoint', run, '--limit', v]);
      userError(r, '--limit', 'integer >= 1', `got ${v === 'abc' ? 'a value that is not a number' : v}`);
      assert.doesNotMatch(r.stderr, /limit\.(test|train)/);
    }
    userError(runCli(['eval', '--checkpoint', run, '--batch', '2.5']), '--batch', 'integer >= 1', 'got 2.5');
    userError(runCli(['predict', '--checkpoint', run, image, '--top', '0']), '--top', 'integer >= 1', 'got 0');
    // A limit that leaves the chosen split empty would evaluate nothing (loss NaN): refused, naming --limit.
    userError(runCli(['eval', '--checkpoint', run, '--split', 'val', '--limit', '1']), '--limit', 'val');
  });
});

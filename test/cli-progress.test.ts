// One progress module (cli/progress.ts) for every command: on a terminal a status line rewritten in place; in a log
// one readable line per kept step, never carriage returns; with --progress json one JSON event a line (search,
// netadapt, lut build), each with a type, counting up to the budget.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { countedProgress, fitColumns, Reporter, StatusLine, type StatusOut } from '../cli/progress.js';
import { netadaptStatusText } from '../cli/progressNetadapt.js';
import { searchProgress, searchStatusText } from '../cli/progressSearch.js';
import type { CandidateEvent } from '../search/loop.js';
import type { ArchSpec } from '../space/arch.js';
import { runCli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-progress-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stream that records what is written, as a terminal or not, `columns` wide. */
function sink(columns?: number): { out: StatusOut; text: () => string } {
  let text = '';
  return { out: { write: (s: string) => (text += s), isTTY: columns !== undefined, ...(columns === undefined ? {} : { columns }) }, text: () => text };
}

interface Event {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** Every stderr line of a --progress json run: a JSON object with a string type (throws on any other line). */
function events(stderr: string): Event[] {
  return stderr
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const e: unknown = JSON.parse(l);
      assert.ok(typeof e === 'object' && e !== null && 'type' in e && typeof e.type === 'string', l);
      return e as Event;
    });
}

const ofType = (es: readonly Event[], type: string): Event[] => es.filter((e) => e.type === type);

test('on a terminal the line is rewritten and a lasting line clears it first', () => {
  const s = sink();
  const status = new StatusLine(s.out, true);
  status.step('step 1/3', false);
  status.step('step 2/3', false);
  status.line('epoch 1 done');
  status.update('step 3/3');
  status.end();
  assert.equal(s.text(), '\r\x1b[Kstep 1/3\r\x1b[Kstep 2/3\r\x1b[Kepoch 1 done\n\r\x1b[Kstep 3/3\n');
});

test('elsewhere each step is a line of its own, updates are not shown and end adds nothing', () => {
  const s = sink();
  const status = new StatusLine(s.out, false);
  status.update('downloading 1.0 MB');
  status.step('lut [#...] 1/2 a', false);
  status.step('lut [##..] 2/2 b', true);
  status.end();
  assert.equal(s.text(), 'lut [#...] 1/2 a\nlut [##..] 2/2 b\n');
});

test('nas bench train in a log: one line per step, no carriage return', () => {
  const r = runCli(['bench', 'train', '--arch', 'mobilenetv3-small', '--input', '32', '--batch', '2', '--steps', '2', '--warmup', '0']);
  assert.equal(r.status, 0, r.stderr);
  const steps = r.stderr.split('\n').filter((l) => l.includes('step '));
  assert.equal(steps.length, 2, JSON.stringify(r.stderr));
  assert.match(steps[0] ?? '', /^step 1\/2 {2}\d+ ms$/);
  assert.ok(!r.stderr.includes('\r'), JSON.stringify(r.stderr));
});

test('the search status line shows done/budget, failures, elapsed, ETA and the best with its accuracy and latency', () => {
  const text = searchStatusText({ done: 12, budget: 48, failed: 2, elapsedSeconds: 61, etaSeconds: 184, best: { reward: 0.8123, accuracy: 0.845, latencyMs: 12.3 } });
  assert.equal(text, 'search [######..................] 12/48  2 failed  1m01s  ETA 3m04s  best 0.8123 (acc 0.8450, 12.30 ms)');
  assert.match(searchStatusText({ done: 0, budget: 8, failed: 0, elapsedSeconds: 0, etaSeconds: null, best: null }), /0\/8 {2}0m00s {2}ETA \? {2}no result yet$/);
  assert.equal(
    netadaptStatusText({ iteration: 3, latencyMs: 12.3456, targetMs: 9, accuracy: 0.971, left: 4, elapsedSeconds: 41, etaSeconds: null }),
    'netadapt iteration 3 (~4 left)  12.346 ms -> 9.000 ms  val 97.10%  0m41s  ETA ?',
  );
});

function candidate(distinct: number, ok: boolean, reward: number | null): CandidateEvent {
  const metrics = ok ? { accuracy: reward ?? 0, latencyMs: 12 } : null;
  return { batch: 1, seq: distinct - 1, arch: 'a', source: 'evaluated', ok, reward, metrics, failure: ok ? null : 'boom', seconds: 1, distinct, budget: 4 };
}

test('on a terminal the search rewrites one status line, cut to the width, keeping a line for a failure and a new best', () => {
  const s = sink(120);
  const r = new Reporter('tty', s.out);
  const { hooks } = searchProgress(r);
  hooks.onCandidate?.(candidate(1, true, 0.9));
  hooks.onCandidate?.(candidate(2, false, null));
  hooks.onCandidate?.(candidate(3, true, 0.5));
  r.end();
  const text = s.text();
  const kept = text.split('\n').map((l) => l.split('\r\x1b[K').at(-1) ?? '').filter((l) => l !== '');
  assert.deepEqual(kept.slice(0, 2).map((l) => l.replace(/\(.*\)/, '()')), [
    '[1/4] batch 1 seq 0  acc 0.9000  lat 12.00 ms  reward 0.9000  ()  new best',
    '[2/4] batch 1 seq 1  FAILED: boom  ()',
  ]);
  const drawn = text.split('\r\x1b[K').filter((l) => l.startsWith('search ['));
  assert.ok(drawn.length >= 3, JSON.stringify(text));
  for (const l of drawn) assert.ok(l.replace(/\n$/, '').length < 120, l);
  const last = (drawn.at(-1) ?? '').replace(/\n$/, '');
  assert.match(last, /^search \[#+\.+\] 3\/4 {2}1 failed {2}\dm\d\ds {2}ETA /);
  assert.ok(last.endsWith('  best 0.9000 (acc 0.9000, 12.00 ms)'), last);
  assert.equal(fitColumns('x'.repeat(100), 40), `${'x'.repeat(38)}…`);
  assert.equal(fitColumns('x'.repeat(39), 40), 'x'.repeat(39));
});

test('a counted task in a log is a bar line per step; in json an event per step; none writes nothing', () => {
  const plain = sink();
  const p = countedProgress(new Reporter('plain', plain.out), { lut: 'entry' });
  p('lut', 1, 2, 'a');
  p('lut', 2, 2, 'b');
  assert.equal(plain.text(), `lut [############............] 1/2 a\nlut [########################] 2/2 b\n`);
  const json = sink();
  const j = countedProgress(new Reporter('json', json.out), { lut: 'entry' });
  j('lut', 1, 2, 'a');
  j('calibrate', 1, 1, '1 ms');
  assert.deepEqual(events(json.text()).map((e) => [e.type, e.done, e.total]), [['entry', 1, 2], ['calibrate', 1, 1]]);
  const none = sink();
  countedProgress(new Reporter('none', none.out), {})('lut', 1, 1, '');
  assert.equal(none.text(), '');
});

test('nas search --progress json: one event a line, candidate events count up to the budget', () => {
  const db = join(dir, 'search.db');
  const r = runCli(['search', '--evaluator', 'synthetic', '--strategy', 'random', '--target', 'latency=20ms', '--workers', '0', '--budget', '7', '--batch', '3', '--db', db, '--progress', 'json', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const es = events(r.stderr);
  assert.equal(es[0]?.type, 'start');
  assert.equal(es.at(-1)?.type, 'end');
  const cands = ofType(es, 'candidate');
  assert.deepEqual(cands.map((e) => e.done), [1, 2, 3, 4, 5, 6, 7]);
  for (const c of cands) {
    assert.equal(c.budget, 7);
    assert.equal(typeof c.reward, 'number');
    assert.equal(typeof c.accuracy, 'number');
  }
  assert.deepEqual(ofType(es, 'batch').map((e) => e.done), [3, 6, 7]);
  assert.equal(ofType(es, 'end')[0]?.done, 7);
  // Plain lines (the default off a terminal) are today's per-candidate lines, no carriage return.
  const plain = runCli(['search', '--evaluator', 'synthetic', '--strategy', 'random', '--target', 'latency=20ms', '--workers', '0', '--budget', '2', '--db', join(dir, 'plain.db')]);
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stderr, /^\[2\/2\] batch \d+ seq \d+ {2}acc 0\.\d{4} {2}lat \d+\.\d\d ms {2}reward 0\.\d{4} {2}\(\d+\.\d s\)$/m);
  assert.ok(!plain.stderr.includes('\r'));
  assert.equal(runCli(['search', '--evaluator', 'synthetic', '--target', 'latency=20ms', '--workers', '0', '--budget', '2', '--db', db, '--progress', 'none']).stderr, '');
});

test('nas latency lut build --progress json: an entry event per entry measured', () => {
  const r = runCli(['latency', 'lut', 'build', '--arch', 'ir_k3_s2_x16_c16_re', 'ir_k3_s1_x48_c16_hs', '--input', '32', '--warmup', '1', '--runs', '2', '--sweeps', '1', '--calibrate', '1', '--out', join(dir, 'lut.json'), '--progress', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const es = events(r.stderr);
  assert.deepEqual(ofType(es, 'entry').map((e) => `${e.done}/${e.total}`), ['1/4', '2/4', '3/4', '4/4']);
  assert.equal(ofType(es, 'calibration').length, 1);
});

const tiny: ArchSpec = {
  version: 1,
  name: 'tiny',
  input: { size: 16, channels: 3 },
  classes: 10,
  width: 1,
  padding: 'symmetric',
  bn: { decay: 0.9, eps: 0.001 },
  dropout: 0,
  stem: { kernel: 3, stride: 1, out: 16, act: 'hswish' },
  stages: [[{ type: 'ir', kernel: 3, stride: 2, exp: 48, out: 24, se: null, act: 'relu', skip: true }]],
  head: { conv: 64, hidden: null, act: 'hswish' },
};

test('nas netadapt --progress json: an iteration event per iteration, and iterations.csv a row each (train-final: an epoch event per epoch)', () => {
  const db = join(dir, 'netadapt.db');
  const spec = join(dir, 'tiny.json');
  writeFileSync(spec, JSON.stringify(tiny));
  const seed = runCli([
    'train-final', '--data', 'mnist', '--limit', '300', '--input', '16', '--epochs', '1', '--batch', '25', '--arch', spec,
    '--seed', '1', '--backend', 'wasm', '--db', db, '--out', join(dir, 'seed'), '--json', '--progress', 'json',
  ]);
  assert.equal(seed.status, 0, seed.stderr);
  // The seed's training (train-final) has its own events: an epoch event per epoch, then the end.
  const trained = events(seed.stderr);
  assert.deepEqual(ofType(trained, 'epoch').map((e) => e.epoch), [1]);
  assert.equal(trained.at(-1)?.type, 'end');
  const out = join(dir, 'na');
  const r = runCli([
    'netadapt', '--checkpoint', join(dir, 'seed'), '--data', 'mnist', '--train-images', '300', '--val-images', '50',
    '--latency', 'madds', '--short-steps', '2', '--workers', '0', '--no-measure-each', '--bn-images', '0', '--backend', 'wasm',
    '--target', 'latency=0.85x', '--delta', '0.05', '--db', db, '--out', out, '--seed', '5', '--progress', 'json', '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { iterations: { iteration: number; what: string }[] };
  assert.ok(result.iterations.length >= 2, r.stdout);
  const es = events(r.stderr);
  assert.equal(ofType(es, 'start').length, 1);
  assert.deepEqual(ofType(es, 'iteration').map((e) => [e.iteration, e.what]), result.iterations.map((i) => [i.iteration, i.what]));
  assert.ok(ofType(es, 'log').length > 0);
  assert.equal(es.at(-1)?.type, 'end');
  const csv = readFileSync(join(out, 'iterations.csv'), 'utf8').trimEnd().split('\n');
  assert.match(csv[0] ?? '', /^iteration,what,latency_ms,latency_measured_ms,val_top1,proposals,proposals_failed,score,arch,checkpoint$/);
  assert.deepEqual(csv.slice(1).map((l) => l.split(',')[0]), result.iterations.map((i) => String(i.iteration)));
});

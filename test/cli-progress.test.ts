// One progress printer (cli/progress.ts StatusLine) for lut build, data download, bench train and train-final: on a
// terminal a line rewritten in place; in a log one readable line per kept step, never carriage returns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusLine, type StatusOut } from '../cli/progress.js';
import { runCli } from './cli-helpers.js';

/** A stream that records what is written, as a terminal or not. */
function sink(): { out: StatusOut; text: () => string } {
  let text = '';
  return { out: { write: (s: string) => (text += s) }, text: () => text };
}

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

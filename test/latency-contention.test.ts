// How busy the other cores were while a latency was measured (latency/contention.ts): from /proc/stat's busy and
// total ticks, less the time of this process's own threads.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { otherBusyCores, ownCores, withContention } from '../latency/contention.js';

test('the other cores busy: the busy share of all cores times their count, less the measurement\'s own', () => {
  assert.equal(otherBusyCores({ busy: 100, total: 1000 }, { busy: 600, total: 2000 }, 1, 2), 0);
  assert.equal(otherBusyCores({ busy: 0, total: 0 }, { busy: 900, total: 1000 }, 1, 2), 0.8);
  assert.equal(otherBusyCores({ busy: 0, total: 0 }, { busy: 900, total: 1000 }, 0, 4), 3.6);
  assert.equal(otherBusyCores(null, { busy: 1, total: 2 }), null);
  assert.equal(otherBusyCores({ busy: 1, total: 2 }, { busy: 1, total: 2 }), null);
});

const spinCode = 'const end = Date.now() + 1500; while (Date.now() < end) {}';
const hasProc = existsSync('/proc/stat') ? false : 'no /proc/stat here';

test('a process spinning on another core while this one waits reads as about one busy core', { skip: hasProc }, async () => {
  const spin = spawn(process.execPath, ['-e', spinCode], { stdio: 'ignore' });
  const exited = new Promise((resolve) => spin.once('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const { otherCores } = await withContention(() => new Promise((resolve) => setTimeout(resolve, 1000)));
  await exited;
  assert.ok(otherCores !== null && otherCores >= 0.7, `other cores busy: ${otherCores}`);
});

test('a thread of this process counts as its own time, which is not taken for other processes\'', async () => {
  const own = ownCores();
  const spin = new Worker(spinCode, { eval: true });
  await new Promise((resolve) => spin.once('exit', resolve));
  assert.ok(own() >= 0.5, `own busy cores while a worker thread spun: ${own()}`);
});

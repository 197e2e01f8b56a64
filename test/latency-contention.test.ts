// How busy the other cores were while a latency was measured (latency/contention.ts): from /proc/stat's busy and
// total ticks, less the cores the measurement itself keeps busy.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { otherBusyCores, withContention } from '../latency/contention.js';

test('the other cores busy: the busy share of all cores times their count, less the measurement\'s own', () => {
  assert.equal(otherBusyCores({ busy: 100, total: 1000 }, { busy: 600, total: 2000 }, 1, 2), 0);
  assert.equal(otherBusyCores({ busy: 0, total: 0 }, { busy: 900, total: 1000 }, 1, 2), 0.8);
  assert.equal(otherBusyCores({ busy: 0, total: 0 }, { busy: 900, total: 1000 }, 0, 4), 3.6);
  assert.equal(otherBusyCores(null, { busy: 1, total: 2 }), null);
  assert.equal(otherBusyCores({ busy: 1, total: 2 }, { busy: 1, total: 2 }), null);
});

test('a thread spinning on another core while this one waits reads as about one busy core', { skip: existsSync('/proc/stat') ? false : 'no /proc/stat here' }, async () => {
  const spin = new Worker('const end = Date.now() + 1500; while (Date.now() < end) {}', { eval: true });
  const exited = new Promise((resolve) => spin.once('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const { otherCores } = await withContention(() => new Promise((resolve) => setTimeout(resolve, 1000)), 0);
  await exited;
  assert.ok(otherCores !== null && otherCores >= 0.7, `other cores busy: ${otherCores}`);
});

// The pool's measurement gate (search/engine/measureGate.ts): while one task times a network, a task training in
// another thread pauses at its next step, two timings never overlap, and a task that ends in mid-timing (its thread
// terminated) releases the gate. Each task runs in a thread of its own, as in the pool: the gate's waits block.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createGate, measureAlone, slotFreed } from '../search/engine/measureGate.js';

const GATE_URL = new URL('../search/engine/measureGate.js', import.meta.url).href;

/**
 * A trainer thread in slot 0: steps of ~2 ms of work, each bracketed by its start and end time (performance.timeOrigin
 * + now, ms) in `log` ([count, start0, end0, start1, ...]), pausing at each boundary; it stops after `steps` steps.
 */
const TRAINER = `
const { workerData } = require('node:worker_threads');
import(workerData.url).then((gate) => {
  const { g, log, steps } = workerData;
  const now = () => performance.timeOrigin + performance.now();
  gate.trainingStarted(g, 0);
  for (let i = 0; i < steps; i++) {
    gate.pauseIfClosed(g, 0);
    const start = now();
    while (now() - start < 2) {}
    log[1 + 2 * i] = start;
    log[2 + 2 * i] = now();
    log[0] = i + 1;
  }
  gate.trainingEnded(g, 0);
});
`;

test('a timing runs while the other task is paused between steps, and the task goes on after it', async () => {
  const steps = 400;
  const g = createGate(2);
  const log = new Float64Array(new SharedArrayBuffer(8 * (1 + 2 * steps)));
  const trainer = new Worker(TRAINER, { eval: true, workerData: { url: GATE_URL, g, log, steps } });
  const exited = new Promise((resolve) => trainer.once('exit', resolve));
  while ((log[0] ?? 0) < 20) await new Promise((resolve) => setTimeout(resolve, 5));
  const now = (): number => performance.timeOrigin + performance.now();
  const window = await measureAlone(g, 1, async () => {
    const start = now();
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { start, end: now(), stepsBefore: log[0] ?? 0 };
  });
  await exited;
  assert.equal(log[0], steps, 'the trainer finished all its steps');
  assert.ok(window.stepsBefore < steps, 'the timing fell inside the training');
  for (let i = 0; i < steps; i++) {
    const [s = 0, e = 0] = [log[1 + 2 * i], log[2 + 2 * i]];
    assert.ok(e <= window.start || s >= window.end, `step ${i} (${s}-${e}) ran during the timing (${window.start}-${window.end})`);
  }
});

/** A thread timing in `slot`: 30 ms inside the gate, its start and end in `spans` at 2 * slot. */
const MEASURER = `
const { workerData } = require('node:worker_threads');
import(workerData.url).then(async (gate) => {
  const { g, spans, slot } = workerData;
  const now = () => performance.timeOrigin + performance.now();
  await gate.measureAlone(g, slot, async () => {
    const start = now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    spans[2 * slot] = start;
    spans[2 * slot + 1] = now();
  });
});
`;

test('two timings, in two threads, never overlap', async () => {
  const g = createGate(2);
  const spans = new Float64Array(new SharedArrayBuffer(8 * 4));
  const threads = [0, 1].map((slot) => new Worker(MEASURER, { eval: true, workerData: { url: GATE_URL, g, spans, slot } }));
  await Promise.all(threads.map((t) => new Promise((resolve) => t.once('exit', resolve))));
  const [a0 = 0, a1 = 0, b0 = 0, b1 = 0] = spans;
  assert.ok(a0 > 0 && b0 > 0, 'both timed');
  assert.ok(a1 <= b0 || b1 <= a0, `timings ${a0}-${a1} and ${b0}-${b1} overlap`);
});

test('a task freed in mid-timing releases the gate', async () => {
  const g = createGate(2);
  void measureAlone(g, 0, () => new Promise<never>(() => {})); // a thread terminated while it timed
  slotFreed(g, 0);
  assert.equal(await measureAlone(g, 1, async () => 42), 42);
});

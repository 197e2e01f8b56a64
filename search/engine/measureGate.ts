// While one worker of a search times a candidate on this machine, the others pause their training at the next step,
// so that the timing runs beside idle cores. Training on another core shares the caches, the memory bus and the
// chip's clock with the timing and changes a network's ratio to its reference, either way (docs/NETADAPT.md, "Other
// processes"); in the pipeline's search the judgements read a quarter lower than the same networks timed alone at
// the end (docs/PIPELINE.md). The gate lives in a SharedArrayBuffer the pool engine hands every task: one slot per
// task in flight (1 while it trains), a closed flag, a lock (the holder's slot + 1) so that two timings never
// overlap, and a change counter a waiting timer sleeps on. The engine frees a task's slot when the task ends, however
// it ends: a thread terminated in mid-timing (its time limit) leaves neither the gate closed nor the lock held.
const CLOSED = 0;
const LOCK = 1;
const CHANGES = 2;
const SLOTS = 3;

/** Longest wait for the trainers to reach a step boundary: an evaluator that reports no progress never pauses. */
const PAUSE_WAIT_MS = 30_000;

export type MeasureGate = Int32Array;

/** Whether a latency source times networks on this machine (`measure`, `paired:REF`): the others need no gate. */
export function timesHere(source: { readonly kind: string } | null): boolean {
  return source !== null && (source.kind === 'measure' || source.kind === 'paired');
}

/** A gate for `slots` tasks in flight (the engine's concurrency). */
export function createGate(slots: number): MeasureGate {
  return new Int32Array(new SharedArrayBuffer((SLOTS + slots) * 4));
}

function setSlot(g: MeasureGate, slot: number, training: 0 | 1): void {
  Atomics.store(g, SLOTS + slot, training);
  Atomics.add(g, CHANGES, 1);
  Atomics.notify(g, CHANGES);
}

/** The task in `slot` trains from now on (until trainingEnded). */
export function trainingStarted(g: MeasureGate, slot: number): void {
  setSlot(g, slot, 1);
}

/** The task in `slot` trains no more (its evaluation ended, or the engine saw the task end, however it ended). */
export function trainingEnded(g: MeasureGate, slot: number): void {
  setSlot(g, slot, 0);
}

/**
 * A training step boundary of the task in `slot`: while a timing holds the gate, wait here, off the training count.
 * Blocks the thread (Atomics.wait), so it is for worker threads only.
 */
export function pauseIfClosed(g: MeasureGate, slot: number): void {
  if (Atomics.load(g, CLOSED) === 0) return;
  setSlot(g, slot, 0);
  while (Atomics.load(g, CLOSED) !== 0) Atomics.wait(g, CLOSED, 1, 1000);
  setSlot(g, slot, 1);
}

function anyTraining(g: MeasureGate): boolean {
  for (let i = SLOTS; i < g.length; i++) if (Atomics.load(g, i) !== 0) return true;
  return false;
}

// The waits below block their thread (Atomics.wait): a worker waiting for its turn to time has nothing else to do.

function lock(g: MeasureGate, slot: number): void {
  for (;;) {
    const holder = Atomics.compareExchange(g, LOCK, 0, slot + 1);
    if (holder === 0) return;
    Atomics.wait(g, LOCK, holder, 1000);
  }
}

function unlock(g: MeasureGate): void {
  Atomics.store(g, CLOSED, 0);
  Atomics.notify(g, CLOSED);
  Atomics.store(g, LOCK, 0);
  Atomics.notify(g, LOCK);
}

/** The engine's end of a task in `slot`: it trains no more, and a timing it held is over. */
export function slotFreed(g: MeasureGate, slot: number): void {
  trainingEnded(g, slot);
  if (Atomics.load(g, LOCK) === slot + 1) unlock(g);
}

/** Until no slot trains, or PAUSE_WAIT_MS have passed. */
function trainersPaused(g: MeasureGate): void {
  const deadline = Date.now() + PAUSE_WAIT_MS;
  for (;;) {
    const seen = Atomics.load(g, CHANGES);
    if (!anyTraining(g) || Date.now() >= deadline) return;
    Atomics.wait(g, CHANGES, seen, 100);
  }
}

/** Runs `fn` (the timing of the task in `slot`) alone: one timing at a time, every training task paused. */
export async function measureAlone<T>(g: MeasureGate, slot: number, fn: () => Promise<T>): Promise<T> {
  lock(g, slot);
  try {
    Atomics.store(g, CLOSED, 1);
    trainersPaused(g);
    return await fn();
  } finally {
    unlock(g);
  }
}

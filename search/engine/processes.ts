// `--gpus 0,1`: one child process per GPU, because CUDA picks its devices once per process: each child gets
// CUDA_VISIBLE_DEVICES=<id> and NAS_BACKEND=tensorflow, and runs one evaluation at a time. A child that exits mid-task
// fails that task only and is started again for the next one; a child past the time limit of its evaluation is
// killed (SIGKILL), its task fails as timed out, and the next task gets a fresh child. Children's stdout goes to our
// stderr, so that `--json` output stays clean.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProcessReply, ProcessRequest, ProcessStarted } from '../worker.js';
import { after } from './timer.js';
import { type Engine, type EvalOutcome, type EvalTask, type EvalTimeout, timedOut, type WorkerSetup } from './types.js';

const WORKER_PATH = fileURLToPath(new URL('../worker.js', import.meta.url));

export interface ProcessesOptions {
  /** GPU ids, one process each, as CUDA_VISIBLE_DEVICES values. */
  readonly gpus: readonly string[];
  /** Backend the children select (default 'tensorflow', the one that drives a GPU). */
  readonly backend?: string;
  /** Seconds per evaluation (default: no limit). */
  readonly evalTimeoutSeconds?: EvalTimeout;
}

interface Pending {
  readonly task: EvalTask;
  readonly resolve: (o: EvalOutcome) => void;
}

interface Slot {
  readonly gpu: string;
  child: ChildProcess | null;
  busy: { readonly id: number; readonly pending: Pending; readonly t0: number; cancelTimer: (() => void) | null } | null;
}

export function createProcessesEngine(setup: WorkerSetup, opts: ProcessesOptions): Engine {
  return new ProcessesEngine(setup, opts);
}

const CLOSED: EvalOutcome = { ok: false, reason: 'engine closed', seconds: 0 };

class ProcessesEngine implements Engine {
  readonly kind = 'processes' as const;
  readonly concurrency: number;
  private readonly queue: Pending[] = [];
  private readonly slots: Slot[];
  private readonly limit: number | null;
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly setup: WorkerSetup,
    private readonly opts: ProcessesOptions,
  ) {
    this.slots = opts.gpus.map((gpu) => ({ gpu, child: null, busy: null }));
    this.concurrency = this.slots.length;
    this.limit = opts.evalTimeoutSeconds ?? null;
  }

  run(task: EvalTask): Promise<EvalOutcome> {
    if (this.closed) return Promise.resolve(CLOSED);
    return new Promise<EvalOutcome>((resolve) => {
      this.queue.push({ task, resolve });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.resolve(CLOSED);
    // Tasks still running (abandoned by the loop at its deadline) end with their children, below.
    for (const slot of this.slots) this.settle(slot, CLOSED);
    await Promise.all(this.slots.map((slot) => stopChild(slot.child)));
  }

  private spawn(slot: Slot): ChildProcess {
    const child = fork(WORKER_PATH, [], {
      env: { ...process.env, CUDA_VISIBLE_DEVICES: slot.gpu, NAS_BACKEND: this.opts.backend ?? 'tensorflow', NAS_SEARCH_WORKER: 'process' },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    child.stdout?.pipe(process.stderr, { end: false });
    child.on('message', (msg: ProcessReply | ProcessStarted | { ready: true }) => this.onMessage(slot, msg));
    child.on('exit', (code, signal) => this.onExit(slot, child, signal ?? `code ${code}`));
    // A send to a dying child fails; its exit event fails the task.
    child.on('error', () => {});
    return child;
  }

  private onMessage(slot: Slot, msg: ProcessReply | ProcessStarted | { ready: true }): void {
    const busy = slot.busy;
    if (!('id' in msg) || busy === null || busy.id !== msg.id) return;
    if ('outcome' in msg) return this.settle(slot, msg.outcome);
    // The evaluation starts (the child's modules are loaded): its time limit counts from here.
    const limit = this.limit;
    if (limit !== null && busy.cancelTimer === null) busy.cancelTimer = after(limit * 1000, () => this.expire(slot, limit, busy.t0));
  }

  private onExit(slot: Slot, child: ChildProcess, how: string): void {
    // A child killed for its time limit was replaced already; its task has failed as timed out.
    if (slot.child !== child) return;
    slot.child = null;
    const busy = slot.busy;
    if (busy === null) return this.dispatch();
    this.settle(slot, { ok: false, reason: `worker process for GPU ${slot.gpu} exited (${how})`, seconds: (performance.now() - busy.t0) / 1000 });
  }

  /** Ends the slot's task with this outcome and hands the slot the next one. */
  private settle(slot: Slot, outcome: EvalOutcome): void {
    const busy = slot.busy;
    if (busy === null) return;
    busy.cancelTimer?.();
    slot.busy = null;
    busy.pending.resolve(outcome);
    this.dispatch();
  }

  /** Past the time limit: the child is killed (whatever it is doing) and forgotten; the next task starts a new one. */
  private expire(slot: Slot, seconds: number, t0: number): void {
    const child = slot.child;
    slot.child = null;
    child?.kill('SIGKILL');
    this.settle(slot, timedOut(seconds, t0));
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot.busy !== null) continue;
      const pending = this.queue.shift();
      if (pending === undefined) return;
      slot.child ??= this.spawn(slot);
      const id = this.nextId++;
      slot.busy = { id, pending, t0: performance.now(), cancelTimer: null };
      slot.child.send({ id, setup: this.setup, task: pending.task } satisfies ProcessRequest);
    }
  }
}

/** Asks a child to finish (disconnect) and kills it if it has not exited within 5 s. */
async function stopChild(child: ChildProcess | null): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

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
  const queue: Pending[] = [];
  let nextId = 0;
  let closed = false;
  const slots: Slot[] = opts.gpus.map((gpu) => ({ gpu, child: null, busy: null }));
  const limit = opts.evalTimeoutSeconds ?? null;

  const spawn = (slot: Slot): ChildProcess => {
    const child = fork(WORKER_PATH, [], {
      env: {
        ...process.env,
        CUDA_VISIBLE_DEVICES: slot.gpu,
        NAS_BACKEND: opts.backend ?? 'tensorflow',
        NAS_SEARCH_WORKER: 'process',
      },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    child.stdout?.pipe(process.stderr, { end: false });
    child.on('message', (msg: ProcessReply | ProcessStarted | { ready: true }) => {
      const busy = slot.busy;
      if (!('id' in msg) || busy === null || busy.id !== msg.id) return;
      if ('outcome' in msg) return settle(slot, msg.outcome);
      // The evaluation starts (the child's modules are loaded): its time limit counts from here.
      if (limit !== null && busy.cancelTimer === null) busy.cancelTimer = after(limit * 1000, () => expire(slot, limit, busy.t0));
    });
    child.on('exit', (code, signal) => {
      // A child killed for its time limit was replaced already; its task has failed as timed out.
      if (slot.child !== child) return;
      slot.child = null;
      const busy = slot.busy;
      if (busy === null) return dispatch();
      settle(slot, {
        ok: false,
        reason: `worker process for GPU ${slot.gpu} exited (${signal ?? `code ${code}`})`,
        seconds: (performance.now() - busy.t0) / 1000,
      });
    });
    // A send to a dying child fails; its exit event fails the task.
    child.on('error', () => {});
    return child;
  };

  /** Ends the slot's task with this outcome and hands the slot the next one. */
  const settle = (slot: Slot, outcome: EvalOutcome): void => {
    const busy = slot.busy;
    if (busy === null) return;
    busy.cancelTimer?.();
    slot.busy = null;
    busy.pending.resolve(outcome);
    dispatch();
  };

  /** Past the time limit: the child is killed (whatever it is doing) and forgotten; the next task starts a new one. */
  const expire = (slot: Slot, seconds: number, t0: number): void => {
    const child = slot.child;
    slot.child = null;
    child?.kill('SIGKILL');
    settle(slot, timedOut(seconds, t0));
  };

  const dispatch = (): void => {
    if (closed) return;
    for (const slot of slots) {
      if (slot.busy !== null) continue;
      const pending = queue.shift();
      if (pending === undefined) return;
      slot.child ??= spawn(slot);
      const id = nextId++;
      slot.busy = { id, pending, t0: performance.now(), cancelTimer: null };
      slot.child.send({ id, setup, task: pending.task } satisfies ProcessRequest);
    }
  };

  return {
    kind: 'processes',
    concurrency: slots.length,
    run(task) {
      if (closed) return Promise.resolve({ ok: false, reason: 'engine closed', seconds: 0 });
      return new Promise<EvalOutcome>((resolve) => {
        queue.push({ task, resolve });
        dispatch();
      });
    },
    async close() {
      closed = true;
      for (const p of queue.splice(0)) p.resolve({ ok: false, reason: 'engine closed', seconds: 0 });
      // Tasks still running (abandoned by the loop at its deadline) end with their children, below.
      for (const slot of slots) settle(slot, { ok: false, reason: 'engine closed', seconds: 0 });
      await Promise.all(
        slots.map(async (slot) => {
          const child = slot.child;
          if (child === null || child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          child.disconnect();
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}

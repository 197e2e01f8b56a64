// The evaluation worker: the entry of Piscina's worker threads (default export) and of the per-GPU child processes
// (NAS_SEARCH_WORKER=process: tasks arrive over IPC). The in-process engine calls runTask directly. The evaluator
// module and the latency source are loaded once per worker and reused for every task.
import { isMainThread, type MessagePort } from 'node:worker_threads';
import { wasmHeapSpent } from '../backend/heapState.js';
import { setNativeThreadsIfLoaded } from '../backend/native.js';
import type { LatencySourceSpec, ResourceModel } from '../latency/resources.js';
import { sourceLabel } from '../latency/sourceRunner.js';
import type { JsonValue } from '../common/json.js';
import { costOf } from '../space/cost.js';
import { resolve } from '../space/resolve.js';
import { type MeasureGate, measureAlone, pauseIfClosed, trainingEnded, trainingStarted } from './engine/measureGate.js';
import { type EvalOutcome, type EvalTask, reasonOf, type WorkerSetup } from './engine/types.js';
import { checkMetrics } from './metrics.js';
import type { EvaluateFn } from './types.js';

/** The `evaluate` function a module exports (named, or on its default export), or null. */
export function evaluateExport(mod: Record<string, unknown>): EvaluateFn | null {
  const fn = mod['evaluate'] ?? (mod['default'] as Record<string, unknown> | undefined)?.['evaluate'];
  return typeof fn === 'function' ? (fn as EvaluateFn) : null;
}

const evaluators = new Map<string, Promise<EvaluateFn>>();
const resourceModels = new Map<string, Promise<ResourceModel>>();

function loadEvaluator(url: string): Promise<EvaluateFn> {
  let p = evaluators.get(url);
  if (p === undefined) {
    p = import(url).then((mod: Record<string, unknown>) => {
      const fn = evaluateExport(mod);
      if (fn === null) throw new Error(`evaluator ${url} does not export a function evaluate(arch, context)`);
      return fn;
    });
    evaluators.set(url, p);
  }
  return p;
}

function loadResourceModel(source: LatencySourceSpec): Promise<ResourceModel> {
  const key = JSON.stringify(source);
  let p = resourceModels.get(key);
  if (p === undefined) {
    // Imported lazily: measuring pulls in tfjs, which a synthetic or user evaluator may not need.
    p = import('../latency/resources.js').then((m) => m.createResourceModel(source));
    resourceModels.set(key, p);
  }
  return p;
}

const OOM = /out of memory|allocation failed|ERR_WORKER_OUT_OF_MEMORY|Aborted\(OOM\)|heap limit/i;

/** Failure reasons name an out-of-memory condition plainly, whatever layer raised it. */
export function failureReason(e: unknown): string {
  const r = reasonOf(e);
  return OOM.test(r) && !r.startsWith('out of memory') ? `out of memory: ${r}` : r;
}

/**
 * Loads what a worker keeps for all its tasks: the evaluator and the latency source (whose module pulls in tfjs, a
 * second or more in a new thread). A loading error is left for the task that uses the thing to report.
 */
async function prepare(setup: WorkerSetup): Promise<void> {
  await Promise.allSettled([loadEvaluator(setup.evaluatorUrl), setup.latency === null ? null : loadResourceModel(setup.latency)]);
}

/** A task's place in the pool's measurement gate (search/engine/measureGate.ts). */
export interface GateSlot {
  readonly gate: MeasureGate;
  readonly slot: number;
}

/** The evaluator's output for `task`; with a gate, it trains in its slot and pauses at each step it reports. */
async function evaluated(setup: WorkerSetup, task: EvalTask, gate: GateSlot | undefined): Promise<unknown> {
  const evaluate = await loadEvaluator(setup.evaluatorUrl);
  // A GPU child process runs the backend its environment names (processes.ts sets NAS_BACKEND=tensorflow).
  const envBackend = process.env['NAS_BACKEND'];
  const config: Readonly<Record<string, JsonValue>> =
    envBackend !== undefined && envBackend !== '' ? { ...task.context.config, backend: envBackend } : task.context.config;
  if (gate === undefined) return evaluate(task.arch, { ...task.context, config });
  trainingStarted(gate.gate, gate.slot);
  try {
    return await evaluate(task.arch, { ...task.context, config, progress: () => pauseIfClosed(gate.gate, gate.slot) });
  } finally {
    trainingEnded(gate.gate, gate.slot);
  }
}

/** The source's latency of `arch`; with a gate (a source that times on this machine), the other tasks paused. */
async function latencyOf(source: LatencySourceSpec, task: EvalTask, gate: GateSlot | undefined): Promise<number> {
  const model = await loadResourceModel(source);
  return gate !== undefined ? measureAlone(gate.gate, gate.slot, () => model.latency(task.arch)) : model.latency(task.arch);
}

/**
 * Evaluates one task; never throws. `onStart` is called once the worker's modules are loaded, as the evaluation
 * proper starts: engines time evaluations from there (search/engine/pool.ts).
 */
export async function runTask(setup: WorkerSetup, task: EvalTask, onStart?: () => void, gate?: GateSlot): Promise<EvalOutcome> {
  const t0 = performance.now();
  const seconds = (): number => (performance.now() - t0) / 1000;
  try {
    await prepare(setup);
    onStart?.();
    let metrics = checkMetrics(await evaluated(setup, task, gate));
    if (metrics.madds === undefined || metrics.params === undefined) {
      const cost = costOf(resolve(task.arch));
      metrics = { ...metrics, madds: metrics.madds ?? cost.madds, params: metrics.params ?? cost.params };
    }
    if (metrics.latencyMs === undefined && setup.latency !== null) {
      metrics = { ...metrics, latencyMs: await latencyOf(setup.latency, task, gate), latencySource: sourceLabel(setup.latency) };
    }
    return { ok: true, metrics, seconds: seconds() };
  } catch (e) {
    return { ok: false, reason: failureReason(e), seconds: seconds() };
  }
}

/** What the pool engine sends a worker thread for one task. */
export interface PoolMessage {
  readonly setup: WorkerSetup;
  readonly task: EvalTask;
  /**
   * Shared with the pool engine (a SharedArrayBuffer): the worker stores Date.now() in it as the evaluation starts,
   * so that the engine's time limit counts the evaluation, not the start-up of a new thread and its modules.
   */
  readonly started?: BigInt64Array;
  /** Where the outcome goes when the thread ends itself after the task (its wasm heap spent). */
  readonly retire?: MessagePort;
  /** Threads of the native kernels in this worker (the engine's share of the cores). */
  readonly threads?: number;
  /** The pool's measurement gate and this task's slot in it (absent: a source that times nothing, or no slot free). */
  readonly gate?: GateSlot;
}

/**
 * Piscina's entry: one task per call. A thread whose wasm heap is spent (found full, or grown to its end by the
 * networks before) ends after its task, so that Piscina replaces it and the next candidate gets a fresh heap: it
 * posts the outcome on `retire` (the engine reads it when Piscina reports the exit) and exits.
 */
export default async function piscinaTask(msg: PoolMessage): Promise<EvalOutcome> {
  const started = msg.started;
  if (msg.threads !== undefined) setNativeThreadsIfLoaded(msg.threads);
  const onStart = started === undefined ? undefined : () => void Atomics.store(started, 0, BigInt(Date.now()));
  const outcome = await runTask(msg.setup, msg.task, onStart, msg.gate);
  if (msg.retire !== undefined && wasmHeapSpent()) {
    msg.retire.postMessage(outcome);
    process.exit(0);
  }
  msg.retire?.close();
  return outcome;
}

/**
 * Messages between the processes engine and a child: { id, setup, task } in; { id, started: true } out as the
 * evaluation starts (its modules loaded), then { id, outcome }.
 */
export interface ProcessRequest {
  readonly id: number;
  readonly setup: WorkerSetup;
  readonly task: EvalTask;
}
export interface ProcessReply {
  readonly id: number;
  readonly outcome: EvalOutcome;
}
export interface ProcessStarted {
  readonly id: number;
  readonly started: true;
}

if (isMainThread && process.env['NAS_SEARCH_WORKER'] === 'process' && process.send !== undefined) {
  const send = process.send.bind(process);
  process.on('message', (msg: ProcessRequest) => {
    const started = (): void => void send({ id: msg.id, started: true } satisfies ProcessStarted);
    void runTask(msg.setup, msg.task, started).then((outcome) => send({ id: msg.id, outcome } satisfies ProcessReply));
  });
  // The parent went away (killed, crashed): nothing will read our results.
  process.on('disconnect', () => process.exit(0));
  send({ ready: true });
}

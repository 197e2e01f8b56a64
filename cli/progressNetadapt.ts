// `nas netadapt`'s progress: its log lines kept (in a log as before; `log` events in json), and per iteration a
// status line on a terminal (iteration, latency against the target, the iterations left by the step size,
// elapsed, ETA from the recent iterations' pace) and an `iteration` event in json (docs/PROGRESS.md).
import type { DescentStart, IterationSummary, NetadaptResult, RunHooks } from '../netadapt/types.js';
import { duration, finite, RecentRate, type Reporter } from './progress.js';

/** What the status line shows. */
export interface NetadaptStatus {
  readonly iteration: number;
  readonly latencyMs: number;
  readonly targetMs: number;
  readonly accuracy: number;
  /** Iterations left if each cuts one step (delta) of latency: an estimate, a step can cut more. */
  readonly left: number;
  readonly elapsedSeconds: number;
  readonly etaSeconds: number | null;
}

/** `netadapt iteration 3 (~4 left)  12.345 ms -> 9.000 ms  val 97.10%  0m41s  ETA 2m10s` */
export function netadaptStatusText(s: NetadaptStatus): string {
  return (
    `netadapt iteration ${s.iteration} (~${s.left} left)  ${s.latencyMs.toFixed(3)} ms -> ${s.targetMs.toFixed(3)} ms  ` +
    `val ${(100 * s.accuracy).toFixed(2)}%  ${duration(s.elapsedSeconds)}  ETA ${duration(s.etaSeconds)}`
  );
}

const stepsLeft = (latencyMs: number, start: DescentStart): number =>
  Math.max(0, Math.ceil((latencyMs - start.targetMs) / Math.max(1e-9, start.deltaMs) - 1e-9));

/** The run's hooks on a reporter, and the end event once the result is known. */
export function netadaptProgress(r: Reporter): { hooks: RunHooks; finish: (result: NetadaptResult) => void } {
  const rate = new RecentRate(4);
  let start: DescentStart | null = null;
  const show = (s: NetadaptStatus): void => {
    r.live(() => netadaptStatusText({ ...s, elapsedSeconds: r.elapsed() }));
  };
  const onDescent = (d: DescentStart): void => {
    start = d;
    rate.add(r.elapsed(), d.iteration);
    const left = stepsLeft(d.latencyMs, d);
    r.event({ type: 'start', command: 'netadapt', ...d, iterationsLeft: left, elapsedSeconds: r.elapsed() });
    show({ iteration: d.iteration, latencyMs: d.latencyMs, targetMs: d.targetMs, accuracy: d.accuracy, left, elapsedSeconds: r.elapsed(), etaSeconds: null });
  };
  const onIteration = (iteration: number, s: IterationSummary): void => {
    if (start === null) return;
    const t = r.elapsed();
    rate.add(t, iteration);
    const left = stepsLeft(s.latencyPredictedMs, start);
    const eta = rate.eta(iteration + left, iteration);
    r.event({ type: 'iteration', runId: start.runId, ...s, targetMs: start.targetMs, iterationsLeft: left, elapsedSeconds: t, etaSeconds: finite(eta) });
    show({ iteration, latencyMs: s.latencyPredictedMs, targetMs: start.targetMs, accuracy: s.accuracy, left, elapsedSeconds: t, etaSeconds: eta });
  };
  const finish = (x: NetadaptResult): void => {
    const last = x.iterations.at(-1);
    r.event({ type: 'end', runId: x.runId, iterations: x.iterations.length, latencyMs: last?.latencyPredictedMs ?? x.seed.latencyMs, targetMs: x.targetMs, elapsedSeconds: r.elapsed() });
    r.end();
  };
  return { hooks: { log: (line) => r.note(line), onDescent, onIteration }, finish };
}

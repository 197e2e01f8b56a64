// The runner a search's measuring latency sources time on (`--latency measure` and `paired:REF` with `--runner`):
// carried in the source's spec, so the worker threads that time candidates open the same runner, backend and thread
// count the command was given, and the run's stored settings (and its cache key) name it. Absent: the node runner's
// wasm backend on one thread, as runs made before runners could be chosen were timed. This module stays light (the
// search's workers label with it before tfjs loads); choosing and opening the runner is searchRunner.ts.
import { type RunnerName, runnerNames } from './runners/interface.js';

export interface SourceRunner {
  readonly name: RunnerName;
  /** As the runner's `--backend` names it (onnxruntime: the graph optimisation level, cpu-basic...). */
  readonly backend: string;
  readonly threads: number;
}

/** Where a source that names no runner times: the node runner on one wasm thread. */
export const DEFAULT_SOURCE_RUNNER: SourceRunner = { name: 'node', backend: 'wasm', threads: 1 };

/** A candidate's `latencySource`: the kind, and the runner when not the default (`measure:onnxruntime/cpu/1t`). */
export function sourceLabel(source: { readonly kind: string; readonly runner?: SourceRunner }): string {
  const r = source.runner;
  return r === undefined ? source.kind : `${source.kind}:${r.name}/${r.backend}/${r.threads}t`;
}

/** A stored or queued source's runner field (undefined when absent), or null when it is not one. */
export function sourceRunnerFromJson(v: unknown): SourceRunner | undefined | null {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null) return null;
  const o: Record<string, unknown> = { ...v };
  const name = runnerNames.find((n) => n === o['name']);
  const { backend, threads } = o;
  if (name === undefined || typeof backend !== 'string' || typeof threads !== 'number') return null;
  return { name, backend, threads };
}

/** A runner as a report names it: `onnxruntime, cpu, 1 thread`. */
export function describeRunner(r: SourceRunner): string {
  return `${r.name}, ${r.backend}, ${r.threads} thread${r.threads === 1 ? '' : 's'}`;
}

// Choosing and opening the runner of a search's latency source (sourceRunner.ts): the CLI's options checked into a
// SourceRunner, and a runner lent for each measurement a worker makes.
import { UsageError } from '../common/errors.js';
import type { WithRunner } from './paired.js';
import { checkRunner, defaultBackend, openRunner } from './runner.js';
import type { LatencyRunner, RunnerName } from './runners/interface.js';
import type { SourceRunner } from './sourceRunner.js';

/** What the user typed for the runner (each undefined when not given). */
export interface RunnerChoice {
  readonly runner: string | undefined;
  readonly backend: string | undefined;
  readonly threads: number | undefined;
}

/**
 * The runner a source of `kind` measures on, checked: undefined for the default (node, wasm, one thread), one line
 * when the choice is wrong or the source does not measure (a LUT names the runner it was built on; madds and modules
 * time nothing).
 */
export function sourceRunnerFor(kind: string, choice: RunnerChoice): SourceRunner | undefined {
  const given = [choice.runner && '--runner', choice.backend && '--runner-backend', choice.threads !== undefined && '--runner-threads'];
  const flags = given.filter((f): f is string => typeof f === 'string');
  if (flags.length === 0) return undefined;
  if (kind !== 'measure' && kind !== 'paired') {
    const why = kind === 'lut' ? 'the table names the runner it was built on (nas latency lut build --runner)' : `--latency ${kind} times nothing`;
    throw new UsageError(`${flags.join(', ')} applies to --latency measure or paired:REF only: ${why}; drop ${flags.join(', ')}`);
  }
  const name = choice.runner ?? 'node';
  const backend = choice.backend ?? defaultBackend(name);
  const threads = choice.threads ?? 1;
  const checked = checkedInSearch(name, backend, threads);
  if (checked === 'node' && backend === 'wasm' && threads === 1) return undefined;
  return { name: checked, backend, threads };
}

/** checkRunner, its message naming the search's flags (`--runner-backend`, not `--backend`: that one trains). */
function checkedInSearch(name: string, backend: string, threads: number): RunnerName {
  try {
    return checkRunner(name, backend, threads);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    throw new UsageError(e.message.replace(/--(backend|threads)\b/g, '--runner-$1'));
  }
}

/** Lends a runner for each measurement: opened for it and closed after (a browser holds Chromium and a server). */
export function lendRunner(r: SourceRunner | undefined): WithRunner {
  return async <T>(fn: (runner: LatencyRunner) => Promise<T>): Promise<T> => {
    if (r === undefined) {
      // The node runner (tfjs) is loaded when first lent, so that a search's checks run without it.
      const { openNodeRunner } = await import('./runners/node.js');
      return fn(await openNodeRunner('wasm', 1));
    }
    const runner = await openRunner(r.name, { backend: r.backend, threads: r.threads });
    try {
      return await fn(runner);
    } finally {
      await runner.close();
    }
  };
}


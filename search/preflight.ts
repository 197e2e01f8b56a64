// What a search run needs, checked in the main process before the run is created or taken over (so also on
// --resume, since files may have moved): a space with something to decide, the evaluator module and its settings,
// the files they name (the proxy evaluator's dataset), the latency source's file. Each problem is one line (exit code 2) instead of
// a crashed strategy or a failed candidate per evaluation.
import { existsSync } from 'node:fs';
import { UsageError } from '../common/errors.js';
import type { LatencySourceSpec } from '../latency/resources.js';
import type { JsonValue } from '../common/json.js';
import { checkSearchable, type SearchSpace } from '../space/searchSpace.js';
import { checkEvaluatorConfig, resolveEvaluator } from './evaluators.js';

export interface RunNeeds {
  readonly space: SearchSpace;
  /** The space as the user named it (a built-in's name or the file). */
  readonly spaceLabel: string;
  readonly evaluator: string;
  readonly evaluatorConfig: Readonly<Record<string, JsonValue>>;
  /** The latency source the workers will use, or null when the run uses none. */
  readonly latency: LatencySourceSpec | null;
}

export async function preflight(needs: RunNeeds): Promise<void> {
  checkSearchable(needs.space, needs.spaceLabel);
  await resolveEvaluator(needs.evaluator);
  // The evaluator's own checks: its settings and the files they name (the proxy evaluator's dataset).
  await checkEvaluatorConfig(needs.evaluator, needs.evaluatorConfig);
  if (needs.latency !== null) await checkLatencySource(needs.latency);
}

async function checkLatencySource(source: LatencySourceSpec): Promise<void> {
  if (source.kind === 'paired') {
    // A library caller may pass it unresolved: the reference must be measured before workers judge against it.
    const { createResourceModel } = await import('../latency/resources.js');
    await createResourceModel(source);
    return;
  }
  if (source.kind !== 'lut' && source.kind !== 'module') return;
  if (!existsSync(source.path)) {
    const fix = source.kind === 'lut' ? 'build a table with `nas latency lut build`' : 'give a module exporting latency(arch)';
    throw new UsageError(`--latency ${source.kind}:${source.path}: no such file; ${fix}, or choose another --latency source`);
  }
  // Read the table (or import the module) once here: a malformed file is one error now, not one per candidate.
  const { createResourceModel } = await import('../latency/resources.js');
  await createResourceModel(source);
}

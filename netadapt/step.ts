// One NetAdapt step: the proposals of the step fine-tuned on the engine (those a killed run finished already are
// reused from the store), every result written as it settles, and the one that loses the least accuracy per ms saved
// kept. Proposal seeds are fixed by (run seed, iteration, index), so a resumed step gives what an uninterrupted one
// would.
import { existsSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { NasError } from '../common/errors.js';
import type { Engine, EvalOutcome, EvalTask } from '../search/engine/types.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { resolveCheckpoint } from '../train/checkpoint.js';
import { pct, type RunContext, type State } from './context.js';
import { fineTuneTaskConfig } from './finetune.js';
import { writeIterationsCsv } from './iterationsCsv.js';
import { mixSeed } from '../common/seed.js';
import { measureAgainstSeed, timingRunner } from './measure.js';
import { describeShrink, type Proposal } from './proposals.js';
import type { Chosen, FineTuneConfig, IterationSummary, ProposalResult } from './types.js';

/**
 * A step: the seed (its network and latency), its number, where it starts, its budget, its proposals, and their
 * results stored by a run killed inside it.
 */
export type StepInput = Readonly<{
  seed: { readonly spec: ArchSpec; readonly ms: number };
  iteration: number;
  state: State;
  budgetMs: number;
  proposals: readonly Proposal[];
  stored: readonly ProposalResult[];
}>;

/** The stored proposals that finished with a checkpoint still on disk, by index. */
async function reusable(stored: readonly ProposalResult[]): Promise<Map<number, ProposalResult>> {
  const reuse = new Map<number, ProposalResult>();
  for (const p of stored) {
    if (p.accuracy === null || p.checkpoint === null) continue;
    try {
      await resolveCheckpoint(p.checkpoint);
      reuse.set(p.index, p);
    } catch {
      // Not on disk (killed while writing): fine-tuned again.
    }
  }
  return reuse;
}

/** Each proposal's result: reused when the stored one is of the same network, else still to fine-tune. */
async function startResults(run: RunContext, step: StepInput): Promise<ProposalResult[]> {
  const reuse = await reusable(step.stored);
  return step.proposals.map((p, index) => {
    const arch = encodeArch(p.spec);
    const done = reuse.get(index);
    if (done !== undefined && done.arch === arch) return done;
    return {
      index,
      shrink: p.shrink,
      what: describeShrink(step.state.spec, p.shrink),
      arch,
      latencyMs: p.latencyMs,
      accuracy: null,
      checkpoint: null,
      error: null,
      seed: mixSeed(run.settings.seed, step.iteration, index),
    };
  });
}

/** Writes the step's row: its proposals so far, and its choice once made. */
function record(run: RunContext, iteration: number, results: readonly ProposalResult[], chosen?: Chosen, measured?: number): void {
  run.store.recordNetadaptIteration({
    runId: run.runId,
    iteration,
    proposals: results,
    ...(chosen === undefined ? {} : { chosen, latencyPredictedMs: chosen.latencyMs, accuracy: chosen.accuracy }),
    ...(measured === undefined ? {} : { latencyMeasuredMs: measured }),
  });
}

/** The engine task of one proposal: transfer the parent's weights, fine-tune, score. */
function taskOf(run: RunContext, step: StepInput, p: Proposal, r: ProposalResult): EvalTask {
  const s = run.settings;
  const iterDir = resolvePath(s.out, `it-${String(step.iteration).padStart(3, '0')}`);
  const config: FineTuneConfig = {
    parent: step.state.checkpoint,
    parentSpec: step.state.spec,
    shrink: p.shrink,
    out: join(iterDir, `p-${String(r.index).padStart(2, '0')}`),
    steps: s.shortSteps,
    train: s.finetune,
    data: s.data,
    backend: s.backend,
    bnImages: s.bnImages,
  };
  // The id names the job of a queue engine: a resumed run re-attaches to the proposal's job instead of adding another.
  const id = `it${step.iteration}-p${r.index}-${r.arch}`;
  return { arch: p.spec, id, context: { seed: r.seed, arch: r.arch, config: fineTuneTaskConfig(config) } };
}

/**
 * A proposal's result from its engine outcome. A fine-tune run by a `nas worker` on another machine wrote its
 * checkpoint there: unless --out is a directory both machines mount at one path, it is not here, and the proposal fails
 * with that reason rather than be chosen and break the next step.
 */
function resultOf(r: ProposalResult, out: EvalOutcome): ProposalResult {
  if (!out.ok) return { ...r, error: out.reason };
  const checkpoint = String(out.metrics['checkpoint']);
  if (!existsSync(checkpoint)) {
    return { ...r, error: `the fine-tune's checkpoint ${checkpoint} is not on this machine (with --queue, --out must be a directory every worker mounts at the same path)` };
  }
  return { ...r, accuracy: out.metrics.accuracy, checkpoint };
}

/** Fine-tunes the proposals without a result, all at once on the engine, writing each result as it settles. */
async function fineTuneAll(run: RunContext, engine: Engine, step: StepInput, results: ProposalResult[]): Promise<void> {
  await Promise.all(
    step.proposals.map(async (p, index) => {
      const r = results[index];
      if (r === undefined || r.accuracy !== null) return;
      const done = resultOf(r, await engine.run(taskOf(run, step, p, r)));
      results[index] = done;
      run.log(`  ${done.what}: ${p.latencyMs.toFixed(3)} ms, ${done.accuracy === null ? `failed: ${done.error}` : `val ${pct(done.accuracy)}`}`);
      record(run, step.iteration, results);
    }),
  );
}

/** Least accuracy lost per ms saved; ties go to the earlier proposal, so the choice is deterministic. */
function pickBest(step: StepInput, results: readonly ProposalResult[]): Chosen | null {
  const { state } = step;
  let best: Chosen | null = null;
  for (const r of results) {
    if (r.accuracy === null || r.checkpoint === null) continue;
    const score = (r.accuracy - state.accuracy) / Math.max(1e-9, Math.abs(state.latencyMs - r.latencyMs));
    const p = step.proposals[r.index];
    if (p === undefined || (best !== null && !(score > best.score))) continue;
    best = { index: r.index, what: r.what, spec: p.spec, checkpoint: r.checkpoint, latencyMs: r.latencyMs, accuracy: r.accuracy, score };
  }
  return best;
}

/**
 * The chosen network timed together with the seed, in the seed's terms: the ratio of the two times the seed's latency
 * (alone, its time would be the machine's moment as much as the network's).
 */
async function measureWithSeed(run: RunContext, seed: StepInput['seed'], spec: ArchSpec): Promise<number> {
  const m = await measureAgainstSeed(seed.spec, [spec], run.settings.measureRuns, run.settings.backend, timingRunner(run.settings.latency));
  return seed.ms * ((m.ms[0] ?? Number.NaN) / m.seedMs);
}

/** Runs one step to its choice, stored with the chosen network's measured latency when the run measures each. */
export async function runStep(run: RunContext, engine: Engine, step: StepInput): Promise<{ state: State; summary: IterationSummary }> {
  const { iteration, state } = step;
  const results = await startResults(run, step);
  record(run, iteration, results);
  run.log(`iteration ${iteration}: budget ${step.budgetMs.toFixed(3)} ms, ${step.proposals.length} proposals`);
  await fineTuneAll(run, engine, step, results);
  const best = pickBest(step, results);
  // As a search whose every candidate failed: the run's failure, not an internal error.
  if (best === null) throw new NasError('E_FAILED', `iteration ${iteration}: every proposal failed (${results[0]?.error ?? '?'})`, 1);
  const measured = run.settings.measureEach ? await measureWithSeed(run, step.seed, best.spec) : undefined;
  record(run, iteration, results, best, measured);
  writeIterationsCsv(run);
  run.log(
    `iteration ${iteration}: kept ${best.what}: ${state.latencyMs.toFixed(3)} -> ${best.latencyMs.toFixed(3)} ms` +
      `${measured === undefined ? '' : ` (measured ${measured.toFixed(3)})`}, val ${pct(best.accuracy)}`,
  );
  return {
    state: { iteration, spec: best.spec, checkpoint: best.checkpoint, latencyMs: best.latencyMs, accuracy: best.accuracy },
    summary: {
      iteration,
      what: best.what,
      latencyPredictedMs: best.latencyMs,
      latencyMeasuredMs: measured ?? null,
      accuracy: best.accuracy,
      proposals: step.proposals.length,
    },
  };
}

// The end of a NetAdapt run: the final network's spec file, its longer training (from its weights or from scratch)
// and test, the width-multiplier baseline of the same latency, one joint measurement of the seed, the result and the
// baseline, and the result stored as the run's.
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { setNativeThreadsIfLoaded } from '../backend/native.js';
import { CONTENTION_CORES, disturbed, withContention } from '../latency/contention.js';
import { buildModel } from '../model/build.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch, encodeBlock } from '../space/blockString.js';
import { costOf } from '../space/cost.js';
import { resolve } from '../space/resolve.js';
import { loadCheckpointModel, resolveCheckpoint } from '../train/checkpoint.js';
import { evaluateModel } from '../train/evaluate.js';
import { trainModel } from '../train/loop.js';
import { recalibrateBatchNorm } from './batchNorm.js';
import { pct, type RunContext, type Start, type State, writeSpecFile } from './context.js';
import { netadaptData } from './finetune.js';
import type { NetadaptLatency } from './latency.js';
import { describeRunner } from '../latency/sourceRunner.js';
import { measureAgainstSeed, timingRunner } from './measure.js';
import { materialise } from './proposals.js';
import { judgeMeasured } from './verdict.js';
import type { IterationSummary, NetadaptResult, NetadaptStatus, TrainedResult } from './types.js';

/** A step may shrink to delta / 2^k for k up to this, when no layer can save the whole delta (netadapt/loop.ts). */
export const DELTA_HALVINGS = 3;

/** Where the steps ended. */
export interface Walk {
  readonly status: 'met' | 'unreachable';
  readonly state: State;
  readonly summaries: readonly IterationSummary[];
  /** The judgement that met the target (with `measure`, paired against the seed; else the step figure). */
  readonly judged?: { readonly ms: number; readonly upperMs: number };
}

type Baseline = NonNullable<NetadaptResult['baseline']>;

/** The result's own part (the rest comes from the start), stored as the run's result. */
export function complete(
  run: RunContext,
  start: Start,
  rest: Omit<NetadaptResult, 'runId' | 'targetMs' | 'deltaMs' | 'seed' | 'specFile' | 'latencyEntriesAdded' | 'runner'>,
): NetadaptResult {
  const result: NetadaptResult = {
    runId: run.runId,
    targetMs: start.targetMs,
    deltaMs: start.deltaMs,
    seed: { arch: encodeArch(start.seedSpec), latencyMs: start.seedMs, valAccuracy: start.seedAcc },
    specFile: start.specFile,
    status: rest.status,
    message: rest.message,
    iterations: rest.iterations,
    finalSpec: rest.finalSpec,
    final: rest.final,
    baseline: rest.baseline,
    latencyEntriesAdded: run.latency.added(),
    runner: timingRunner(run.settings.latency),
    measured: rest.measured,
  };
  run.store.finishRun(run.runId, result);
  return result;
}

/**
 * Uniform width multiplier whose latency matches the NetAdapt result's: bisection on the seed's materialised widths,
 * each width compared with the result by the run's own latency source, the model the result was constrained with
 * (`measure`: the width and the result timed in alternation, each comparison as long as a confirmation; judging
 * each width against the seed instead, 30 rounds each, put a width-0.542 baseline at 0.95x of the result where the
 * joint measurement at the end found 0.76x: one high reading cuts off every wider width).
 */
export async function baselineWidth(
  seed: ArchSpec,
  result: { spec: ArchSpec; ms: number },
  latency: NetadaptLatency,
): Promise<{ spec: ArchSpec; width: number; ms: number }> {
  const at = async (w: number): Promise<{ spec: ArchSpec; ms: number }> => {
    const spec = materialise({ ...materialise(seed), width: w });
    return { spec: { ...spec, name: `${seed.name}-w${w.toFixed(3)}` }, ms: result.ms * (await latency.compare(result.spec, spec)) };
  };
  let lo = 0.1;
  let hi = 1;
  let best = await at(hi);
  let bestW = hi;
  for (let i = 0; i < 12; i++) {
    const mid = (lo + hi) / 2;
    const r = await at(mid);
    // The widest multiplier at or under the latency: makeDivisible makes latency a step function of the width.
    if (r.ms <= result.ms) {
      lo = mid;
      best = r;
      bestW = mid;
    } else hi = mid;
  }
  if (best.ms > result.ms) return { ...(await at(lo)), width: lo };
  return { spec: best.spec, width: bestW, ms: best.ms };
}

/** The checkpoint to continue `dir`'s training from, or null for a fresh start. */
async function resumePoint(dir: string): Promise<string | null> {
  try {
    return await resolveCheckpoint(dir);
  } catch {
    return null;
  }
}

/** Train `spec` (from `from` weights, or from scratch) with the final recipe into `dir`, and test it. */
async function trainAndTest(run: RunContext, spec: ArchSpec, from: string | null, dir: string): Promise<TrainedResult> {
  const s = run.settings;
  // Latency measurement in this process leaves one thread set: the training takes the session's.
  if (run.trainThreads !== undefined) setNativeThreadsIfLoaded(run.trainThreads);
  const data = await netadaptData(s.data);
  const cfg = s.finalTrain;
  const model: tf.LayersModel = from === null ? buildModel(resolve(spec), { seed: cfg.seed }) : (await loadCheckpointModel(from)).model;
  try {
    const result = await trainModel({
      model,
      arch: spec,
      config: cfg,
      train: data.train,
      evalSplit: data.val,
      runDir: dir,
      resumeFrom: await resumePoint(dir),
      hooks: {
        onEpochEnd: (m) => run.log(`  ${spec.name} epoch ${m.epoch}: loss ${m.trainLoss.toFixed(4)}${m.eval ? `, val ${pct(m.eval.top1)}` : ''}`),
      },
    });
    await recalibrateBatchNorm(model, data.train, { images: s.bnImages, batchSize: cfg.batchSize, seed: cfg.seed });
    const val = await evaluateModel(model, data.val, { batchSize: cfg.evalBatchSize, seed: cfg.seed });
    const test = await evaluateModel(model, data.test, { batchSize: cfg.evalBatchSize });
    return {
      arch: encodeArch(spec),
      blocks: spec.stages.flat().map(encodeBlock),
      latencyPredictedMs: await run.latency.latency(spec),
      // Measured afterwards, against the seed (measureAgainstSeed).
      latencyMeasuredMs: null,
      valAccuracy: val.top1,
      test,
      checkpoint: result.checkpoint,
      params: costOf(resolve(spec)).params,
    };
  } finally {
    model.dispose();
  }
}

/** The final training the settings ask for (from the last weights, or from scratch), or null. */
async function trainFinal(run: RunContext, finalSpec: ArchSpec, state: State): Promise<TrainedResult | null> {
  const s = run.settings;
  if (s.final === 'none') return null;
  run.log(`final training (${s.final === 'retrain' ? 'from scratch' : 'from the last weights'}, ${s.finalTrain.epochs} epochs)`);
  const final = await trainAndTest(run, finalSpec, s.final === 'retrain' ? null : state.checkpoint, join(s.out, 'final'));
  run.log(`final: test ${pct(final.test?.top1 ?? 0)}`);
  return final;
}

/** The width baseline of the result's latency, trained from scratch with the same recipe, or null. */
async function trainBaseline(run: RunContext, result: { spec: ArchSpec; ms: number }): Promise<{ result: Baseline; spec: ArchSpec } | null> {
  const s = run.settings;
  if (s.baseline !== 'width') return null;
  const b = await baselineWidth(s.arch, result, run.latency);
  run.log(
    `baseline: width ${b.width.toFixed(3)} (${b.ms.toFixed(3)} ms against the result's ${result.ms.toFixed(3)} ms, ` +
      'by the latency source), trained from scratch with the same recipe',
  );
  const trained = await trainAndTest(run, b.spec, null, join(s.out, 'baseline'));
  await writeSpecFile(join(s.out, 'baseline.arch.json'), b.spec);
  run.log(`baseline: test ${pct(trained.test?.top1 ?? 0)}`);
  return { result: { ...trained, width: b.width }, spec: b.spec };
}

interface Trained {
  readonly final: TrainedResult | null;
  readonly baseline: Baseline | null;
  readonly measured: NetadaptResult['measured'];
}

/** The joint measurement's runs per network, in units of --measure-runs: the verdict rests on it, and it is cheap. */
const JOINT_RUNS = 6;

/**
 * The result and the baseline (whatever was trained) each timed in alternation with the seed, so that the ratio
 * final / seed, which a relative target constrains, is on one clock and is the ratio the loop judged; and the verdict.
 */
async function measureJoint(run: RunContext, start: Start, finalSpec: ArchSpec, t: Trained, baselineSpec: ArchSpec | null): Promise<Trained> {
  const others = [finalSpec, ...(baselineSpec === null ? [] : [baselineSpec])];
  const runner = timingRunner(run.settings.latency);
  const runs = JOINT_RUNS * run.settings.measureRuns;
  const { value: m, otherCores } = await withContention(() => measureAgainstSeed(start.seedSpec, others, runs, run.settings.backend, runner));
  if (otherCores !== null && otherCores > CONTENTION_CORES) run.log(disturbed('the measurement at the end', otherCores));
  const [seedM, finalM = Number.NaN, baseM] = [m.seedMs, ...m.ms];
  const measured = judgeMeasured(start.target, { seedMs: seedM, finalMs: finalM, baselineMs: baseM ?? null });
  run.log(
    `measured together (${describeRunner(runner)}, p10): seed ${seedM.toFixed(3)} ms, netadapt ${finalM.toFixed(3)} ms` +
      `${baseM === undefined ? '' : `, width baseline ${baseM.toFixed(3)} ms`}`,
  );
  run.log(measured.verdict);
  return {
    final: t.final === null ? null : { ...t.final, latencyMeasuredMs: finalM },
    baseline: t.baseline === null ? null : { ...t.baseline, latencyMeasuredMs: baseM ?? null },
    measured,
  };
}

function stopMessage(start: Start, walk: Walk, floorMs: number): string {
  const { state } = walk;
  const ms = walk.judged?.ms ?? state.latencyMs;
  const upper = walk.judged !== undefined && walk.judged.upperMs !== ms ? `, at most ${walk.judged.upperMs.toFixed(3)} ms` : '';
  return walk.status === 'met'
    ? `target met as the latency source judges: ${start.seedMs.toFixed(3)} -> ${ms.toFixed(3)} ms ` +
        `(${(ms / start.seedMs).toFixed(2)}x${upper}; target ${start.targetMs.toFixed(3)} ms) in ${state.iteration} iterations`
    : `the target ${start.targetMs.toFixed(3)} ms cannot be met: no layer can be shrunk by another ${(start.deltaMs / 2 ** DELTA_HALVINGS).toFixed(3)} ms; ` +
        `stopped at ${state.latencyMs.toFixed(3)} ms after ${state.iteration} iterations (the narrowest reachable network: ${floorMs.toFixed(3)} ms)`;
}

/** After the last step: the spec file, the final training and the baseline, measured together; the stored result. */
export async function finishRun(run: RunContext, start: Start, walk: Walk, floorMs: number): Promise<NetadaptResult> {
  const finalSpec: ArchSpec = { ...walk.state.spec, name: `${run.settings.arch.name}-netadapt` };
  await writeSpecFile(start.specFile, finalSpec);
  const message = stopMessage(start, walk, floorMs);
  run.log(message);
  const final = await trainFinal(run, finalSpec, walk.state);
  const b = await trainBaseline(run, { spec: finalSpec, ms: walk.state.latencyMs });
  const t = await measureJoint(run, start, finalSpec, { final, baseline: b?.result ?? null, measured: null }, b?.spec ?? null);
  return complete(run, start, { status: walk.status, message, iterations: walk.summaries, finalSpec, ...t });
}

/** A seed that meets the target already: it is the result, unchanged. */
export async function finishUnchanged(run: RunContext, start: Start): Promise<NetadaptResult> {
  const message = `nothing to do: the seed's latency ${start.seedMs.toFixed(3)} ms already meets the target ${start.targetMs.toFixed(3)} ms; the seed is unchanged`;
  run.log(message);
  await writeSpecFile(start.specFile, run.settings.arch);
  const status: NetadaptStatus = 'nothing-to-do';
  return complete(run, start, { status, message, iterations: [], finalSpec: run.settings.arch, final: null, baseline: null, measured: null });
}

// The NetAdapt loop (Yang et al. 2018, as MobileNetV3 ran it): from a trained seed, each step asks for proposals that
// cut the predicted latency by at least delta (a fraction of the seed's), fine-tunes each briefly from the current
// weights on the engine (a Piscina pool), and keeps the one that loses the least validation accuracy per ms saved,
// until the target is met. Every proposal's result and every choice goes into the results store as it happens, with
// the chosen network's checkpoint on disk, so a killed run resumes where it stopped; proposals have seeds fixed by
// (run seed, iteration, index), so a resumed run ends with the architecture of an uninterrupted one. Then the final
// network is trained longer (or from scratch), tested, and its latency measured.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendChoice } from '../backend/select.js';
import { ArchError, NasError } from '../common/errors.js';
import { mixSeed } from '../common/seed.js';
import { openRunner } from '../latency/runner.js';
import { measureArchsInterleaved } from '../latency/validate.js';
import type { LatencySourceSpec } from '../latency/resources.js';
import { parseTarget } from '../latency/targets.js';
import { buildModel } from '../model/build.js';
import type { JsonValue } from '../results/json.js';
import type { NetadaptIterationRecord } from '../results/netadapt.js';
import { startHeartbeat } from '../results/runs.js';
import type { Store } from '../results/store.js';
import { createInProcessEngine } from '../search/engine/inProcess.js';
import { createPoolEngine } from '../search/engine/pool.js';
import type { Engine, EvalTask } from '../search/engine/types.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch, encodeBlock } from '../space/blockString.js';
import { costOf } from '../space/cost.js';
import { resolve } from '../space/resolve.js';
import { validateArchSpec } from '../space/validate.js';
import { loadCheckpointModel, readCheckpoint, resolveCheckpoint } from '../train/checkpoint.js';
import type { TrainConfig } from '../train/config.js';
import { type EvalMetrics, evaluateModel } from '../train/evaluate.js';
import { trainModel } from '../train/loop.js';
import { recalibrateBatchNorm } from './batchNorm.js';
import { type DataKey, ensureBackend, type FineTuneConfig, netadaptData } from './finetune.js';
import { type NetadaptLatency, openNetadaptLatency } from './latency.js';
import { describeShrink, makeProposals, materialise, type Shrink, smallestReachable } from './proposals.js';

/** Everything a run needs, as JSON: stored as the run's config, and all that `--resume RUN` reads back. */
export interface NetadaptSettings {
  /** The seed network as the user named it (any width multiplier). */
  readonly arch: ArchSpec;
  readonly archRef: string;
  /** The seed's checkpoint (a checkpoint or run directory). */
  readonly checkpoint: string;
  readonly data: DataKey;
  /** `latency=12ms` or `latency=0.7x` (of the seed's predicted latency). */
  readonly target: string;
  readonly latency: LatencySourceSpec;
  /** Each step cuts at least delta x the seed's latency. */
  readonly delta: number;
  readonly shortSteps: number;
  /** 0: in process. */
  readonly workers: number;
  /** Fine-tune recipe (lr, optimizer, batch); its seed is replaced per proposal. */
  readonly finetune: TrainConfig;
  /** Final training recipe (epochs included) for the long fine-tune, the retrain and the baseline. */
  readonly finalTrain: TrainConfig;
  /** 'finetune': continue from the last chosen weights; 'retrain': from scratch, as MobileNetV3 did; 'none': skip. */
  readonly final: 'finetune' | 'retrain' | 'none';
  readonly baseline: 'width' | null;
  readonly seed: number;
  /** Run directory: proposal checkpoints, the final network, its spec file. */
  readonly out: string;
  readonly backend: BackendChoice;
  /** Measure the chosen network of every iteration too (the report's measured column). */
  readonly measureEach: boolean;
  readonly measureRuns: number;
  /** Training images the batch-norm statistics are recalibrated on before every score (0: none; see batchNorm.ts). */
  readonly bnImages: number;
}

export interface ProposalResult {
  readonly index: number;
  readonly shrink: Shrink;
  readonly what: string;
  readonly arch: string;
  readonly latencyMs: number;
  readonly accuracy: number | null;
  readonly checkpoint: string | null;
  readonly error: string | null;
  readonly seed: number;
}

export interface Chosen {
  readonly index: number;
  readonly what: string;
  readonly spec: ArchSpec;
  readonly checkpoint: string;
  readonly latencyMs: number;
  readonly accuracy: number;
  /** dAcc / |dLatency| (accuracy per ms; negative: accuracy lost). */
  readonly score: number;
}

export interface IterationSummary {
  readonly iteration: number;
  readonly what: string;
  readonly latencyPredictedMs: number;
  readonly latencyMeasuredMs: number | null;
  readonly accuracy: number;
  readonly proposals: number;
}

export interface TrainedResult {
  readonly arch: string;
  readonly blocks: readonly string[];
  readonly latencyPredictedMs: number;
  readonly latencyMeasuredMs: number | null;
  readonly valAccuracy: number | null;
  readonly test: EvalMetrics | null;
  readonly checkpoint: string | null;
  readonly params: number;
}

export type NetadaptStatus = 'met' | 'unreachable' | 'nothing-to-do';

export interface NetadaptResult {
  readonly runId: string;
  readonly status: NetadaptStatus;
  readonly message: string;
  readonly targetMs: number;
  readonly deltaMs: number;
  readonly seed: { readonly arch: string; readonly latencyMs: number; readonly valAccuracy: number };
  readonly iterations: readonly IterationSummary[];
  readonly finalSpec: ArchSpec;
  /** The final network's spec file (usable by train-final, export and latency). */
  readonly specFile: string;
  readonly final: TrainedResult | null;
  readonly baseline: (TrainedResult & { readonly width: number }) | null;
  readonly latencyEntriesAdded: number;
  /**
   * The seed, the final network and the baseline timed whole together at the end (node runner, wasm, one thread,
   * 10th percentile of interleaved runs), so that they are comparable; the target in measured terms (a relative
   * target applied to the seed's measured latency). Null when nothing was trained.
   */
  readonly measured: {
    readonly seedMs: number;
    readonly finalMs: number;
    readonly baselineMs: number | null;
    readonly targetMs: number;
  } | null;
}

export interface RunHooks {
  readonly log?: (line: string) => void;
  /** After an iteration is stored (tests kill the process here). */
  readonly onIteration?: (iteration: number) => void;
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;

/** The checkpoint's network must be the seed's (at width 1, after the multiplier): one-line error otherwise. */
export async function checkSeedCheckpoint(spec: ArchSpec, checkpoint: string): Promise<string> {
  const dir = await resolveCheckpoint(checkpoint);
  const ck = await readCheckpoint(dir);
  const want = encodeArch(materialise(spec));
  const has = encodeArch(materialise(ck.arch));
  if (want !== has) {
    throw new ArchError(`checkpoint ${dir} is of another architecture: it has ${has}, --arch gives ${want} (pass the checkpoint's --arch, --input, --small-input)`);
  }
  return dir;
}

function engineFor(workers: number): Engine {
  const setup = { evaluatorUrl: new URL('./finetune.js', import.meta.url).href, latency: null };
  return workers > 0 ? createPoolEngine(setup, { workers }) : createInProcessEngine(setup);
}

interface State {
  readonly iteration: number;
  readonly spec: ArchSpec;
  readonly checkpoint: string;
  readonly latencyMs: number;
  readonly accuracy: number;
}

function chosenOf(r: NetadaptIterationRecord): Chosen | null {
  const c = r.chosen as unknown as Chosen | null;
  return c === null ? null : { ...c, spec: validateArchSpec(c.spec) };
}

async function evaluateCheckpoint(dir: string, data: DataKey, batch: number, seed: number, bnImages: number): Promise<number> {
  const d = await netadaptData(data);
  const { model } = await loadCheckpointModel(dir);
  try {
    await recalibrateBatchNorm(model, d.train, { images: bnImages, batchSize: batch, seed });
    return (await evaluateModel(model, d.val, { batchSize: batch, seed })).top1;
  } finally {
    model.dispose();
  }
}

/**
 * Whole-network latency of `specs` on the node runner (wasm, one thread), timed together in interleaved rounds so
 * that a spell of load falls on all of them alike: the 10th percentile of `runs` runs, the lowest of two passes.
 * The training backend is selected again afterwards.
 */
async function measureTogether(specs: readonly ArchSpec[], runs: number, backend: BackendChoice): Promise<number[]> {
  const runner = await openRunner('node', { backend: 'wasm', threads: 1 });
  try {
    return await measureArchsInterleaved(runner, specs, { statistic: 'p10', warmup: 5, runs: Math.max(runs, 20) });
  } finally {
    await runner.close();
    await ensureBackend(backend);
  }
}

/**
 * Uniform width multiplier whose latency matches the NetAdapt result's: bisection on the seed's materialised widths
 * with the run's own latency source, the model the result was constrained with (a LUT calibrated on the seed's
 * narrower variants follows measured ratios; timing each bisection step instead was noisier: at 32 px one paired
 * measurement put a width-0.670 baseline 4% under the result, and the final joint measurement 20% over it).
 */
async function baselineWidth(
  seed: ArchSpec,
  resultMs: number,
  latency: NetadaptLatency,
): Promise<{ spec: ArchSpec; width: number; ms: number }> {
  const at = async (w: number): Promise<{ spec: ArchSpec; ms: number }> => {
    const spec = materialise({ ...materialise(seed), width: w });
    return { spec: { ...spec, name: `${seed.name}-w${w.toFixed(3)}` }, ms: await latency.latency(spec) };
  };
  let lo = 0.1;
  let hi = 1;
  let best = await at(hi);
  let bestW = hi;
  for (let i = 0; i < 12; i++) {
    const mid = (lo + hi) / 2;
    const r = await at(mid);
    // The widest multiplier at or under the latency: makeDivisible makes latency a step function of the width.
    if (r.ms <= resultMs) {
      lo = mid;
      best = r;
      bestW = mid;
    } else hi = mid;
  }
  if (best.ms > resultMs) return { ...(await at(lo)), width: lo };
  return { spec: best.spec, width: bestW, ms: best.ms };
}

/** Train `spec` (from `from` weights, or from scratch) with the final recipe and test it. */
async function trainAndTest(
  spec: ArchSpec,
  from: string | null,
  settings: NetadaptSettings,
  dir: string,
  latency: NetadaptLatency,
  log: (line: string) => void,
): Promise<TrainedResult> {
  const data = await netadaptData(settings.data);
  const cfg = settings.finalTrain;
  let model: tf.LayersModel;
  if (from === null) model = buildModel(resolve(spec), { seed: cfg.seed });
  else {
    model = (await loadCheckpointModel(from)).model;
  }
  try {
    let resumeFrom: string | null = null;
    try {
      resumeFrom = await resolveCheckpoint(dir);
    } catch {
      resumeFrom = null;
    }
    const result = await trainModel({
      model,
      arch: spec,
      config: cfg,
      train: data.train,
      evalSplit: data.val,
      runDir: dir,
      resumeFrom,
      hooks: {
        onEpochEnd: (m) => log(`  ${spec.name} epoch ${m.epoch}: loss ${m.trainLoss.toFixed(4)}${m.eval ? `, val ${pct(m.eval.top1)}` : ''}`),
      },
    });
    await recalibrateBatchNorm(model, data.train, { images: settings.bnImages, batchSize: cfg.batchSize, seed: cfg.seed });
    const val = await evaluateModel(model, data.val, { batchSize: cfg.evalBatchSize, seed: cfg.seed });
    const test = await evaluateModel(model, data.test, { batchSize: cfg.evalBatchSize });
    return {
      arch: encodeArch(spec),
      blocks: spec.stages.flat().map(encodeBlock),
      latencyPredictedMs: await latency.latency(spec),
      // Measured afterwards, together with the seed and the other network (measureTogether).
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


/** Start a run: a new record in the store, then the loop. */
export async function startNetadapt(settings: NetadaptSettings, store: Store, hooks: RunHooks = {}): Promise<NetadaptResult> {
  await checkSeedCheckpoint(settings.arch, settings.checkpoint);
  parseTarget(settings.target);
  const run = store.createRun({
    kind: 'netadapt',
    config: settings as unknown as JsonValue,
    seed: settings.seed,
    arch: encodeArch(materialise(settings.arch)),
  });
  hooks.log?.(`run ${run.id}: netadapt of ${settings.archRef} to ${settings.target} (resume with --resume ${run.id})`);
  return runNetadapt(run.id, settings, store, hooks);
}

/** Continue a run after a kill: settings from its record, iterations from the store. */
export async function resumeNetadapt(runId: string, store: Store, hooks: RunHooks = {}): Promise<NetadaptResult> {
  const existing = store.requireRun(runId);
  if (existing.kind !== 'netadapt') throw new NasError('E_USAGE', `run ${runId} is a ${existing.kind} run, not a netadapt run`);
  if (existing.status === 'finished' && existing.result !== null) return existing.result as unknown as NetadaptResult;
  const run = store.acquireRun(runId);
  const settings = run.config as unknown as NetadaptSettings;
  return runNetadapt(runId, { ...settings, arch: validateArchSpec(settings.arch) }, store, hooks);
}

async function runNetadapt(runId: string, settings: NetadaptSettings, store: Store, hooks: RunHooks): Promise<NetadaptResult> {
  const log = hooks.log ?? (() => {});
  const heartbeat = startHeartbeat(store, runId);
  const latency = await openNetadaptLatency(settings.latency, {
    onMeasured: (n, path) => log(`measured ${n} new LUT entr${n === 1 ? 'y' : 'ies'} into ${path}`),
  });
  let engine: Engine | null = null;
  try {
    await ensureBackend(settings.backend);
    const seedSpec = materialise(settings.arch);
    const seedCk = await checkSeedCheckpoint(settings.arch, settings.checkpoint);
    const seedMs = await latency.latency(seedSpec);
    const target = parseTarget(settings.target);
    if (target.resource !== 'latency') throw new NasError('E_USAGE', `--target ${settings.target}: netadapt takes a latency target (latency=12ms or latency=0.7x)`);
    const targetMs = target.relative ? target.value * seedMs : target.value;
    const deltaMs = settings.delta * seedMs;
    const seedAcc = await evaluateCheckpoint(seedCk, settings.data, settings.finetune.batchSize, settings.seed, settings.bnImages);
    const specFile = join(settings.out, 'final.arch.json');
    const base = {
      runId,
      targetMs,
      deltaMs,
      seed: { arch: encodeArch(seedSpec), latencyMs: seedMs, valAccuracy: seedAcc },
      specFile,
    };
    await mkdir(settings.out, { recursive: true });

    if (targetMs >= seedMs) {
      const message = `nothing to do: the seed's latency ${seedMs.toFixed(3)} ms already meets the target ${targetMs.toFixed(3)} ms; the seed is unchanged`;
      log(message);
      await writeFile(specFile, `${JSON.stringify(settings.arch, null, 2)}\n`);
      const result: NetadaptResult = {
        ...base,
        status: 'nothing-to-do',
        message,
        iterations: [],
        finalSpec: settings.arch,
        final: null,
        baseline: null,
        latencyEntriesAdded: latency.added(),
        measured: null,
      };
      store.finishRun(runId, result);
      return result;
    }
    const floorMs = await latency.latency(smallestReachable(seedSpec));
    if (floorMs > targetMs) {
      // Only a forecast: a LUT's entries are measured, not monotone in width, so a partly narrowed network can
      // predict faster than the narrowest one.
      log(`the narrowest network proposals can reach predicts ${floorMs.toFixed(3)} ms, above the target ${targetMs.toFixed(3)} ms: the run may stop short of it`);
    }
    log(`seed ${seedMs.toFixed(3)} ms, val ${pct(seedAcc)}; target ${targetMs.toFixed(3)} ms, delta ${deltaMs.toFixed(3)} ms per step`);

    // Where the run stands: the last chosen network, or the seed.
    const records = store.listNetadaptIterations(runId);
    let state: State = { iteration: 0, spec: seedSpec, checkpoint: seedCk, latencyMs: seedMs, accuracy: seedAcc };
    const summaries: IterationSummary[] = [];
    let pending: NetadaptIterationRecord | null = null;
    for (const r of records) {
      const c = chosenOf(r);
      if (c === null) {
        pending = r;
        break;
      }
      state = { iteration: r.iteration, spec: c.spec, checkpoint: c.checkpoint, latencyMs: c.latencyMs, accuracy: c.accuracy };
      summaries.push({
        iteration: r.iteration,
        what: c.what,
        latencyPredictedMs: c.latencyMs,
        latencyMeasuredMs: r.latencyMeasuredMs,
        accuracy: c.accuracy,
        proposals: Array.isArray(r.proposals) ? r.proposals.length : 0,
      });
    }
    if (summaries.length > 0) log(`resuming after iteration ${state.iteration}: ${state.latencyMs.toFixed(3)} ms, val ${pct(state.accuracy)}`);

    let status: NetadaptStatus = 'met';
    while (state.latencyMs > targetMs) {
      const iteration = state.iteration + 1;
      const budget = state.latencyMs - deltaMs;
      const proposals = await makeProposals(state.spec, budget, (s) => latency.latency(s));
      if (proposals.length === 0) {
        status = 'unreachable';
        break;
      }
      const reuse = new Map<number, ProposalResult>();
      if (pending !== null && pending.iteration === iteration && Array.isArray(pending.proposals)) {
        for (const p of pending.proposals as unknown as ProposalResult[]) {
          if (p.accuracy === null || p.checkpoint === null) continue;
          try {
            await resolveCheckpoint(p.checkpoint);
            reuse.set(p.index, p);
          } catch {
            // Not on disk (killed while writing): fine-tuned again.
          }
        }
      }
      pending = null;
      const results: ProposalResult[] = proposals.map((p, index) => {
        const arch = encodeArch(p.spec);
        const done = reuse.get(index);
        return done !== undefined && done.arch === arch
          ? done
          : {
              index,
              shrink: p.shrink,
              what: describeShrink(state.spec, p.shrink),
              arch,
              latencyMs: p.latencyMs,
              accuracy: null,
              checkpoint: null,
              error: null,
              seed: mixSeed(settings.seed, iteration, index),
            };
      });
      const record = (chosen?: Chosen, measured?: number): void => {
        store.recordNetadaptIteration({
          runId,
          iteration,
          proposals: results,
          ...(chosen === undefined ? {} : { chosen, latencyPredictedMs: chosen.latencyMs, accuracy: chosen.accuracy }),
          ...(measured === undefined ? {} : { latencyMeasuredMs: measured }),
        });
      };
      record();
      engine ??= engineFor(settings.workers);
      const eng = engine;
      const iterDir = resolvePath(settings.out, `it-${String(iteration).padStart(3, '0')}`);
      log(`iteration ${iteration}: budget ${budget.toFixed(3)} ms, ${proposals.length} proposals`);
      await Promise.all(
        proposals.map(async (p, index) => {
          const r = results[index];
          if (r === undefined || r.accuracy !== null) return;
          const config: FineTuneConfig = {
            parent: state.checkpoint,
            parentSpec: state.spec,
            shrink: p.shrink,
            out: join(iterDir, `p-${String(index).padStart(2, '0')}`),
            steps: settings.shortSteps,
            train: settings.finetune,
            data: settings.data,
            backend: settings.backend,
            bnImages: settings.bnImages,
          };
          const task: EvalTask = {
            arch: p.spec,
            context: { seed: r.seed, arch: r.arch, config: config as unknown as Record<string, JsonValue> },
          };
          const out = await eng.run(task);
          results[index] = out.ok
            ? { ...r, accuracy: out.metrics.accuracy, checkpoint: String(out.metrics['checkpoint']) }
            : { ...r, error: out.reason };
          const done = results[index];
          log(`  ${done?.what}: ${p.latencyMs.toFixed(3)} ms, ${done?.accuracy === null ? `failed: ${done?.error}` : `val ${pct(done?.accuracy ?? 0)}`}`);
          record();
        }),
      );
      // Least accuracy lost per ms saved; ties go to the earlier proposal, so the choice is deterministic.
      let best: Chosen | null = null;
      for (const r of results) {
        if (r.accuracy === null || r.checkpoint === null) continue;
        const score = (r.accuracy - state.accuracy) / Math.max(1e-9, Math.abs(state.latencyMs - r.latencyMs));
        if (best === null || score > best.score) {
          const p = proposals[r.index];
          if (p === undefined) continue;
          best = { index: r.index, what: r.what, spec: p.spec, checkpoint: r.checkpoint, latencyMs: r.latencyMs, accuracy: r.accuracy, score };
        }
      }
      if (best === null) throw new Error(`iteration ${iteration}: every proposal failed (${results[0]?.error ?? '?'})`);
      const measured = settings.measureEach ? (await measureTogether([best.spec], settings.measureRuns, settings.backend))[0] : undefined;
      record(best, measured);
      log(
        `iteration ${iteration}: kept ${best.what}: ${state.latencyMs.toFixed(3)} -> ${best.latencyMs.toFixed(3)} ms` +
          `${measured === undefined ? '' : ` (measured ${measured.toFixed(3)})`}, val ${pct(best.accuracy)}`,
      );
      summaries.push({
        iteration,
        what: best.what,
        latencyPredictedMs: best.latencyMs,
        latencyMeasuredMs: measured ?? null,
        accuracy: best.accuracy,
        proposals: proposals.length,
      });
      state = { iteration, spec: best.spec, checkpoint: best.checkpoint, latencyMs: best.latencyMs, accuracy: best.accuracy };
      hooks.onIteration?.(iteration);
    }
    await engine?.close();
    engine = null;

    const finalSpec: ArchSpec = { ...state.spec, name: `${settings.arch.name}-netadapt` };
    await writeFile(specFile, `${JSON.stringify(finalSpec, null, 2)}\n`);
    const message =
      status === 'met'
        ? `target met: ${seedMs.toFixed(3)} -> ${state.latencyMs.toFixed(3)} ms (target ${targetMs.toFixed(3)} ms) in ${state.iteration} iterations`
        : `the target ${targetMs.toFixed(3)} ms cannot be met: no layer can be shrunk by another ${deltaMs.toFixed(3)} ms; ` +
          `stopped at ${state.latencyMs.toFixed(3)} ms after ${state.iteration} iterations (the narrowest reachable network: ${floorMs.toFixed(3)} ms)`;
    log(message);
    let final: TrainedResult | null = null;
    if (settings.final !== 'none') {
      log(`final training (${settings.final === 'retrain' ? 'from scratch' : 'from the last weights'}, ${settings.finalTrain.epochs} epochs)`);
      final = await trainAndTest(finalSpec, settings.final === 'retrain' ? null : state.checkpoint, settings, join(settings.out, 'final'), latency, log);
      log(`final: test ${pct(final.test?.top1 ?? 0)}`);
    }
    let baseline: NetadaptResult['baseline'] = null;
    let baselineSpec: ArchSpec | null = null;
    if (settings.baseline === 'width') {
      const b = await baselineWidth(settings.arch, state.latencyMs, latency);
      log(
        `baseline: width ${b.width.toFixed(3)} (${b.ms.toFixed(3)} ms against the result's ${state.latencyMs.toFixed(3)} ms, ` +
          'by the latency source), trained from scratch with the same recipe',
      );
      const trained = await trainAndTest(b.spec, null, settings, join(settings.out, 'baseline'), latency, log);
      baseline = { ...trained, width: b.width };
      baselineSpec = b.spec;
      await writeFile(join(settings.out, 'baseline.arch.json'), `${JSON.stringify(b.spec, null, 2)}\n`);
      log(`baseline: test ${pct(trained.test?.top1 ?? 0)}`);
    }
    let measured: NetadaptResult['measured'] = null;
    if (final !== null || baseline !== null) {
      // One joint measurement, so that the ratio final / seed (what a relative target constrains) is on one clock.
      const specs = [seedSpec, finalSpec, ...(baselineSpec === null ? [] : [baselineSpec])];
      const [seedM = Number.NaN, finalM = Number.NaN, baseM] = await measureTogether(specs, settings.measureRuns, settings.backend);
      measured = {
        seedMs: seedM,
        finalMs: finalM,
        baselineMs: baseM ?? null,
        targetMs: target.relative ? target.value * seedM : target.value,
      };
      if (final !== null) final = { ...final, latencyMeasuredMs: finalM };
      if (baseline !== null) baseline = { ...baseline, latencyMeasuredMs: baseM ?? null };
      log(
        `measured together (p10): seed ${seedM.toFixed(3)} ms, netadapt ${finalM.toFixed(3)} ms ` +
          `(${((100 * finalM) / seedM).toFixed(1)}% of the seed; target ${measured.targetMs.toFixed(3)} ms)` +
          `${baseM === undefined ? '' : `, width baseline ${baseM.toFixed(3)} ms`}`,
      );
    }
    const result: NetadaptResult = {
      ...base,
      status,
      message,
      iterations: summaries,
      finalSpec,
      final,
      baseline,
      latencyEntriesAdded: latency.added(),
      measured,
    };
    store.finishRun(runId, result);
    return result;
  } catch (e) {
    store.updateRunStatus(runId, 'failed', e instanceof Error ? e.message : String(e));
    throw e;
  } finally {
    heartbeat.stop();
    await engine?.close();
    await latency.close();
  }
}

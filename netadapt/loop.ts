// The NetAdapt loop (Yang et al. 2018, as MobileNetV3 ran it): from a trained seed, each step asks for proposals that
// cut the predicted latency by at least delta (a fraction of the seed's), fine-tunes each briefly from the current
// weights on the engine (netadapt/step.ts), and keeps the one that loses the least validation accuracy per ms saved,
// until the target is met. Every proposal's result and every choice goes into the results store as it happens, with
// the chosen network's checkpoint on disk, so a killed run resumes where it stopped; proposals have seeds fixed by
// (run seed, iteration, index), so a resumed run ends with the architecture of an uninterrupted one. Then the final
// network is trained longer (or from scratch), tested, and its latency measured (netadapt/final.ts).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ArchError, NasError } from '../common/errors.js';
import { evalKeyOf } from '../common/json.js';
import { CONTENTION_CORES, disturbed, withContention } from '../latency/contention.js';
import { parseTarget } from '../latency/targets.js';
import { startHeartbeat } from '../results/runs.js';
import type { Store } from '../results/store.js';
import { threadsPerWorker } from '../backend/threads.js';
import { createEngine, describeSplit } from '../search/engine/factory.js';
import type { Engine } from '../search/engine/types.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { loadCheckpointModel, readCheckpoint, resolveCheckpoint } from '../train/checkpoint.js';
import { evaluateModel } from '../train/evaluate.js';
import { recalibrateBatchNorm } from './batchNorm.js';
import { pct, type RunContext, type Start, type State } from './context.js';
import { DELTA_HALVINGS, finishRun, finishUnchanged, type Walk } from './final.js';
import { ensureBackend, netadaptData } from './finetune.js';
import { openNetadaptLatency } from './latency.js';
import { type Judged, type Judgement, pooledJudgement } from './pooledJudgement.js';
import { makeProposals, materialise, type Proposal, smallestReachable } from './proposals.js';
import { runStep } from './step.js';
import { readResult, readSettings, readStep } from './stored.js';
import type { IterationSummary, NetadaptResult, NetadaptSession, NetadaptSettings, ProposalResult, RunHooks } from './types.js';

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

/** Start a run: a new record in the store, then the loop. */
export async function startNetadapt(settings: NetadaptSettings, store: Store, hooks: RunHooks = {}, session: NetadaptSession = {}): Promise<NetadaptResult> {
  await checkSeedCheckpoint(settings.arch, settings.checkpoint);
  parseTarget(settings.target);
  const run = store.createRun({ kind: 'netadapt', config: settings, seed: settings.seed, arch: encodeArch(materialise(settings.arch)) });
  hooks.log?.(`run ${run.id}: netadapt of ${settings.archRef} to ${settings.target} (resume with --resume ${run.id})`);
  return runNetadapt(run.id, settings, store, hooks, session);
}

/** Continue a run after a kill: settings from its record, iterations from the store. */
export async function resumeNetadapt(runId: string, store: Store, hooks: RunHooks = {}, session: NetadaptSession = {}): Promise<NetadaptResult> {
  const existing = store.requireRun(runId);
  if (existing.kind !== 'netadapt') throw new NasError('E_USAGE', `run ${runId} is a ${existing.kind} run, not a netadapt run`);
  if (existing.status === 'finished' && existing.result !== null) return readResult(runId, existing.result);
  const settings = readSettings(runId, existing.config);
  store.acquireRun(runId);
  return runNetadapt(runId, settings, store, hooks, session);
}

/**
 * The engine, started when the first step needs it (a run with nothing to do starts no workers): the stored --workers
 * or --gpus, or this session's --queue. Queue jobs are named by the run (and each task's iteration and proposal); a
 * resumed run fine-tunes a failed proposal again, as in process.
 */
function lazyEngine(runId: string, settings: NetadaptSettings, session: NetadaptSession, log: (line: string) => void): { get(): Engine; close(): Promise<void> } {
  let engine: Engine | null = null;
  const setup = { evaluatorUrl: new URL('./finetune.js', import.meta.url).href, latency: null };
  const local = {
    workers: settings.workers,
    ...(settings.gpus === undefined ? {} : { gpus: settings.gpus }),
    ...(settings.gpus === undefined ? { threads: session.threads ?? threadsPerWorker(settings.workers) } : {}),
  };
  const opts = session.queue === undefined ? local : { workers: 0, queue: session.queue };
  const scope = { runId, evalKey: evalKeyOf({ evaluator: 'netadapt', run: runId }), rerunFailed: true };
  const start = (): Engine => {
    const split = session.queue === undefined ? describeSplit(local) : null;
    if (split !== null) log(`fine-tunes: ${split}`);
    return createEngine(setup, opts, null, scope);
  };
  return {
    get: () => (engine ??= start()),
    close: async () => {
      const e = engine;
      engine = null;
      await e?.close();
    },
  };
}

async function evaluateCheckpoint(dir: string, settings: NetadaptSettings): Promise<number> {
  const { batchSize } = settings.finetune;
  const d = await netadaptData(settings.data);
  const { model } = await loadCheckpointModel(dir);
  try {
    await recalibrateBatchNorm(model, d.train, { images: settings.bnImages, batchSize, seed: settings.seed });
    return (await evaluateModel(model, d.val, { batchSize, seed: settings.seed })).top1;
  } finally {
    model.dispose();
  }
}

/** The seed measured and scored, and the target in ms. */
async function begin(run: RunContext): Promise<Start> {
  const s = run.settings;
  await ensureBackend(s.backend);
  const seedSpec = materialise(s.arch);
  const seedCheckpoint = await checkSeedCheckpoint(s.arch, s.checkpoint);
  const seedMs = await run.latency.latency(seedSpec);
  const target = parseTarget(s.target);
  if (target.resource !== 'latency') throw new NasError('E_USAGE', `--target ${s.target}: netadapt takes a latency target (latency=12ms or latency=0.7x)`);
  const targetMs = target.relative ? target.value * seedMs : target.value;
  const seedAcc = await evaluateCheckpoint(seedCheckpoint, s);
  await mkdir(s.out, { recursive: true });
  return { seedSpec, seedCheckpoint, seedMs, seedAcc, target, targetMs, deltaMs: s.delta * seedMs, specFile: join(s.out, 'final.arch.json') };
}

/** Where a run stands from its stored steps: the last chosen network, and the proposals of a step cut short. */
interface Settled {
  readonly state: State;
  readonly summaries: IterationSummary[];
  readonly pending: { readonly iteration: number; readonly proposals: readonly ProposalResult[] } | null;
}

function settle(run: RunContext, start: Start): Settled {
  let state: State = { iteration: 0, spec: start.seedSpec, checkpoint: start.seedCheckpoint, latencyMs: start.seedMs, accuracy: start.seedAcc };
  const summaries: IterationSummary[] = [];
  for (const step of run.store.listNetadaptIterations(run.runId).map(readStep)) {
    const c = step.chosen;
    if (c === null) return { state, summaries, pending: step };
    state = { iteration: step.iteration, spec: c.spec, checkpoint: c.checkpoint, latencyMs: c.latencyMs, accuracy: c.accuracy };
    summaries.push({
      iteration: step.iteration,
      what: c.what,
      latencyPredictedMs: c.latencyMs,
      latencyMeasuredMs: step.latencyMeasuredMs,
      accuracy: c.accuracy,
      proposals: step.proposals.length,
    });
  }
  return { state, summaries, pending: null };
}

/**
 * The state judged (with `measure`, paired against the seed, with a 95% interval) and pooled with the judgements of
 * the states before it (pooledJudgement.ts), and whether the target is met beyond doubt: the pooled interval's upper
 * end under it. `history` gets this judgement.
 */
async function judge(run: RunContext, start: Start, state: State, history: Judged[]): Promise<Judgement & { met: boolean }> {
  const { value: c, otherCores } = await withContention(() => run.latency.confirm(state.spec));
  history.push({ ...c, tableMs: await run.latency.latency(state.spec) });
  const j = pooledJudgement(history);
  const met = j.upperMs <= start.targetMs;
  if (c.upperMs !== state.latencyMs) {
    const pooled = j.pooled > 1 ? `; with the ${j.pooled - 1} before it ${j.ms.toFixed(3)} ms, at most ${j.upperMs.toFixed(3)} ms` : '';
    run.log(
      `iteration ${state.iteration}: judged ${c.ms.toFixed(3)} ms, at most ${c.upperMs.toFixed(3)} ms (95%${pooled}; ` +
        `the step's figure ${state.latencyMs.toFixed(3)} ms)${met ? ': the target is met' : ', not surely under the target: going on'}`,
    );
    if (otherCores !== null && otherCores > CONTENTION_CORES) run.log(disturbed(`iteration ${state.iteration}'s judgement`, otherCores));
  }
  return { ...j, met };
}

/**
 * A proposal's figure: the state's judged latency plus what the source says the change saves or costs. With
 * `measure`, the judgement is a measurement and the change a difference of LUT predictions: a LUT's errors are per
 * layer (on this machine it called a cut of the last stage 0.76x of the seed where timed together it was 0.69x, and a
 * cut of stage 2 a 12% saving where the judgement saw none), so the state's figure is measured afresh at every step
 * rather than summed from the table's differences. With the deterministic sources this is the source's own figure.
 */
async function proposalsFrom(run: RunContext, state: State, budgetMs: number): Promise<Proposal[]> {
  const shift = state.latencyMs - (await run.latency.latency(state.spec));
  // shift 0 (the deterministic sources): the figures themselves, not sums that could round differently.
  return makeProposals(state.spec, budgetMs, async (s) => (shift === 0 ? run.latency.latency(s) : (await run.latency.latency(s)) + shift));
}

/**
 * The step's budget and proposals: delta under the state's figure, or half of it (down to delta / 8) when no single
 * layer can save a whole delta (NetAdapt's reduction schedule paces the descent; it is not meant to end a run that a
 * smaller cut would continue: on MobileNetV3-Small at 32 px few layers save 5% alone).
 */
async function stepProposals(run: RunContext, start: Start, state: State): Promise<{ budgetMs: number; proposals: Proposal[] }> {
  let step = start.deltaMs;
  for (let k = 0; ; k++) {
    const budgetMs = state.latencyMs - step;
    const proposals = await proposalsFrom(run, state, budgetMs);
    if (proposals.length > 0 || k === DELTA_HALVINGS) return { budgetMs, proposals };
    step /= 2;
    run.log(`iteration ${state.iteration + 1}: no layer can be shrunk by ${(2 * step).toFixed(3)} ms; trying ${step.toFixed(3)} ms`);
  }
}

/**
 * Steps until the target is met (and confirmed), or no proposal meets a step's budget. Every state is judged before
 * it is stepped from (seconds, against a step's minutes of fine-tuning), and each step's budget is delta under that
 * judgement pooled with the last few.
 */
async function descend(run: RunContext, start: Start, from: Settled, engine: () => Engine): Promise<Walk> {
  let { state, pending } = from;
  const summaries = [...from.summaries];
  const history: Judged[] = [];
  for (;;) {
    const judged = await judge(run, start, state, history);
    state = { ...state, latencyMs: judged.ms };
    if (judged.met) return { status: 'met', state, summaries, judged: { ms: judged.ms, upperMs: judged.upperMs } };
    const iteration = state.iteration + 1;
    const added = run.latency.added();
    const { budgetMs, proposals } = await stepProposals(run, start, state);
    if (run.latency.added() > added) run.log(`iteration ${iteration}: ${run.latency.added() - added} new latency table entries measured`);
    if (proposals.length === 0) return { status: 'unreachable', state, summaries };
    const stored = pending !== null && pending.iteration === iteration ? pending.proposals : [];
    pending = null;
    const seed = { spec: start.seedSpec, ms: start.seedMs };
    const step = await runStep(run, engine(), { seed, iteration, state, budgetMs, proposals, stored });
    summaries.push(step.summary);
    run.hooks.onIteration?.(iteration, step.summary);
    state = step.state;
  }
}

/** Says how far proposals can go, and where the run starts from. */
async function announce(run: RunContext, start: Start, from: Settled): Promise<number> {
  const floorMs = await run.latency.latency(smallestReachable(start.seedSpec));
  if (floorMs > start.targetMs) {
    // Only a forecast: a LUT's entries are measured, not monotone in width, so a partly narrowed network can
    // predict faster than the narrowest one.
    run.log(`the narrowest network proposals can reach predicts ${floorMs.toFixed(3)} ms, above the target ${start.targetMs.toFixed(3)} ms: the run may stop short of it`);
  }
  run.log(`seed ${start.seedMs.toFixed(3)} ms, val ${pct(start.seedAcc)}; target ${start.targetMs.toFixed(3)} ms, delta ${start.deltaMs.toFixed(3)} ms per step`);
  const { state } = from;
  if (from.summaries.length > 0) run.log(`resuming after iteration ${state.iteration}: ${state.latencyMs.toFixed(3)} ms, val ${pct(state.accuracy)}`);
  const { seedMs, seedAcc: seedAccuracy, targetMs, deltaMs } = start;
  run.hooks.onDescent?.({ runId: run.runId, seedMs, seedAccuracy, targetMs, deltaMs, iteration: state.iteration, latencyMs: state.latencyMs, accuracy: state.accuracy });
  return floorMs;
}

/** A resumed run's network judged again by this process's source (a measured seed's figure differs from run to run). */
async function rejudged(run: RunContext, from: Settled): Promise<Settled> {
  if (from.summaries.length === 0) return from;
  return { ...from, state: { ...from.state, latencyMs: await run.latency.latency(from.state.spec) } };
}

/** The run from its start (or where the store says it stands) to its stored result. */
async function walkAndFinish(run: RunContext, engine: ReturnType<typeof lazyEngine>): Promise<NetadaptResult> {
  const start = await begin(run);
  if (start.targetMs >= start.seedMs) return finishUnchanged(run, start);
  const from = await rejudged(run, settle(run, start));
  const floorMs = await announce(run, start, from);
  const walk = await descend(run, start, from, engine.get);
  await engine.close();
  return finishRun(run, start, walk, floorMs);
}

async function runNetadapt(runId: string, settings: NetadaptSettings, store: Store, hooks: RunHooks, session: NetadaptSession): Promise<NetadaptResult> {
  const log = hooks.log ?? (() => {});
  const heartbeat = startHeartbeat(store, runId);
  const latency = await openNetadaptLatency(settings.latency, {
    seed: materialise(settings.arch),
    backend: settings.backend,
    rounds: settings.measureRuns,
    lutPath: join(settings.out, `latency-lut.${runId}.json`),
    // A measured run's step table grows by an entry at a time: its count goes into each step's line instead.
    ...(settings.latency.kind === 'lut' ? { onMeasured: (n: number, path: string) => log(`measured ${n} new LUT entr${n === 1 ? 'y' : 'ies'} into ${path}`) } : {}),
  });
  const engine = lazyEngine(runId, settings, session, log);
  try {
    const trainThreads = session.trainThreads === undefined ? {} : { trainThreads: session.trainThreads };
    return await walkAndFinish({ runId, settings, store, latency, log, hooks, ...trainThreads }, engine);
  } catch (e) {
    store.updateRunStatus(runId, 'failed', e instanceof Error ? e.message : String(e));
    throw e;
  } finally {
    heartbeat.stop();
    await engine.close();
    await latency.close();
  }
}

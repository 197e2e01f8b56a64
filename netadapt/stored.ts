// NetAdapt's records read back from the results store, each field checked (netadapt/fields.ts): the run's settings
// (its config), each step's proposals and choice, the finished result, and the fine-tune task built from them. A
// damaged row is one line naming the run, the row and the field, not a crash several steps later.
import { backendChoices } from '../backend/choices.js';
import { NasError } from '../common/errors.js';
import type { LatencySourceSpec } from '../latency/resources.js';
import { DEFAULT_SOURCE_RUNNER, type SourceRunner, sourceRunnerFromJson } from '../latency/sourceRunner.js';
import type { NetadaptIterationRecord } from '../results/netadapt.js';
import { validateArchSpec } from '../space/validate.js';
import { parseTrainConfig, type TrainConfig } from '../train/config.js';
import type { EvalMetrics } from '../train/evaluate.js';
import { type Fail, Fields, isRecord, listOf } from './fields.js';
import type { Shrink } from './proposals.js';
import { judgeMeasured } from './verdict.js';
import type {
  Chosen,
  DataKey,
  FineTuneConfig,
  IterationSummary,
  JointMeasurement,
  NetadaptResult,
  NetadaptSettings,
  ProposalResult,
  StoredStep,
  TrainedResult,
} from './types.js';

/** How a damaged stored value is reported: `what` names the run and the row. */
export function damaged(what: string): Fail {
  return (path, why) => {
    throw new NasError('E_IO', `${what} is damaged: ${path} ${why} (the results database was changed outside nas; start a new run)`);
  };
}

const archAt = (f: Fields, k: string) => f.read(k, (v) => validateArchSpec(v));
/**
 * A stored recipe. The final one keeps the seed recipe's warm-up whatever --final-epochs is (the schedule cuts a
 * warm-up longer than the training short), which parseTrainConfig's cross-check refuses: the warm-up is checked alone.
 */
function recipe(v: unknown): TrainConfig {
  if (!isRecord(v) || !isRecord(v['schedule'])) return parseTrainConfig(v);
  const warmupEpochs = v['schedule']['warmupEpochs'];
  if (typeof warmupEpochs !== 'number' || !(warmupEpochs >= 0 && Number.isFinite(warmupEpochs))) {
    throw new TypeError(`schedule.warmupEpochs must be a finite number >= 0, got ${JSON.stringify(warmupEpochs)}`);
  }
  const c = parseTrainConfig({ ...v, schedule: { ...v['schedule'], warmupEpochs: 0 } });
  return { ...c, schedule: { ...c.schedule, warmupEpochs } };
}

const trainAt = (f: Fields, k: string) => f.read(k, recipe);

function dataKey(f: Fields): DataKey {
  return {
    dataset: f.str('dataset'),
    dataDir: f.strOrNull('dataDir'),
    input: f.int('input', 1),
    channels: f.int('channels', 1),
    fit: f.oneOf('fit', ['resize', 'pad'] as const),
    trainImages: f.orNull('trainImages', (o, k) => o.int(k, 1)),
    valImages: f.orNull('valImages', (o, k) => o.int(k, 1)),
    dataSeed: f.int('dataSeed'),
  };
}

/** A stored runner (absent: undefined, the node default; runs stored before runners could be chosen have none). */
function runnerAt(f: Fields, k: string): SourceRunner | undefined {
  return f.read(k, (v) => {
    const r = sourceRunnerFromJson(v);
    if (r === null) throw new Error(`must be a runner ({ name, backend, threads }), got ${JSON.stringify(v)}`);
    return r;
  });
}

function latencySource(f: Fields): LatencySourceSpec {
  const kind = f.oneOf('kind', ['lut', 'measure', 'madds', 'module'] as const);
  if (kind === 'lut' || kind === 'module') return { kind, path: f.str('path') };
  const runner = kind === 'measure' ? runnerAt(f, 'runner') : undefined;
  return runner === undefined ? { kind } : { kind: 'measure', runner };
}

function shrink(f: Fields): Shrink {
  const kind = f.oneOf('kind', ['expansion', 'group'] as const);
  if (kind === 'expansion') return { kind, block: f.int('block'), from: f.int('from', 1), to: f.int('to', 1) };
  return { kind, blocks: f.list('blocks', (v, p) => intAt(v, p, f.fail)), from: f.int('from', 1), to: f.int('to', 1) };
}

function intAt(v: unknown, path: string, fail: Fail): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fail(path, `must be an integer >= 0, got ${JSON.stringify(v)}`);
}

function strAt(v: unknown, path: string, fail: Fail): string {
  return typeof v === 'string' ? v : fail(path, `must be a string, got ${JSON.stringify(v)}`);
}

/** A run's config: the settings it was started with. */
export function readSettings(runId: string, config: unknown): NetadaptSettings {
  const f = Fields.of(config, 'config', damaged(`run ${runId}: its stored settings`));
  const delta = f.num('delta');
  if (!(delta > 0 && delta < 1)) f.fail(f.at('delta'), `must be in (0, 1), got ${delta}`);
  return {
    arch: archAt(f, 'arch'),
    archRef: f.str('archRef'),
    checkpoint: f.str('checkpoint'),
    data: dataKey(f.obj('data')),
    target: f.str('target'),
    latency: latencySource(f.obj('latency')),
    delta,
    shortSteps: f.int('shortSteps', 1),
    workers: f.int('workers'),
    ...(f.has('gpus') ? { gpus: f.list('gpus', (v, p) => strAt(v, p, f.fail)) } : {}),
    finetune: trainAt(f, 'finetune'),
    finalTrain: trainAt(f, 'finalTrain'),
    final: f.oneOf('final', ['finetune', 'retrain', 'none'] as const),
    baseline: f.oneOf('baseline', ['width', null] as const),
    seed: f.int('seed'),
    out: f.str('out'),
    backend: f.oneOf('backend', backendChoices),
    measureEach: f.bool('measureEach'),
    measureRuns: f.int('measureRuns', 1),
    bnImages: f.int('bnImages'),
  };
}

function proposal(f: Fields): ProposalResult {
  return {
    index: f.int('index'),
    shrink: shrink(f.obj('shrink')),
    what: f.str('what'),
    arch: f.str('arch'),
    latencyMs: f.num('latencyMs'),
    accuracy: f.numOrNull('accuracy'),
    checkpoint: f.strOrNull('checkpoint'),
    error: f.strOrNull('error'),
    seed: f.int('seed'),
  };
}

function chosen(f: Fields): Chosen {
  return {
    index: f.int('index'),
    what: f.str('what'),
    spec: archAt(f, 'spec'),
    checkpoint: f.str('checkpoint'),
    latencyMs: f.num('latencyMs'),
    accuracy: f.num('accuracy'),
    score: f.num('score'),
  };
}

/** One netadapt_iterations row: the step's proposals and its choice. */
export function readStep(r: NetadaptIterationRecord): StoredStep {
  const fail = damaged(`run ${r.runId}: the stored step of iteration ${r.iteration}`);
  return {
    iteration: r.iteration,
    proposals: listOf(r.proposals, 'proposals', fail, (v, p) => proposal(Fields.of(v, p, fail))),
    chosen: r.chosen === null ? null : chosen(Fields.of(r.chosen, 'chosen', fail)),
    latencyMeasuredMs: r.latencyMeasuredMs,
  };
}

function evalMetrics(f: Fields): EvalMetrics {
  return { top1: f.num('top1'), top5: f.num('top5'), loss: f.num('loss'), count: f.int('count') };
}

function trained(f: Fields): TrainedResult {
  return {
    arch: f.str('arch'),
    blocks: f.list('blocks', (v, p) => strAt(v, p, f.fail)),
    latencyPredictedMs: f.num('latencyPredictedMs'),
    latencyMeasuredMs: f.numOrNull('latencyMeasuredMs'),
    valAccuracy: f.numOrNull('valAccuracy'),
    test: f.orNull('test', (o, k) => evalMetrics(o.obj(k))),
    checkpoint: f.strOrNull('checkpoint'),
    params: f.int('params'),
  };
}

function summary(f: Fields): IterationSummary {
  return {
    iteration: f.int('iteration', 1),
    what: f.str('what'),
    latencyPredictedMs: f.num('latencyPredictedMs'),
    latencyMeasuredMs: f.numOrNull('latencyMeasuredMs'),
    accuracy: f.num('accuracy'),
    proposals: f.int('proposals'),
  };
}

/** The joint measurement; a run stored before the verdict existed gets it from its figures. */
function measured(f: Fields): JointMeasurement {
  const m = { seedMs: f.num('seedMs'), finalMs: f.num('finalMs'), baselineMs: f.numOrNull('baselineMs'), targetMs: f.num('targetMs') };
  if (!f.has('verdict')) return judgeMeasured({ resource: 'latency', value: m.targetMs, relative: false, text: '' }, m);
  return { ...m, ratio: f.num('ratio'), targetRatio: f.num('targetRatio'), targetMet: f.bool('targetMet'), verdict: f.str('verdict') };
}

/** A finished run's result, as `--resume` of a finished run prints it again. */
export function readResult(runId: string, result: unknown): NetadaptResult {
  const f = Fields.of(result, 'result', damaged(`run ${runId}: its stored result`));
  const seed = f.obj('seed');
  return {
    runId: f.str('runId'),
    targetMs: f.num('targetMs'),
    deltaMs: f.num('deltaMs'),
    seed: { arch: seed.str('arch'), latencyMs: seed.num('latencyMs'), valAccuracy: seed.num('valAccuracy') },
    specFile: f.str('specFile'),
    status: f.oneOf('status', ['met', 'unreachable', 'nothing-to-do'] as const),
    message: f.str('message'),
    iterations: f.list('iterations', (v, p) => summary(Fields.of(v, p, f.fail))),
    finalSpec: archAt(f, 'finalSpec'),
    final: f.orNull('final', (o, k) => trained(o.obj(k))),
    baseline: f.orNull('baseline', (o, k) => ({ ...trained(o.obj(k)), width: o.obj(k).num('width') })),
    latencyEntriesAdded: f.int('latencyEntriesAdded'),
    runner: runnerAt(f, 'runner') ?? DEFAULT_SOURCE_RUNNER,
    measured: f.orNull('measured', (o, k) => measured(o.obj(k))),
  };
}

/** A fine-tune task's config (built by the loop from the stored settings and steps). */
export function readFineTuneConfig(config: unknown): FineTuneConfig {
  const f = Fields.of(config, 'config', damaged('a netadapt fine-tune task'));
  return {
    parent: f.str('parent'),
    parentSpec: archAt(f, 'parentSpec'),
    shrink: shrink(f.obj('shrink')),
    out: f.str('out'),
    steps: f.int('steps', 1),
    train: trainAt(f, 'train'),
    data: dataKey(f.obj('data')),
    backend: f.oneOf('backend', backendChoices),
    bnImages: f.int('bnImages'),
  };
}

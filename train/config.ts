// The training configuration: one typed, validated object with defaults, read from JSON (a recipe file) and
// changed by dotted command-line overrides (`optimizer.lr=0.1`). Every problem is a one-line UsageError naming
// the key.
import { fileURLToPath } from 'node:url';
import { UsageError } from '../common/errors.js';

/** The shipped training recipes (configs/ at the package root). */
export const CONFIGS_DIR = fileURLToPath(new URL('../../configs/', import.meta.url));

export const optimizerTypes = ['sgd', 'rmsprop', 'adamw'] as const;
export type OptimizerType = (typeof optimizerTypes)[number];

/**
 * One flat record for every optimizer, so that `optimizer.type=...` can be overridden alone; each type reads its
 * own fields: sgd (momentum, nesterov), rmsprop (rho, momentum, eps), adamw (betas, eps).
 */
export interface OptimizerConfig {
  readonly type: OptimizerType;
  /** Peak learning rate (after warm-up). */
  readonly lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  /** RMSProp's decay of the mean square (TF1 `decay`, Keras `rho`). */
  readonly rho: number;
  /** null: the type's default, 1e-3 for rmsprop (inside the square root, as TF1 and the MnasNet/V3 code), 1e-8 for adamw. */
  readonly eps: number | null;
  readonly betas: readonly [number, number];
}

export const scheduleTypes = ['cosine', 'step', 'constant'] as const;
export type ScheduleType = (typeof scheduleTypes)[number];

/** Learning rate per step. A linear warm-up of `warmupEpochs` (fractional allowed) precedes every type. */
export interface ScheduleConfig {
  readonly type: ScheduleType;
  readonly warmupEpochs: number;
  /** cosine: the rate it decays to at the last step. */
  readonly minLr: number;
  /** step: multiply by `decayRate` every `decayEpochs` (paper 0.97 / 2.4, torchvision 0.973 / 2). */
  readonly decayRate: number;
  readonly decayEpochs: number;
}

/** Exponential moving average of the weights (parameters and BN moving statistics). */
export interface EmaConfig {
  readonly decay: number;
  /** timm's warm-up of the decay: min(decay, 1 - (1 + t)^-warmupPower) at update t (0 at the first). */
  readonly warmup: boolean;
  readonly warmupPower: number;
}

/**
 * Which parameters weight decay skips: `bn` (BN gamma/beta: the MnasNet/MobileNetV3 TF code and MindCV's 'auto'),
 * `bn-and-bias` (also biases: timm's filter_bias_and_bn) or `none`.
 */
export const wdExcludeChoices = ['none', 'bn', 'bn-and-bias'] as const;
export type WdExclude = (typeof wdExcludeChoices)[number];

export interface TrainConfig {
  readonly epochs: number;
  readonly batchSize: number;
  /** Drop an epoch's last batch when it is smaller than batchSize (MindCV drop_remainder). */
  readonly dropLast: boolean;
  readonly optimizer: OptimizerConfig;
  readonly schedule: ScheduleConfig;
  /** L2 added to the gradient for sgd and rmsprop; decoupled (w -= lr * wd * w) for adamw. */
  readonly weightDecay: number;
  readonly wdExclude: WdExclude;
  readonly labelSmoothing: number;
  readonly ema: EmaConfig | null;
  /** Clip the global gradient norm to this value (before weight decay); null: no clipping. */
  readonly clipGradNorm: number | null;
  /** Write a checkpoint every this many epochs (the last epoch always gets one). */
  readonly checkpointEvery: number;
  /** Also write one every this many steps inside an epoch; null: epochs only. */
  readonly checkpointEverySteps: number | null;
  /** Checkpoints kept in a run directory (the newest). */
  readonly keepCheckpoints: number;
  readonly evalBatchSize: number;
  readonly seed: number;
}

export const defaultEma: EmaConfig = { decay: 0.9999, warmup: false, warmupPower: 2 / 3 };

export const defaultTrainConfig: TrainConfig = {
  epochs: 10,
  batchSize: 64,
  dropLast: true,
  optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, rho: 0.9, eps: null, betas: [0.9, 0.999] },
  schedule: { type: 'cosine', warmupEpochs: 0, minLr: 0, decayRate: 0.97, decayEpochs: 2.4 },
  weightDecay: 4e-5,
  wdExclude: 'bn',
  labelSmoothing: 0,
  ema: null,
  clipGradNorm: null,
  checkpointEvery: 1,
  checkpointEverySteps: null,
  keepCheckpoints: 2,
  evalBatchSize: 256,
  seed: 0,
};

/** The epsilon an optimizer uses (its type's default when the config leaves it null). */
export function optimizerEps(o: OptimizerConfig): number {
  return o.eps ?? (o.type === 'rmsprop' ? 1e-3 : 1e-8);
}

// ---- schema -------------------------------------------------------------------------------------------------

type Leaf =
  | { readonly kind: 'number'; readonly min?: number; readonly max?: number; readonly exclusiveMin?: boolean; readonly int?: boolean }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'pair'; readonly min: number; readonly max: number };

interface Node {
  readonly kind: 'object';
  readonly fields: Readonly<Record<string, Field>>;
  /** Default value used when a nullable object is switched on by an override of one of its keys. */
  readonly defaults?: Readonly<Record<string, unknown>>;
  /** A bare number given for the object means { [shorthand]: number } (e.g. "ema": 0.9999). */
  readonly shorthand?: string;
}

type Field = (Leaf | Node) & { readonly nullable?: boolean };

const prob = { kind: 'number', min: 0, max: 1 } as const;
const positiveInt = { kind: 'number', min: 1, int: true } as const;

const schema: Node = {
  kind: 'object',
  fields: {
    epochs: positiveInt,
    batchSize: positiveInt,
    dropLast: { kind: 'boolean' },
    optimizer: {
      kind: 'object',
      fields: {
        type: { kind: 'enum', values: optimizerTypes },
        lr: { kind: 'number', min: 0, exclusiveMin: true },
        momentum: { kind: 'number', min: 0, max: 1 },
        nesterov: { kind: 'boolean' },
        rho: prob,
        eps: { kind: 'number', min: 0, exclusiveMin: true, nullable: true },
        betas: { kind: 'pair', min: 0, max: 1 },
      },
    },
    schedule: {
      kind: 'object',
      fields: {
        type: { kind: 'enum', values: scheduleTypes },
        warmupEpochs: { kind: 'number', min: 0 },
        minLr: { kind: 'number', min: 0 },
        decayRate: { kind: 'number', min: 0, max: 1, exclusiveMin: true },
        decayEpochs: { kind: 'number', min: 0, exclusiveMin: true },
      },
    },
    weightDecay: { kind: 'number', min: 0 },
    wdExclude: { kind: 'enum', values: wdExcludeChoices },
    labelSmoothing: { kind: 'number', min: 0, max: 1 },
    ema: {
      kind: 'object',
      nullable: true,
      shorthand: 'decay',
      defaults: defaultEma as unknown as Record<string, unknown>,
      fields: {
        decay: { kind: 'number', min: 0, max: 1, exclusiveMin: true },
        warmup: { kind: 'boolean' },
        warmupPower: { kind: 'number', min: 0, exclusiveMin: true },
      },
    },
    clipGradNorm: { kind: 'number', min: 0, exclusiveMin: true, nullable: true },
    checkpointEvery: positiveInt,
    checkpointEverySteps: { ...positiveInt, nullable: true },
    keepCheckpoints: positiveInt,
    evalBatchSize: positiveInt,
    seed: { kind: 'number', min: 0, max: 2 ** 31 - 1, int: true },
  },
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v);
}

function bad(key: string, problem: string): UsageError {
  return new UsageError(`config key '${key}' ${problem}`);
}

function checkLeaf(key: string, f: Leaf, v: unknown): unknown {
  switch (f.kind) {
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(key, `must be a number, got ${describe(v)}`);
      if (f.int && !Number.isInteger(v)) throw bad(key, `must be an integer, got ${v}`);
      if (f.min !== undefined && (f.exclusiveMin ? v <= f.min : v < f.min)) {
        throw bad(key, `must be ${f.exclusiveMin ? '>' : '>='} ${f.min}, got ${v}`);
      }
      if (f.max !== undefined && v > f.max) throw bad(key, `must be <= ${f.max}, got ${v}`);
      return v;
    }
    case 'boolean':
      if (typeof v !== 'boolean') throw bad(key, `must be true or false, got ${describe(v)}`);
      return v;
    case 'enum':
      if (typeof v !== 'string' || !f.values.includes(v)) throw bad(key, `must be one of ${f.values.join(', ')}, got ${describe(v)}`);
      return v;
    case 'pair': {
      if (!Array.isArray(v) || v.length !== 2) throw bad(key, `must be a pair [a, b], got ${describe(v)}`);
      for (const x of v) {
        if (typeof x !== 'number' || !(x >= f.min && x < f.max)) throw bad(key, `values must lie in [${f.min}, ${f.max}), got ${describe(v)}`);
      }
      return [v[0], v[1]];
    }
  }
}

/** Validate `v` against `f`, filling absent keys of objects from `base` (the defaults or the current config). */
function checkField(key: string, f: Field, v: unknown, base: unknown): unknown {
  if (v === null) {
    if (f.nullable) return null;
    throw bad(key, 'must not be null');
  }
  if (f.kind !== 'object') return checkLeaf(key, f, v);
  if (typeof v === 'number' && f.shorthand !== undefined) v = { [f.shorthand]: v };
  if (!isRecord(v)) throw bad(key, `must be an object${f.nullable ? ' or null' : ''}, got ${describe(v)}`);
  const from = isRecord(base) ? base : (f.defaults ?? {});
  return checkObject(key, f, v, from);
}

function checkObject(prefix: string, node: Node, v: Record<string, unknown>, base: Readonly<Record<string, unknown>>): unknown {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    if (!Object.hasOwn(node.fields, k)) {
      const key = prefix === '' ? k : `${prefix}.${k}`;
      throw new UsageError(`unknown config key '${key}' (known: ${Object.keys(node.fields).join(', ')})`);
    }
  }
  for (const [k, f] of Object.entries(node.fields)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    out[k] = Object.hasOwn(v, k) ? checkField(key, f, v[k], base[k]) : checkField(key, f, base[k], base[k]);
  }
  return out;
}

function checkCrossFields(c: TrainConfig): TrainConfig {
  if (c.schedule.warmupEpochs > c.epochs) {
    throw bad('schedule.warmupEpochs', `(${c.schedule.warmupEpochs}) must not exceed epochs (${c.epochs})`);
  }
  if (c.optimizer.nesterov && c.optimizer.type === 'sgd' && c.optimizer.momentum === 0) {
    throw bad('optimizer.nesterov', 'needs optimizer.momentum > 0');
  }
  return c;
}

/** A TrainConfig from JSON (a recipe file's content): absent keys take the defaults; unknown keys are errors. */
export function parseTrainConfig(json: unknown, defaults: TrainConfig = defaultTrainConfig): TrainConfig {
  if (!isRecord(json)) throw new UsageError(`a training config must be a JSON object, got ${describe(json)}`);
  return checkCrossFields(checkObject('', schema, json, defaults as unknown as Record<string, unknown>) as TrainConfig);
}

/** Parse the text after '=' by the type of the field it sets. */
function parseValue(key: string, f: Field, text: string): unknown {
  const t = text.trim();
  if (t === 'null' && (f.nullable || f.kind !== 'object')) return null;
  if (f.kind === 'object') {
    const n = Number(t);
    if (f.shorthand !== undefined && t !== '' && Number.isFinite(n)) return n;
    try {
      return JSON.parse(t) as unknown;
    } catch {
      throw bad(key, `must be a JSON object${f.nullable ? ' or null' : ''}, got '${t}'`);
    }
  }
  switch (f.kind) {
    case 'number': {
      const n = t === '' ? Number.NaN : Number(t);
      if (!Number.isFinite(n)) throw bad(key, `must be a number, got '${t}'`);
      return n;
    }
    case 'boolean':
      if (t === 'true') return true;
      if (t === 'false') return false;
      throw bad(key, `must be true or false, got '${t}'`);
    case 'enum':
      return t;
    case 'pair': {
      const parts = t.replace(/^\[|\]$/g, '').split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s)));
      return parts;
    }
  }
}

/**
 * Apply dotted overrides (`optimizer.lr=0.1`, `epochs=3`, `ema.decay=0.999`, `ema=null`, `optimizer.betas=0.9,0.99`)
 * with type checking; setting a key inside a null object (ema) switches it on with its defaults.
 */
export function applyOverrides(config: TrainConfig, overrides: readonly string[]): TrainConfig {
  const raw = structuredClone(config) as unknown as Record<string, unknown>;
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new UsageError(`override '${o}' should be key=value (e.g. optimizer.lr=0.1)`);
    const path = o.slice(0, eq).trim().split('.');
    let node: Node = schema;
    let target = raw;
    for (let i = 0; i < path.length; i++) {
      const k = path[i] ?? '';
      const key = path.slice(0, i + 1).join('.');
      const f = node.fields[k];
      if (!Object.hasOwn(node.fields, k) || f === undefined) {
        throw new UsageError(`unknown config key '${key}' (known: ${Object.keys(node.fields).map((n) => (i === 0 ? n : `${path.slice(0, i).join('.')}.${n}`)).join(', ')})`);
      }
      if (i === path.length - 1) {
        target[k] = parseValue(key, f, o.slice(eq + 1));
        break;
      }
      if (f.kind !== 'object') throw new UsageError(`config key '${key}' is a value, not a group: '${path.join('.')}' does not exist`);
      if (!isRecord(target[k])) target[k] = structuredClone(f.defaults ?? {});
      target = target[k] as Record<string, unknown>;
      node = f;
    }
  }
  return parseTrainConfig(raw, config);
}

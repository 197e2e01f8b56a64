// Checkpoints: one directory per checkpoint inside a run directory, written atomically.
//
//   <run>/latest                 name of the newest complete checkpoint ("epoch-0003"), replaced by rename
//   <run>/epoch-0003/            after 3 epochs (step-00001234/ for a checkpoint inside an epoch)
//     model.json  weights.bin    the LayersModel (tfjs format: tf.loadLayersModel loads it once model/layers.ts is imported)
//     optimizer.bin  ema.bin     optimizer slots and EMA weights, float32, indexed in state.json
//     state.json                 loop state (epoch, step, dropout RNG states, metrics so far) and the indexes
//     arch.json  config.json     the ArchSpec (and its canonical string) and the TrainConfig
//     manifest.json              written last: size and sha256 of every file above, the canonical arch string
//
// A checkpoint is written into a fresh `.tmp-*` directory, every file fsynced, then renamed into place; `latest`
// is replaced the same way. A killed writer leaves only a `.tmp-*` directory, which is never read and is removed by
// the next writer. Reading verifies every file against the manifest.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { replaceFile, syncDir, writeDurable } from '../common/atomicFs.js';
import { ArchError, NasError } from '../common/errors.js';
import { Dropout, type DropoutRngState } from '../model/layers.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { validateArchSpec } from '../space/validate.js';
import { parseTrainConfig, type TrainConfig } from './config.js';
import type { EmaState } from './ema.js';
import type { EvalMetrics } from './evaluate.js';
import type { OptimizerState, SlotState } from './optimizers.js';

export const CHECKPOINT_FORMAT = 'nas-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** Metrics of one epoch (or of the last, partial one when a run stops at maxSteps). */
export interface EpochMetrics {
  /** Epochs completed (fractional for a partial last epoch). */
  readonly epoch: number;
  /** Global steps completed. */
  readonly step: number;
  readonly trainLoss: number;
  /** Learning rate of the epoch's last step. */
  readonly lr: number;
  readonly seconds: number;
  readonly imagesPerSec: number;
  /** Evaluation after the epoch (EMA weights when EMA is on); null without an evaluation split. */
  readonly eval: EvalMetrics | null;
}

/** Where the loop stands; enough, with the weights and optimizer state, to continue as if never stopped. */
export interface LoopState {
  /** Index of the epoch in progress (0-based); equals completed epochs at an epoch boundary. */
  readonly epoch: number;
  /** Steps done inside that epoch (0 at a boundary). */
  readonly stepInEpoch: number;
  /** Global steps done. */
  readonly step: number;
  /** Sum and count of the losses of the epoch in progress (its mean train loss survives a mid-epoch resume). */
  readonly epochLossSum: number;
  readonly epochLossCount: number;
  /** Every Dropout layer's mask stream, by layer name. */
  readonly dropout: Readonly<Record<string, DropoutRngState>>;
  readonly history: readonly EpochMetrics[];
  readonly seed: number;
}

export interface CheckpointContents {
  readonly arch: ArchSpec;
  readonly config: TrainConfig;
  readonly loop: LoopState;
  readonly optimizer: OptimizerState | null;
  readonly ema: EmaState | null;
}

export interface Checkpoint extends CheckpointContents {
  readonly path: string;
  /** The canonical arch string (space/blockString.ts encodeArch). */
  readonly archString: string;
  /** The model's saved form, for tf.loadLayersModel(tf.io.fromMemory(...)) or loading weights into a built model. */
  readonly artifacts: tf.io.ModelArtifacts;
}

interface ManifestFile {
  readonly bytes: number;
  readonly sha256: string;
}

interface Manifest {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: number;
  readonly arch: string;
  readonly epoch: number;
  readonly step: number;
  readonly files: Readonly<Record<string, ManifestFile>>;
}

interface TensorIndex {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
}

interface StateFile {
  readonly loop: LoopState;
  readonly optimizer: { readonly type: OptimizerState['type']; readonly iterations: number; readonly slots: readonly (TensorIndex & { readonly slot: string })[] } | null;
  readonly ema: { readonly updates: number; readonly weights: readonly TensorIndex[] } | null;
}

const CHECKPOINT_RE = /^(epoch-\d{4,}|step-\d{8,})$/;
const LATEST = 'latest';

export function epochCheckpointName(epochsDone: number): string {
  return `epoch-${String(epochsDone).padStart(4, '0')}`;
}

export function stepCheckpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

// ---- dropout RNG states -------------------------------------------------------------------------------------

export function dropoutStates(model: tf.LayersModel): Record<string, DropoutRngState> {
  const out: Record<string, DropoutRngState> = {};
  for (const layer of model.layers) if (layer instanceof Dropout) out[layer.name] = layer.getState();
  return out;
}

export function restoreDropoutStates(model: tf.LayersModel, states: Readonly<Record<string, DropoutRngState>>): void {
  for (const layer of model.layers) {
    if (!(layer instanceof Dropout)) continue;
    const s = states[layer.name];
    if (!s) throw new NasError('E_IO', `checkpoint has no dropout state for layer ${layer.name}`);
    layer.setState(s);
  }
}

// ---- writing ------------------------------------------------------------------------------------------------

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function bytesOf(buffer: ArrayBuffer): Uint8Array {
  return new Uint8Array(buffer);
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i] as number)) return false;
  return true;
}

/** Float32 tensors packed into one buffer, with their index. */
function pack<T extends { readonly shape: readonly number[]; readonly data: Float32Array }>(
  items: readonly T[],
): { buffer: Uint8Array; offsets: number[] } {
  const total = items.reduce((a, t) => a + t.data.length, 0);
  const all = new Float32Array(total);
  const offsets: number[] = [];
  let at = 0;
  for (const t of items) {
    offsets.push(at * 4);
    all.set(t.data, at);
    at += t.data.length;
  }
  return { buffer: new Uint8Array(all.buffer), offsets };
}

async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved) throw new Error('model.save produced no artifacts');
  return saved;
}

function weightBytes(artifacts: tf.io.ModelArtifacts): Uint8Array {
  const data = artifacts.weightData;
  if (data === undefined) return new Uint8Array(0);
  return bytesOf(tf.io.CompositeArrayBuffer.join(data));
}

async function removeTree(runDir: string, name: string): Promise<void> {
  // Renamed first, so that a directory being deleted never looks like a checkpoint.
  const trash = join(runDir, `.trash-${name}-${randomBytes(4).toString('hex')}`);
  try {
    await rename(join(runDir, name), trash);
  } catch {
    return;
  }
  await rm(trash, { recursive: true, force: true });
}

/** Remove what killed writers left behind (`.tmp-*`, `.trash-*`, `latest.tmp-*`). */
export async function cleanRunDir(runDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(runDir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith('.tmp-') || n.startsWith('.trash-') || n.startsWith(`${LATEST}.tmp-`)) {
      await rm(join(runDir, n), { recursive: true, force: true });
    }
  }
}

export interface WriteOptions {
  /** Checkpoints to keep in the run directory, this one included (default 2). */
  readonly keep?: number;
}

/**
 * Write a checkpoint named `name` into `runDir` atomically, point `latest` at it and prune older ones.
 * Refuses (NasError E_DIVERGED) to save non-finite weights, so a diverged run keeps its last good checkpoint.
 */
export async function writeCheckpoint(
  runDir: string,
  name: string,
  model: tf.LayersModel,
  contents: CheckpointContents,
  opts: WriteOptions = {},
): Promise<string> {
  if (!CHECKPOINT_RE.test(name)) throw new Error(`bad checkpoint name ${name}`);
  const archString = encodeArch(contents.arch);
  const artifacts = await modelArtifacts(model);
  const weights = weightBytes(artifacts);
  const weightFloats = new Float32Array(weights.buffer, weights.byteOffset, weights.byteLength / 4);
  const optSlots: readonly SlotState[] = contents.optimizer?.slots ?? [];
  const emaWeights = contents.ema?.weights ?? [];
  if (!allFinite(weightFloats) || !optSlots.every((s) => allFinite(s.data)) || !emaWeights.every((w) => allFinite(w.data))) {
    throw new NasError('E_DIVERGED', `not writing checkpoint ${name}: the weights are not finite (training diverged)`, 1);
  }

  const opt = pack(optSlots);
  const ema = pack(emaWeights);
  const state: StateFile = {
    loop: contents.loop,
    optimizer: contents.optimizer
      ? {
          type: contents.optimizer.type,
          iterations: contents.optimizer.iterations,
          slots: optSlots.map((s, i) => ({ name: s.param, slot: s.slot, shape: s.shape, offset: opt.offsets[i] ?? 0 })),
        }
      : null,
    ema: contents.ema
      ? {
          updates: contents.ema.updates,
          weights: emaWeights.map((w, i) => ({ name: w.name, shape: w.shape, offset: ema.offsets[i] ?? 0 })),
        }
      : null,
  };
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
  };
  const files: [string, Uint8Array][] = [
    ['model.json', Buffer.from(JSON.stringify(modelJson))],
    ['weights.bin', weights],
    ['state.json', Buffer.from(JSON.stringify(state))],
    ['arch.json', Buffer.from(JSON.stringify({ canonical: archString, spec: contents.arch }, null, 2))],
    ['config.json', Buffer.from(JSON.stringify(contents.config, null, 2))],
  ];
  if (contents.optimizer) files.push(['optimizer.bin', opt.buffer]);
  if (contents.ema) files.push(['ema.bin', ema.buffer]);
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    arch: archString,
    epoch: contents.loop.epoch,
    step: contents.loop.step,
    files: Object.fromEntries(files.map(([n, d]) => [n, { bytes: d.byteLength, sha256: sha256(d) }])),
  };

  await mkdir(runDir, { recursive: true });
  const tmp = await mkdtemp(join(runDir, '.tmp-'));
  try {
    for (const [n, d] of files) await writeDurable(join(tmp, n), d);
    await writeDurable(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
    await syncDir(tmp);
    await removeTree(runDir, name);
    await rename(tmp, join(runDir, name));
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new NasError('E_IO', `cannot write checkpoint ${join(runDir, name)}: ${(e as Error).message}`, 1);
  }
  await syncDir(runDir);
  await replaceFile(join(runDir, LATEST), `${name}\n`, { durable: true });
  await prune(runDir, name, opts.keep ?? 2);
  return join(runDir, name);
}

async function readManifest(dir: string): Promise<Manifest | null> {
  try {
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    return m.format === CHECKPOINT_FORMAT ? m : null;
  } catch {
    return null;
  }
}

/** Checkpoint directories of a run that have a manifest, oldest first (by step). */
export async function listCheckpoints(runDir: string): Promise<{ name: string; path: string; step: number; epoch: number }[]> {
  let names: string[];
  try {
    names = await readdir(runDir);
  } catch {
    return [];
  }
  const out: { name: string; path: string; step: number; epoch: number }[] = [];
  for (const name of names) {
    if (!CHECKPOINT_RE.test(name)) continue;
    const m = await readManifest(join(runDir, name));
    if (m) out.push({ name, path: join(runDir, name), step: m.step, epoch: m.epoch });
  }
  return out.sort((a, b) => a.step - b.step || a.name.localeCompare(b.name));
}

async function prune(runDir: string, current: string, keep: number): Promise<void> {
  const all = await listCheckpoints(runDir);
  const others = all.filter((c) => c.name !== current);
  const excess = others.length - (keep - 1);
  for (const c of others.slice(0, Math.max(0, excess))) await removeTree(runDir, c.name);
}

// ---- reading ------------------------------------------------------------------------------------------------

/** A checkpoint that fails verification; `why` is the fault alone, for messages that name the checkpoint otherwise. */
class CorruptCheckpoint extends NasError {
  readonly why: string;
  constructor(dir: string, why: string) {
    super('E_IO', `checkpoint ${dir} is incomplete or corrupt: ${why}`);
    this.why = why;
  }
}

function corrupt(dir: string, why: string): NasError {
  return new CorruptCheckpoint(dir, why);
}

/** Read every file of a checkpoint and check it against the manifest. */
async function readVerified(dir: string): Promise<{ manifest: Manifest; files: Map<string, Buffer> }> {
  const manifest = await readManifest(dir);
  if (!manifest) throw corrupt(dir, 'no readable manifest.json');
  if (manifest.version !== CHECKPOINT_VERSION) throw corrupt(dir, `format version ${manifest.version}, expected ${CHECKPOINT_VERSION}`);
  const files = new Map<string, Buffer>();
  for (const [name, want] of Object.entries(manifest.files)) {
    let data: Buffer;
    try {
      data = await readFile(join(dir, name));
    } catch {
      throw corrupt(dir, `${name} is missing`);
    }
    if (data.byteLength !== want.bytes) throw corrupt(dir, `${name} has ${data.byteLength} bytes, the manifest says ${want.bytes}`);
    if (sha256(data) !== want.sha256) throw corrupt(dir, `${name} does not match its sha256`);
    files.set(name, data);
  }
  for (const required of ['model.json', 'weights.bin', 'state.json', 'arch.json', 'config.json']) {
    if (!files.has(required)) throw corrupt(dir, `the manifest lists no ${required}`);
  }
  return { manifest, files };
}

function floats(buf: Buffer, offset: number, count: number): Float32Array {
  const copy = new Uint8Array(count * 4);
  copy.set(buf.subarray(offset, offset + count * 4));
  return new Float32Array(copy.buffer);
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

function json(files: Map<string, Buffer>, name: string): unknown {
  return JSON.parse((files.get(name) ?? Buffer.alloc(0)).toString('utf8')) as unknown;
}

/**
 * Load and verify a checkpoint directory (not a run directory: see resolveCheckpoint). With `expectArch`, a
 * checkpoint of another architecture is refused with an ArchError naming both.
 */
export async function readCheckpoint(dir: string, expectArch?: ArchSpec): Promise<Checkpoint> {
  const path = resolvePath(dir);
  const { manifest, files } = await readVerified(path);
  if (expectArch) {
    const want = encodeArch(expectArch);
    if (manifest.arch !== want) {
      throw new ArchError(`checkpoint ${path} is of another architecture: it has ${manifest.arch}, this run is ${want}`);
    }
  }
  try {
    const archJson = json(files, 'arch.json') as { canonical: string; spec: unknown };
    const arch = validateArchSpec(archJson.spec);
    const config = parseTrainConfig(json(files, 'config.json'));
    const state = json(files, 'state.json') as StateFile;
    const optBuf = files.get('optimizer.bin') ?? Buffer.alloc(0);
    const emaBuf = files.get('ema.bin') ?? Buffer.alloc(0);
    const optimizer: OptimizerState | null = state.optimizer
      ? {
          type: state.optimizer.type,
          iterations: state.optimizer.iterations,
          slots: state.optimizer.slots.map((s) => ({ param: s.name, slot: s.slot, shape: s.shape, data: floats(optBuf, s.offset, size(s.shape)) })),
        }
      : null;
    const ema: EmaState | null = state.ema
      ? {
          updates: state.ema.updates,
          weights: state.ema.weights.map((w) => ({ name: w.name, shape: w.shape, data: floats(emaBuf, w.offset, size(w.shape)) })),
        }
      : null;
    const modelJson = json(files, 'model.json') as { modelTopology: NonNullable<tf.io.ModelArtifacts['modelTopology']>; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
    const weights = files.get('weights.bin') ?? Buffer.alloc(0);
    const artifacts: tf.io.ModelArtifacts = {
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
      weightData: new Uint8Array(weights).buffer,
    };
    return { path, archString: manifest.arch, arch, config, loop: state.loop, optimizer, ema, artifacts };
  } catch (e) {
    if (e instanceof NasError && e.code === 'E_IO') throw e;
    throw corrupt(path, (e as Error).message);
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** A checkpoint passed over because it failed verification. */
export interface SkippedCheckpoint {
  readonly path: string;
  readonly reason: string;
}

/** The checkpoint a path names, and the newer ones of its run directory that were corrupt and passed over. */
export interface CheckpointChoice {
  readonly path: string;
  /** null when the newest checkpoint was used; else the corrupt ones, newest first (only with allowFallback). */
  readonly fallback: { readonly skipped: readonly SkippedCheckpoint[] } | null;
}

export interface ChooseOptions {
  /** A run directory whose newest checkpoint is corrupt: use the newest intact one (true) or refuse (false). */
  readonly allowFallback: boolean;
}

/** A run directory's checkpoints, newest first: the one `latest` names, then the others by step. */
async function newestFirst(runDir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    const name = (await readFile(join(runDir, LATEST), 'utf8')).trim();
    if (CHECKPOINT_RE.test(name)) out.push(join(runDir, name));
  } catch {
    // No `latest` (a writer killed before its first checkpoint, or removed by hand): the listing decides.
  }
  for (const c of (await listCheckpoints(runDir)).reverse()) if (!out.includes(c.path)) out.push(c.path);
  return out;
}

function refuseFallback(runDir: string, skipped: readonly SkippedCheckpoint[], intact: string): NasError {
  const newest = skipped[0];
  return new NasError(
    'E_IO',
    `the newest checkpoint of ${runDir}, ${newest?.path}, is corrupt (${newest?.reason}): ` +
      `pass --allow-fallback to use the newest intact one, ${intact}`,
  );
}

/**
 * The checkpoint directory `path` names: itself when it holds a manifest (verified when read), else (a run
 * directory) its newest checkpoint when that verifies. When it does not, the newest intact one with
 * `allowFallback` (the choice says which were passed over and why), else a one-line NasError naming the corrupt
 * one. NasError E_IO when no checkpoint verifies.
 */
export async function chooseCheckpoint(path: string, opts: ChooseOptions): Promise<CheckpointChoice> {
  const p = resolvePath(path);
  if (!(await isDir(p))) throw new NasError('E_IO', `no checkpoint at ${p}: not a directory`);
  if (await readManifest(p)) return { path: p, fallback: null };
  const skipped: SkippedCheckpoint[] = [];
  for (const dir of await newestFirst(p)) {
    try {
      await readVerified(dir);
    } catch (e) {
      if (!(e instanceof NasError)) throw e;
      skipped.push({ path: dir, reason: e instanceof CorruptCheckpoint ? e.why : e.message });
      continue;
    }
    if (skipped.length === 0) return { path: dir, fallback: null };
    if (!opts.allowFallback) throw refuseFallback(p, skipped, dir);
    return { path: dir, fallback: { skipped } };
  }
  const tried = skipped.map((s) => `${s.path}: ${s.reason}`).join('; ');
  throw new NasError('E_IO', `no complete checkpoint in ${p}${tried ? ` (${tried})` : ''}`);
}

/**
 * chooseCheckpoint for resuming work this program wrote (training, NetAdapt): an older checkpoint only costs
 * recomputation, so a corrupt newest one is passed over. Commands that read a user's model use chooseCheckpoint.
 */
export async function resolveCheckpoint(path: string): Promise<string> {
  return (await chooseCheckpoint(path, { allowFallback: true })).path;
}

/** One line saying which checkpoint was used instead of which, and why (for a command's text output). */
export function describeFallback(used: string, fallback: CheckpointChoice['fallback']): string | null {
  if (fallback === null) return null;
  const skipped = fallback.skipped.map((s) => `${s.path} is corrupt (${s.reason})`).join('; ');
  return `note: ${skipped}; used the newest intact checkpoint, ${used} (--allow-fallback)`;
}

/** Whether a run directory holds any checkpoint (complete or not). */
export async function hasCheckpoints(runDir: string): Promise<boolean> {
  return (await listCheckpoints(runDir)).length > 0;
}

/** Put a checkpoint's weights into a model built from the same architecture. */
export function loadWeightsInto(model: tf.LayersModel, artifacts: tf.io.ModelArtifacts): void {
  const data = artifacts.weightData;
  if (!data || !artifacts.weightSpecs) throw new NasError('E_IO', 'checkpoint has no weights');
  const named = tf.io.decodeWeights(data, artifacts.weightSpecs);
  try {
    model.loadWeights(named, true);
  } finally {
    tf.dispose(Object.values(named));
  }
}

export interface LoadModelOptions {
  /** 'ema' (default): the averaged weights when the checkpoint has them, as training evaluated; 'raw': the trained ones. */
  readonly weights?: 'ema' | 'raw';
  /** For a run directory whose newest checkpoint is corrupt: see chooseCheckpoint (default false: refuse). */
  readonly allowFallback?: boolean;
}

export interface LoadedModel {
  readonly model: tf.LayersModel;
  readonly checkpoint: Checkpoint;
  readonly weights: 'ema' | 'raw';
  /** The corrupt newer checkpoints passed over (allowFallback), or null. */
  readonly fallback: CheckpointChoice['fallback'];
}

/** A LayersModel from a checkpoint (a checkpoint or run directory), for evaluation, prediction or export. */
export async function loadCheckpointModel(path: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  const choice = await chooseCheckpoint(path, { allowFallback: opts.allowFallback === true });
  const { fallback } = choice;
  const checkpoint = await readCheckpoint(choice.path);
  const model = await tf.loadLayersModel(tf.io.fromMemory(checkpoint.artifacts));
  const ema = checkpoint.ema;
  if ((opts.weights ?? 'ema') === 'ema' && ema) {
    const byName = new Map(ema.weights.map((w) => [w.name, w]));
    for (const w of model.weights) {
      const e = byName.get(w.originalName);
      if (!e || e.data.length !== size(w.shape as number[])) throw corrupt(checkpoint.path, `EMA weights lack ${w.originalName}`);
      tf.tidy(() => {
        w.write(tf.tensor(e.data, w.shape as number[], 'float32'));
      });
    }
    return { model, checkpoint, weights: 'ema', fallback };
  }
  return { model, checkpoint, weights: 'raw', fallback };
}

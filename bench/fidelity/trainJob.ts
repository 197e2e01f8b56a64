// One training of a fidelity study or pipeline as a worker thread gets it (bench/fidelity/trainWorker.ts), and what
// the worker posts back. Plain data only: the architecture travels as its block string and the recipe as JSON, and
// the worker reads both back with the same checks as a user's input.
import { backendChoices, type BackendName } from '../../backend/choices.js';
import { type DatasetName, isDatasetName } from '../../data/load.js';
import type { ArchSpec } from '../../space/arch.js';
import { decodeArch, encodeArch } from '../../space/blockString.js';
import { parseTrainConfig, type TrainConfig } from '../../train/config.js';

export interface TrainJob {
  /** The parent's backend, so that the worker computes exactly as the parent would. */
  readonly backend: BackendName;
  /** The wasm backend's thread count (null: the backend's default). */
  readonly threads: number | null;
  /** The results database (opened by the worker itself; SQLite in WAL mode takes both connections). */
  readonly db: string;
  readonly name: string;
  readonly arch: string;
  readonly config: string;
  readonly dataset: DatasetName;
  readonly dataDir: string | null;
  readonly trainImages: number | null;
  readonly testImages: number | null;
  readonly outDir: string;
  readonly resume: boolean;
}

/** Worker -> parent: a progress line per epoch, then the result or why it failed. */
export type TrainReply =
  | { readonly kind: 'epoch'; readonly line: string }
  | { readonly kind: 'done'; readonly runId: string; readonly top1: number }
  | { readonly kind: 'failed'; readonly message: string; readonly code: string | null; readonly exitCode: number };

export function makeTrainJob(fields: Omit<TrainJob, 'arch' | 'config' | 'name'> & { arch: ArchSpec; config: TrainConfig }): TrainJob {
  return { ...fields, name: fields.arch.name, arch: encodeArch(fields.arch), config: JSON.stringify(fields.config) };
}

const nullableNumber = (v: unknown): v is number | null => v === null || typeof v === 'number';
const nullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function bad(what: string): TypeError {
  return new TypeError(`a training job's ${what} is missing or malformed`);
}

const isBackendName = (v: unknown): v is BackendName => v !== 'auto' && backendChoices.some((c) => c === v);

function readBackend(v: unknown): BackendName {
  if (isBackendName(v)) return v;
  throw bad('backend');
}

/** The job in `v` (the worker's workerData), checked, with its architecture and recipe read back. */
export function readTrainJob(v: unknown): TrainJob & { readonly spec: ArchSpec; readonly recipe: TrainConfig } {
  if (!isObject(v)) throw bad('object');
  const { threads, db, name, arch, config, dataset, dataDir, trainImages, testImages, outDir, resume } = v;
  if (!nullableNumber(threads)) throw bad('thread count');
  if (typeof db !== 'string' || typeof outDir !== 'string') throw bad('database or run directory');
  if (typeof name !== 'string' || typeof arch !== 'string' || typeof config !== 'string') throw bad('architecture or recipe');
  if (typeof dataset !== 'string' || !isDatasetName(dataset) || !nullableString(dataDir)) throw bad('dataset');
  if (!nullableNumber(trainImages) || !nullableNumber(testImages) || typeof resume !== 'boolean') throw bad('subset or resume flag');
  const job = { backend: readBackend(v['backend']), threads, db, name, arch, config, dataset, dataDir, trainImages, testImages, outDir, resume };
  return { ...job, spec: decodeArch(arch, name), recipe: parseTrainConfig(JSON.parse(config)) };
}

/** A reply from the worker, checked; null for anything else. */
export function readTrainReply(v: unknown): TrainReply | null {
  if (!isObject(v)) return null;
  const { kind, line, runId, top1, message, code, exitCode } = v;
  if (kind === 'epoch' && typeof line === 'string') return { kind, line };
  if (kind === 'done' && typeof runId === 'string' && typeof top1 === 'number') return { kind, runId, top1 };
  if (kind === 'failed' && typeof message === 'string' && nullableString(code) && typeof exitCode === 'number') {
    return { kind, message, code, exitCode };
  }
  return null;
}

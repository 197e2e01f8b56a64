// The package entry: `import { runSearch, type EvaluateFn } from 'nas'`. It sits above every layer and only
// re-exports; what each name does is documented where it is declared. docs/LIBRARY.md is the guide with an example.

// ---- Architectures: the one IR, its block-string codec, the resolve step, costs and reference networks ----

/** The architecture IR (plain JSON-serialisable data): an ArchSpec is input, stem, stages of blocks, head. */
export type {
  Activation, ArchSpec, BatchNormConfig, Block, BlockType, ConvBlock, DsBlock, Head, IrBlock, Padding, SqueezeExcite, Stem,
} from './space/arch.js';
/** `encodeArch`: an architecture's canonical string (its identity in the store); `decodeArch` reads one back. */
export { decodeArch, decodeBlock, encodeArch, encodeBlock } from './space/blockString.js';
/** `resolve`: concrete widths, sizes and residuals of every layer, what `buildModel` and `costOf` read. */
export { resolve, type ResolvedArch, type ResolvedBlock } from './space/resolve.js';
/** `costOf`: parameters and multiply-adds of a resolved architecture, per layer and in total. */
export { type ArchCost, costOf, type LayerCost } from './space/cost.js';
/** The reference networks (MobileNetV3 Large/Small, MnasNet, MobileNetV2) by name. */
export { referenceArch, referenceNames } from './space/reference.js';
/**
 * `loadArch`: an architecture from what a user would type to `nas`: a reference name, a spec file, block strings, or
 * `run:RUN#best` / `run:RUN#N` read from the results store.
 */
export { loadArch } from './results/archRef.js';
export type { ArchOverrides } from './space/load.js';

// ---- Search spaces ----

/** A search space is the IR with `oneOf` choice nodes; a sample is one option index per decision, in walk order. */
export type { BlockSpace, Choice, Decision, Sample, SearchSpace, StageSpace, Val } from './space/searchSpace.js';
/** `applySample(space, decisions)`: the ArchSpec a sample picks (pure, validated); the rest walk, check and count spaces. */
export {
  applySample, decisions, encodeSample, findSample, sampleUniform, spaceSize, validateSpace,
} from './space/searchSpace.js';
/** `builtinSpace(name)`: a fresh copy of a built-in space (`spaceNames()` lists them). */
export { builtinSpace, spaceNames } from './space/spaces.js';

// ---- The search: settings, strategies, evaluators, reward ----

/**
 * `runSearch(store, settings, options)` starts a search run and runs it to its budget; `resumeSearch` continues one.
 * The evaluator is a module path (`settings.evaluator`) exporting `evaluate: EvaluateFn`, so that worker threads
 * can load it.
 */
export { resumeSearch, runSearch } from './search/loop.js';
export type {
  BatchEvent, CandidateEvent, CandidateSource, CandidateSummary, EngineOptions, ResumeOverrides, RunOptions, SearchHooks,
  SearchResult, SearchSettings, SpaceRef, StopReason,
} from './search/loop.js';
/** The seams a user plugs into: an evaluator module exports `evaluate: EvaluateFn` (and optionally EvaluatorChecks). */
export type {
  EvalContext, EvaluateFn, EvaluatorChecks, Metrics, Observation, ProposeContext, Strategy, StrategyContext,
  StrategyFactory, StrategyName,
} from './search/types.js';
/** The strategies `settings.strategy` names. */
export { STRATEGY_NAMES } from './search/strategies/index.js';
/** `computeReward`: the MnasNet reward ACC x prod (m / T)^w of a metrics object against parsed targets. */
export { computeReward, type RewardMode, type RewardOptions } from './search/reward.js';
/** `parseTargets(['latency=20ms'])`: the targets `computeReward` and `settings.targets` use. */
export { parseTargets, type Resource, type Target } from './latency/targets.js';
/** Where a search's latency comes from (`settings.latency`): a lookup table, a measurement, MAdds or a module. */
export type { LatencySourceSpec } from './latency/resources.js';

// ---- The results store ----

/**
 * `openStore(path)`: the results database a search or training writes to (`':memory:'` for a throwaway one); pass it
 * to `runSearch` and `trainFinal`, close it when done.
 */
export { DEFAULT_DB_PATH, openStore, type Store, type StoreOptions } from './results/store.js';
/** `openResults(path)`: the same database opened read-only, with its queries only. */
export { openResults, type ReaderOptions, type ResultsReader } from './results/reader.js';
/** What the store's queries return. */
export type { RunFilter, RunKind, RunRecord, RunStatus } from './results/runs.js';
export type { CandidateCounts, CandidateListOptions, CandidateRecord, CandidateStatus } from './results/candidates.js';
export type { EpochRecord } from './results/epochs.js';
export type { CheckpointRecord } from './results/checkpoints.js';
export type { StrategySnapshot } from './results/strategy.js';
export type { LatencyEntry, LatencyTableInfo, LatencyTableKey } from './results/latency.js';
export type { NetadaptIterationRecord } from './results/netadapt.js';

// ---- Models: build, train, export ----

/** `useBackend('auto' | 'tensorflow' | 'wasm' | 'cpu')`: the tfjs backend training and models run on; call it first. */
export { type BackendChoice, type BackendInfo, useBackend } from './backend/select.js';

/** `buildModel(resolve(arch))`: the tfjs LayersModel of an architecture. */
export { type BuildOptions, buildModel } from './model/build.js';
/** `loadDataset(name, options)`: MNIST, Fashion-MNIST, CIFAR-10 or an image folder, with seeded splits. */
export { datasetNames, type LoadedDataset, type LoadOptions, loadDataset } from './data/load.js';
/** Training recipes: `parseTrainConfig(json)` fills a recipe's absent keys from `defaultTrainConfig`. */
export { defaultTrainConfig, parseTrainConfig, type TrainConfig } from './train/config.js';
/** `trainFinal`: trains an architecture to the end (what `nas train-final` runs). */
export { type FinalTrainingOptions, type FinalTrainingResult, trainFinal } from './train/final.js';
/** `exportModel`: a checkpoint exported for other runtimes (tfjs LayersModel or ONNX), what `nas export` runs. */
export { type ExportOptions, type ExportResult, exportModel } from './train/exportCheckpoint.js';

// ---- Errors and data ----

/** Every error `nas` throws on purpose is a NasError with a code; bad input is a UsageError (exit code 2 in the CLI). */
export { NasError, UsageError } from './common/errors.js';
/** JSON data as metrics and settings hold it. */
export type { JsonObject, JsonValue } from './common/json.js';

// The MnasNet strategy: an LSTM controller (search/controller.ts) trained with PPO, with the remedies that make it
// learn from rewards a point or two apart within a budget of a few hundred candidates (docs/SEARCH.md "rl"):
// - advantages are centred ranks of the rewards (fitness shaping, as NES and CMA-ES), so the update does not depend
//   on the reward's scale or on a few failed-looking outliers (on NAS-Bench-201 some cells score 10%);
// - the run's `elite` best architectures are replayed in every update with their ranks (self-imitation, as priority
//   queue training), so the policy keeps what it found while its own samples are always new ones;
// - an entropy bonus keeps the policy from becoming deterministic on a wrong option early;
// - proposals are new architectures: draws of known ones are rejected, and when the policy has concentrated so far
//   that its draws are all known, it samples at a higher temperature (search/strategies/novel.ts).
// Failed candidates (reward null) are left out of the update.
import { NasError } from '../../common/errors.js';
import { averageRanks } from '../../common/rankCorrelation.js';
import type { JsonValue } from '../../common/json.js';
import type { SearchSpace } from '../../space/searchSpace.js';
import { Controller, type PpoOptions } from '../controller.js';
import type { Observation, ProposeContext, Strategy, StrategyFactory } from '../types.js';
import { MlpEnsemble, OneHot, thompsonDraw } from './mlpEnsemble.js';
import { NoveltyFilter, uniformNovel } from './novel.js';
import { PREDICTOR_DEFAULTS } from './predictor.js';
import { type Rng, rngFromSeed, rngFromState, rngStateJson } from './rng.js';
import { checkBatch, checkState, intOption, numberOption, optionCounts, rejectUnknown, type StateObject, stringOption } from './state.js';

export const ADVANTAGES = ['ranks', 'zscore', 'raw'] as const;
export type AdvantageForm = (typeof ADVANTAGES)[number];

/**
 * Chosen on NAS-Bench-201 (3 datasets x 20 seeds) and the synthetic fixture (docs/SEARCH.md "rl": the measurements
 * behind each). NASNet's lr 0.00035 with raw advantages needed a median of ~690 distinct candidates to find
 * NAS-Bench-201's best; these find it in ~110-120. hidden: NASNet's. lr 0.005: 0.003 was slower (136-149), 0.01-0.02
 * no faster and failed more seeds. epochs 8 and clip 0.5: a budget of 1,000 at batch 16 is ~60 updates, and PPO's 4
 * epochs at clip 0.2 moved the policy too little per batch (cifar100: 180 against 110). entropy 0.01: 0.003 and 0.03
 * were slower; 1e-5 let 2 of 20 seeds collapse. elite 16: 8 and 32 were no better; 0 was ~20% slower.
 * logitBound 2.5 (ENAS's tanh constant): without it 2-7 of 100 seeds went deterministic one decision from the best
 * and never found it; with it none or one. screen 4 (from the third batch on, the surrogate picks each batch from 4x
 * as many policy draws): median 99 / 114.5 / 88 against 147 / 164 / 132 with the bound alone; 8 was a few percent
 * faster in the median but stranded more seeds in the tail (up to 788), as more candidates let the model's errors win.
 * imagine (Dyna) stays off: it cost more than it gained on cifar100.
 */
export const RL_DEFAULTS = {
  lr: 0.005,
  hidden: 100,
  epochs: 8,
  clip: 0.5,
  entropy: 0.01,
  baselineDecay: 0.95,
  advantage: 'ranks' as AdvantageForm,
  elite: 16,
  imagine: 0,
  screen: 4,
  logitBound: 2.5,
} as const;

interface RlSettings {
  readonly lr: number;
  readonly hidden: number;
  readonly epochs: number;
  readonly clip: number;
  readonly entropy: number;
  /** Only the `raw` form uses the baseline (the others centre on the batch). */
  readonly baselineDecay: number;
  /** ranks: centred ranks in [-1, 1]; zscore: (r - mean) / sd of the batch; raw: r - baseline (NASNet's). */
  readonly advantage: AdvantageForm;
  /** The run's best architectures replayed in every update (0: none). */
  readonly elite: number;
  /** Imagined samples per update, scored by a surrogate of the observations (0: none). */
  readonly imagine: number;
  /** Draws per proposal the surrogate chooses from (0 or 1: none). */
  readonly screen: number;
  readonly logitBound: number;
}

interface Pending {
  readonly decisions: number[][];
  readonly logProbs: number[];
}

interface Member {
  readonly decisions: readonly number[];
  readonly reward: number;
}

/** Observations before the surrogate is first fitted (two batches: fewer rank too noisily to teach). */
const IMAGINE_AFTER = 32;
/** The surrogate's Adam minibatch (the predictor's). */
const SURROGATE_MINIBATCH = 32;

/** Temperatures tried in turn when the policy's own draws are all known architectures. */
const EXPLORE_TEMPERATURES = [1, 1, 1.5, 2, 3, 5, 8];

export class RlStrategy implements Strategy {
  readonly name = 'rl' as const;
  private readonly oneHot: OneHot;

  constructor(
    private readonly space: SearchSpace,
    private readonly settings: RlSettings,
    readonly controller: Controller,
    private readonly rng: Rng,
    private baseline: number | null,
    private pending: Pending | null,
    private readonly elites: Member[],
    /** Every observation with a reward, kept only with imagined updates or screening: the surrogate's data. */
    private readonly observed: Member[],
  ) {
    this.oneHot = new OneHot(optionCounts(space));
  }

  propose(n: number, context?: ProposeContext): number[][] {
    const screening = this.settings.screen > 1 && this.observed.length >= IMAGINE_AFTER;
    const drawn = this.draw(screening ? this.settings.screen * n : n, n, context);
    this.pending = drawn.decisions.length > n ? this.screened(drawn, n) : drawn;
    return this.pending.decisions.map((d) => [...d]);
  }

  /** `want` new draws of the policy if it gives them, at least `need` (uniform samples make up the rest). */
  private draw(want: number, need: number, context: ProposeContext | undefined): Pending {
    const filter = new NoveltyFilter(context);
    const decisions: number[][] = [];
    const logProbs: number[] = [];
    for (const t of EXPLORE_TEMPERATURES) {
      const more = want - decisions.length;
      if (more <= 0) break;
      // Twice as many draws as wanted: a concentrated policy repeats known architectures often.
      const s = this.controller.sample(context === undefined ? more : 2 * more, this.rng, t);
      s.decisions.forEach((d, i) => {
        if (decisions.length < want && filter.accept(d)) {
          decisions.push(d);
          logProbs.push(s.logProbs[i] as number);
        }
      });
    }
    // A nearly exhausted space: uniform samples, new where possible, then anything.
    const rest = Array.from({ length: Math.max(0, need - decisions.length) }, () => uniformNovel(this.space, this.rng, filter));
    if (rest.length > 0) {
      decisions.push(...rest);
      logProbs.push(...this.controller.logProbs(rest));
    }
    return { decisions, logProbs };
  }

  /**
   * The `n` draws the surrogate rates best, each rated by a Thompson draw from its members' predictions (BANANAS'
   * independent Thompson sampling): the policy proposes, the model of what was observed chooses.
   */
  private screened(drawn: Pending, n: number): Pending {
    const preds = this.surrogate().predict(this.oneHot.encode(drawn.decisions));
    const member = new Float64Array(preds.length);
    const scores = drawn.decisions.map((_, i) => {
      preds.forEach((p, m) => (member[m] = p[i] as number));
      return thompsonDraw(member, this.rng);
    });
    const order = scores.map((_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b).slice(0, n);
    return { decisions: order.map((i) => drawn.decisions[i] as number[]), logProbs: order.map((i) => drawn.logProbs[i] as number) };
  }

  observe(results: readonly Observation[]): void {
    checkBatch(this.name, this.pending === null ? null : this.pending.decisions.length, results.length);
    const p = this.pending as Pending;
    this.pending = null;
    const kept = results.flatMap((r, i) => (r.reward === null ? [] : [{ i, reward: r.reward }]));
    if (kept.length === 0) return;
    if (this.baseline === null) this.baseline = kept.reduce((a, k) => a + k.reward, 0) / kept.length;
    const base = this.baseline;
    for (const k of kept) this.baseline = this.settings.baselineDecay * (this.baseline as number) + (1 - this.settings.baselineDecay) * k.reward;
    const seqs = kept.map((k) => p.decisions[k.i] as number[]);
    const old = kept.map((k) => p.logProbs[k.i] as number);
    const elites = this.elites.slice(0, this.settings.elite);
    const advantages = advantagesOf(this.settings.advantage, [...kept.map((k) => k.reward), ...elites.map((e) => e.reward)], base, kept.length);
    if (elites.length > 0) {
      const eSeqs = elites.map((e) => [...e.decisions]);
      seqs.push(...eSeqs);
      old.push(...this.controller.logProbs(eSeqs));
    }
    this.controller.update(seqs, old, advantages, this.ppo());
    const members = kept.map((k) => ({ decisions: p.decisions[k.i] as number[], reward: k.reward }));
    this.remember(members);
    if (this.settings.imagine === 0 && this.settings.screen <= 1) return;
    this.observed.push(...members);
    if (this.settings.imagine > 0 && this.observed.length >= IMAGINE_AFTER) this.imagineUpdate();
  }

  /**
   * Dyna (Sutton 1990): a second update on `imagine` fresh draws of the policy, their advantages the centred ranks of
   * the rewards the surrogate predicts for them.
   */
  private imagineUpdate(): void {
    const model = this.surrogate();
    const drawn = this.controller.sample(this.settings.imagine, this.rng);
    const preds = model.predict(this.oneHot.encode(drawn.decisions));
    const mean = drawn.decisions.map((_, i) => preds.reduce((a, p) => a + (p[i] as number), 0) / preds.length);
    this.controller.update(drawn.decisions, drawn.logProbs, centredRanks(mean), this.ppo());
  }

  /**
   * The predictor strategy's ensemble (its default settings) fitted to the centred ranks of every observed reward,
   * trained from the observations and the strategy's generator alone, so a restored strategy continues exactly as
   * the uninterrupted one.
   */
  private surrogate(): MlpEnsemble {
    const d = PREDICTOR_DEFAULTS;
    const n = this.observed.length;
    const targets = Float64Array.from(centredRanks(this.observed.map((o) => o.reward)));
    const rows = this.oneHot.encode(this.observed.map((o) => o.decisions));
    const train = { steps: d.steps, batch: SURROGATE_MINIBATCH, lr: d.lr, decay: d.prior / n };
    return MlpEnsemble.train(this.oneHot.shape([d.hidden, d.hidden], 1), d.ensemble, rows, targets, train, this.rng);
  }

  private ppo(): PpoOptions {
    const { lr, epochs, clip, entropy } = this.settings;
    return { lr, epochs, clip, entropyWeight: entropy };
  }

  /** Keeps the `elite` best observed (ties: the earlier). */
  private remember(batch: readonly Member[]): void {
    if (this.settings.elite === 0) return;
    this.elites.push(...batch);
    this.elites.sort((a, b) => b.reward - a.reward);
    this.elites.length = Math.min(this.elites.length, this.settings.elite);
  }

  toState(): JsonValue {
    return {
      strategy: this.name,
      options: optionCounts(this.space),
      settings: { ...this.settings },
      controller: this.controller.toJSON(),
      baseline: this.baseline,
      pending: this.pending === null ? null : { decisions: this.pending.decisions, logProbs: this.pending.logProbs },
      elites: this.elites.map((e) => ({ decisions: [...e.decisions], reward: e.reward })),
      observed: this.observed.map((e) => ({ decisions: [...e.decisions], reward: e.reward })),
      rng: rngStateJson(this.rng),
    };
  }

  /** Frees the controller's tensors (the Strategy interface has no end; call this when a strategy is dropped). */
  dispose(): void {
    this.controller.dispose();
  }
}

const positive = (v: number): boolean => v > 0;

/** A list of members of a saved state, `elites` or `observed` (absent in states saved before it existed: none). */
function membersFrom(v: JsonValue | undefined, what: string): Member[] {
  if (v === undefined) return [];
  const member = (e: JsonValue): Member => {
    const o = e !== null && typeof e === 'object' && !Array.isArray(e) ? (e as StateObject) : {};
    const d = o['decisions'];
    const r = o['reward'];
    if (!Array.isArray(d) || !d.every((x) => Number.isInteger(x)) || typeof r !== 'number') {
      throw new NasError('E_USAGE', `rl strategy state: malformed ${what}`);
    }
    return { decisions: d as number[], reward: r };
  };
  if (!Array.isArray(v)) throw new NasError('E_USAGE', `rl strategy state: malformed ${what}`);
  return v.map(member);
}

/**
 * The advantages of the batch's rewards followed by the elites' (the first `batch` values are the batch): ranks over
 * all of them; or z-scores with the batch's mean and spread; or rewards less the baseline.
 */
function advantagesOf(form: AdvantageForm, rewards: readonly number[], baseline: number, batch: number): number[] {
  if (form === 'ranks') return centredRanks(rewards);
  if (form === 'raw') return rewards.map((r) => r - baseline);
  const { mean, scale } = spread(rewards.slice(0, batch));
  return rewards.map((r) => (r - mean) / scale);
}

/** Ranks mapped to [-1, 1], ties sharing their mean rank. */
export function centredRanks(xs: readonly number[]): number[] {
  if (xs.length < 2) return xs.map(() => 0);
  return averageRanks(xs).map((r) => (2 * (r - 1)) / (xs.length - 1) - 1);
}

/** Mean and standard deviation (1 when the values do not spread, so equal rewards teach nothing). */
function spread(xs: readonly number[]): { mean: number; scale: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return { mean, scale: sd > 1e-12 ? sd : 1 };
}

function settingsFrom(options: Readonly<Record<string, unknown>> | undefined): RlSettings {
  rejectUnknown('rl', options, Object.keys(RL_DEFAULTS));
  return {
    lr: numberOption(options, 'lr', RL_DEFAULTS.lr, positive, 'a number > 0'),
    hidden: intOption(options, 'hidden', RL_DEFAULTS.hidden),
    epochs: intOption(options, 'epochs', RL_DEFAULTS.epochs),
    clip: numberOption(options, 'clip', RL_DEFAULTS.clip, (v) => v > 0 && v < 1, 'in (0, 1)'),
    entropy: numberOption(options, 'entropy', RL_DEFAULTS.entropy, (v) => v >= 0, 'a number >= 0'),
    baselineDecay: numberOption(options, 'baselineDecay', RL_DEFAULTS.baselineDecay, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    advantage: stringOption(options, 'advantage', RL_DEFAULTS.advantage, ADVANTAGES),
    elite: intOption(options, 'elite', RL_DEFAULTS.elite, 0),
    imagine: intOption(options, 'imagine', RL_DEFAULTS.imagine, 0),
    screen: intOption(options, 'screen', RL_DEFAULTS.screen, 0),
    logitBound: numberOption(options, 'logitBound', RL_DEFAULTS.logitBound, (v) => v >= 0, 'a number >= 0'),
  };
}

export const rlStrategy: StrategyFactory = {
  create(space, seed, options) {
    const settings = settingsFrom(options);
    const rng = rngFromSeed(seed);
    const controller = Controller.create(optionCounts(space), { hidden: settings.hidden, embed: settings.hidden, logitBound: settings.logitBound }, rng);
    return new RlStrategy(space, settings, controller, rng, null, null, [], []);
  },
  restore(space, state) {
    const s = checkState('rl', space, state);
    // States saved before these settings existed continue as they ran: raw advantages, no elites, no imagined
    // updates, unbounded logits.
    const settings = settingsFrom({ advantage: 'raw', elite: 0, imagine: 0, screen: 0, logitBound: 0, ...(s['settings'] as StateObject) });
    const p = s['pending'] as { decisions: number[][]; logProbs: number[] } | null;
    const baseline = s['baseline'];
    if (baseline !== null && typeof baseline !== 'number') throw new NasError('E_USAGE', 'rl strategy state: malformed baseline');
    return new RlStrategy(
      space,
      settings,
      Controller.fromJSON(optionCounts(space), s['controller'] as JsonValue),
      rngFromState(s['rng']),
      baseline,
      p === null ? null : { decisions: p.decisions.map((d) => [...d]), logProbs: [...p.logProbs] },
      membersFrom(s['elites'], 'elites'),
      membersFrom(s['observed'], 'observed'),
    );
  },
};

// The MnasNet strategy: an LSTM controller (search/controller.ts) trained with PPO. Each observed batch updates the
// policy: advantage = reward - baseline (an exponential moving average of rewards, decay 0.95, started at the first
// batch's mean), `epochs` passes of the clipped surrogate (eps 0.2) with an entropy bonus (1e-5) using the
// log-probabilities recorded when the batch was proposed. Failed candidates (reward null) are left out of the update.
import { NasError } from '../../common/errors.js';
import type { JsonValue } from '../../results/json.js';
import type { SearchSpace } from '../../space/searchSpace.js';
import { Controller } from '../controller.js';
import type { Observation, Strategy, StrategyFactory } from '../types.js';
import { type Rng, rngFromSeed, rngFromState, rngStateJson } from './rng.js';
import { checkBatch, checkState, intOption, numberOption, optionCounts, rejectUnknown, type StateObject } from './state.js';

/**
 * NASNet's settings (REFERENCE.md section 2). The learning rate matters most: at 10x NASNet's (0.0035) the policy
 * became deterministic within ~100 samples, often on a wrong option (docs/SEARCH.md "Strategies").
 */
export const RL_DEFAULTS = {
  lr: 0.00035,
  hidden: 100,
  epochs: 4,
  clip: 0.2,
  entropy: 1e-5,
  baselineDecay: 0.95,
} as const;

interface RlSettings {
  readonly lr: number;
  readonly hidden: number;
  readonly epochs: number;
  readonly clip: number;
  readonly entropy: number;
  readonly baselineDecay: number;
}

interface Pending {
  readonly decisions: number[][];
  readonly logProbs: number[];
}

export class RlStrategy implements Strategy {
  readonly name = 'rl' as const;

  constructor(
    private readonly space: SearchSpace,
    private readonly settings: RlSettings,
    readonly controller: Controller,
    private readonly rng: Rng,
    private baseline: number | null,
    private pending: Pending | null,
  ) {}

  propose(n: number): number[][] {
    const s = this.controller.sample(n, this.rng);
    this.pending = { decisions: s.decisions, logProbs: s.logProbs };
    return s.decisions.map((d) => [...d]);
  }

  observe(results: readonly Observation[]): void {
    checkBatch(this.name, this.pending === null ? null : this.pending.decisions.length, results.length);
    const p = this.pending as Pending;
    this.pending = null;
    const kept = results.flatMap((r, i) => (r.reward === null ? [] : [{ i, reward: r.reward }]));
    if (kept.length === 0) return;
    if (this.baseline === null) this.baseline = kept.reduce((a, k) => a + k.reward, 0) / kept.length;
    const base = this.baseline;
    const advantages = kept.map((k) => k.reward - base);
    for (const k of kept) this.baseline = this.settings.baselineDecay * (this.baseline as number) + (1 - this.settings.baselineDecay) * k.reward;
    this.controller.update(
      kept.map((k) => p.decisions[k.i] as number[]),
      kept.map((k) => p.logProbs[k.i] as number),
      advantages,
      { lr: this.settings.lr, epochs: this.settings.epochs, clip: this.settings.clip, entropyWeight: this.settings.entropy },
    );
  }

  toState(): JsonValue {
    return {
      strategy: this.name,
      options: optionCounts(this.space),
      settings: { ...this.settings },
      controller: this.controller.toJSON(),
      baseline: this.baseline,
      pending: this.pending === null ? null : { decisions: this.pending.decisions, logProbs: this.pending.logProbs },
      rng: rngStateJson(this.rng),
    };
  }

  /** Frees the controller's tensors (the Strategy interface has no end; call this when a strategy is dropped). */
  dispose(): void {
    this.controller.dispose();
  }
}

const positive = (v: number): boolean => v > 0;

function settingsFrom(options: Readonly<Record<string, unknown>> | undefined): RlSettings {
  rejectUnknown('rl', options, Object.keys(RL_DEFAULTS));
  return {
    lr: numberOption(options, 'lr', RL_DEFAULTS.lr, positive, 'a number > 0'),
    hidden: intOption(options, 'hidden', RL_DEFAULTS.hidden),
    epochs: intOption(options, 'epochs', RL_DEFAULTS.epochs),
    clip: numberOption(options, 'clip', RL_DEFAULTS.clip, (v) => v > 0 && v < 1, 'in (0, 1)'),
    entropy: numberOption(options, 'entropy', RL_DEFAULTS.entropy, (v) => v >= 0, 'a number >= 0'),
    baselineDecay: numberOption(options, 'baselineDecay', RL_DEFAULTS.baselineDecay, (v) => v >= 0 && v < 1, 'in [0, 1)'),
  };
}

export const rlStrategy: StrategyFactory = {
  create(space, seed, options) {
    const settings = settingsFrom(options);
    const rng = rngFromSeed(seed);
    const controller = Controller.create(optionCounts(space), { hidden: settings.hidden, embed: settings.hidden }, rng);
    return new RlStrategy(space, settings, controller, rng, null, null);
  },
  restore(space, state) {
    const s = checkState('rl', space, state);
    const settings = settingsFrom(s['settings'] as StateObject);
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
    );
  },
};

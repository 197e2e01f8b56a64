// Learning rate as a function of the global step (0-based). Warm-up is linear from lr / warmupSteps to lr over
// round(warmupEpochs * stepsPerEpoch) steps; the schedule proper starts where warm-up ends.
import type { ScheduleConfig } from './config.js';

export interface LrSchedule {
  (step: number): number;
  readonly warmupSteps: number;
  readonly totalSteps: number;
}

export interface ScheduleSteps {
  readonly stepsPerEpoch: number;
  /** Steps of the whole run (epochs * stepsPerEpoch, or maxSteps). */
  readonly totalSteps: number;
}

export function makeSchedule(cfg: ScheduleConfig, lr: number, steps: ScheduleSteps): LrSchedule {
  const { stepsPerEpoch, totalSteps } = steps;
  const warmupSteps = Math.min(totalSteps, Math.round(cfg.warmupEpochs * stepsPerEpoch));
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const period = cfg.decayEpochs * stepsPerEpoch;
  const main = (t: number): number => {
    switch (cfg.type) {
      case 'constant':
        return lr;
      case 'cosine': {
        const p = Math.min(1, t / decaySteps);
        return cfg.minLr + (lr - cfg.minLr) * 0.5 * (1 + Math.cos(Math.PI * p));
      }
      case 'step':
        // Staircase, as TF's exponential_decay(staircase=True) and torchvision's StepLR.
        return lr * cfg.decayRate ** Math.floor(t / period + 1e-9);
    }
  };
  const f = (step: number): number => (step < warmupSteps ? (lr * (step + 1)) / warmupSteps : main(step - warmupSteps));
  return Object.assign(f, { warmupSteps, totalSteps });
}

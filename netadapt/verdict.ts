// Whether the result meets the target as measured at the end, timed together with the seed: the figure a user can
// check, stated plainly, next to the loop's own judgement (which rests on its latency source).
import type { Target } from '../latency/targets.js';
import type { JointMeasurement } from './types.js';

const x = (v: number): string => `${v.toFixed(2)}x`;

/**
 * The joint measurement with its verdict: a relative target applies to the seed's measured time (the ratio is what
 * it constrains), an absolute one to the result's own. Missed by any margin is missed: the figure is the user's.
 */
export function judgeMeasured(target: Target, m: { seedMs: number; finalMs: number; baselineMs: number | null }): JointMeasurement {
  const ratio = m.finalMs / m.seedMs;
  const targetMs = target.relative ? target.value * m.seedMs : target.value;
  const targetRatio = targetMs / m.seedMs;
  const targetMet = m.finalMs <= targetMs;
  const what = target.relative
    ? `result ${x(ratio)} of the seed, target ${x(targetRatio)}`
    : `result ${m.finalMs.toFixed(3)} ms (${x(ratio)} of the seed), target ${targetMs.toFixed(3)} ms`;
  const verdict = `${targetMet ? 'target met' : 'TARGET MISSED'} as measured at the end, timed together with the seed: ${what}`;
  return { ...m, targetMs, ratio, targetRatio, targetMet, verdict };
}

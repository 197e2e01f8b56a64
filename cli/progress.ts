// One-line progress for long training: epoch, step, loss, learning rate, images/s and the time left.
import type { StepProgress } from '../train/loop.js';

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

/** A formatter that times the steps it sees (so the ETA is right after a resume too). */
export function makeProgress(now: () => number = () => performance.now()): (p: StepProgress) => string {
  let first: { step: number; t: number } | null = null;
  return (p) => {
    const t = now();
    first ??= { step: p.step, t };
    const perStep = p.step > first.step ? (t - first.t) / 1000 / (p.step - first.step) : Number.NaN;
    const eta = perStep * (p.totalSteps - p.step);
    return (
      `epoch ${p.epoch + 1} step ${p.stepInEpoch}/${p.stepsPerEpoch}  loss ${p.loss.toFixed(4)}  ` +
      `lr ${p.lr.toExponential(2)}  ${p.imagesPerSec.toFixed(0)} img/s  ETA ${duration(eta)} `
    );
  };
}

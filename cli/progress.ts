// Progress on stderr: the one-line formatter of long training (epoch, step, loss, learning rate, images/s, time
// left), the bar of a counted task, and the status line every command writes them to.
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

/**
 * The progress line of a command on stderr: on a terminal one line rewritten in place, ended before a line that
 * stays; elsewhere (a log, a pipe, a test) only the lines a caller chooses to keep, so the log stays readable.
 */
/** Where a status line goes: stderr, or anything that takes text (and may say it is a terminal). */
export interface StatusOut {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export class StatusLine {
  private open = false;

  constructor(
    private readonly out: StatusOut = process.stderr,
    readonly tty: boolean = out.isTTY === true,
  ) {}

  /** Rewrites the line on a terminal; shows nothing elsewhere. */
  update(text: string): void {
    if (!this.tty) return;
    this.out.write(`\r\x1b[K${text}`);
    this.open = true;
  }

  /** A line that stays, below the progress line (which it replaces on a terminal). */
  line(text: string): void {
    this.out.write(`${this.open ? '\r\x1b[K' : ''}${text}\n`);
    this.open = false;
  }

  /** Step `done` of a counted task: rewritten on a terminal (kept once the last is done), a line each elsewhere. */
  step(text: string, last: boolean): void {
    if (this.tty && !last) this.update(text);
    else this.line(text);
  }

  /** Ends a rewritten line that is still open. */
  end(): void {
    if (this.open) this.out.write('\n');
    this.open = false;
  }
}

/** `label [#####.....] done/total detail`: a bar of a counted task. */
export function progressBar(label: string, done: number, total: number, detail: string): string {
  const width = 24;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${detail}`;
}

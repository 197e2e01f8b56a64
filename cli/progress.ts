// Progress on stderr, one module for every command: the status line (one line rewritten in place on a terminal),
// the Reporter that commands write their progress to (`--progress auto|plain|json|none`), the ETA from the recent
// rate, and the formatters of a counted task and of long training. docs/PROGRESS.md has the JSON events' schema.
import type { JsonValue } from '../common/json.js';
import type { StepProgress } from '../train/loop.js';

/** `1h02m`, `3m07s`; `?` when unknown. */
export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
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

/** Where progress goes: stderr, or anything that takes text (and may say it is a terminal, and how wide). */
export interface StatusOut {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * The progress line of a command on stderr: on a terminal one line rewritten in place, ended before a line that
 * stays; elsewhere (a log, a pipe, a test) only the lines a caller chooses to keep, so the log stays readable.
 */
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
  const filled = total === 0 ? width : Math.min(width, Math.round((done / total) * width));
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${detail}`;
}

/** The text cut to a terminal's width (one column spare: a full line wraps on some terminals). */
export function fitColumns(text: string, columns: number | undefined): string {
  if (columns === undefined || columns < 10 || text.length < columns) return text;
  return `${text.slice(0, columns - 2)}…`;
}

/**
 * Seconds left of a counted task from its recent rate: the last `window` points (time, done), so a slow start
 * (workers loading) or a change of pace (a resumed run's cached candidates) stops counting once it is past.
 */
export class RecentRate {
  private readonly points: { t: number; done: number }[] = [];

  constructor(private readonly window = 20) {}

  add(seconds: number, done: number): void {
    this.points.push({ t: seconds, done });
    if (this.points.length > this.window) this.points.shift();
  }

  /** Null until two points of different counts are known. */
  eta(total: number, done: number): number | null {
    const a = this.points[0];
    const b = this.points.at(-1);
    if (a === undefined || b === undefined || b.done <= a.done || b.t <= a.t) return null;
    return Math.max(0, total - done) / ((b.done - a.done) / (b.t - a.t));
  }
}

export const progressChoices = ['auto', 'plain', 'json', 'none'] as const;
export type ProgressChoice = (typeof progressChoices)[number];
export type ProgressMode = 'tty' | 'plain' | 'json' | 'none';

export const progressOption = {
  choices: progressChoices,
  default: 'auto' as const,
  describe: 'progress on stderr: auto (a status line on a terminal, plain lines otherwise), plain, json (one event a line), none',
};

/** The mode `--progress` asks for on this stream (auto: the status line on a terminal, plain lines otherwise). */
export function progressMode(choice: ProgressChoice, out: StatusOut = process.stderr): ProgressMode {
  return choice === 'auto' ? (out.isTTY === true ? 'tty' : 'plain') : choice;
}

/** One JSON progress event: what happened (`type`) and its fields. */
export type ProgressEvent = { readonly type: string } & { readonly [key: string]: JsonValue };

/**
 * Where a command writes its progress. Lines that stay (`note`), lines per item a log keeps and a terminal replaces
 * by the status line (`detail`), the status line (`live`, re-rendered every second for the elapsed time), and JSON
 * events (`event`): each mode shows its own part of them, so a command writes all four and never asks the mode.
 */
export class Reporter {
  readonly started = performance.now();
  private readonly status: StatusLine;
  private render: (() => string) | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    readonly mode: ProgressMode,
    private readonly out: StatusOut = process.stderr,
  ) {
    this.status = new StatusLine(out, mode === 'tty');
  }

  /** Seconds since the reporter was made. */
  elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** A line that stays: on a terminal and in a log; a `log` event in json. */
  note(text: string): void {
    if (this.mode === 'json') this.event({ type: 'log', message: text });
    else if (this.mode !== 'none') this.status.line(text);
    this.refresh();
  }

  /** A line per item in a log (a terminal shows the status line instead). */
  detail(text: string): void {
    if (this.mode === 'plain') this.status.line(text);
  }

  /** Sets the status line's text (a terminal only; null: none); it is drawn again after each note and every second. */
  live(render: (() => string) | null): void {
    if (this.mode !== 'tty') return;
    this.render = render;
    this.timer ??= setInterval(() => this.refresh(), 1000).unref();
    this.refresh();
  }

  private refresh(): void {
    if (this.render !== null) this.status.update(fitColumns(this.render(), this.out.columns));
  }

  /** An event for tools: one JSON line in json mode, nothing otherwise. */
  event(e: ProgressEvent): void {
    if (this.mode === 'json') this.out.write(`${JSON.stringify(e)}\n`);
  }

  /** Ends the status line (before the result is printed, or an error). */
  end(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.render = null;
    this.status.end();
  }
}

/** A number for an event: null when not finite (JSON has no NaN). */
export function finite(x: number | null | undefined): number | null {
  return x === null || x === undefined || !Number.isFinite(x) ? null : x;
}

/** `done/total` of a phase (`lut`, `calibrate`, `validate`) and what was just done. */
export type CountedProgress = (phase: string, done: number, total: number, detail: string) => void;

/**
 * A counted task on a reporter: a bar line per step in a log (as before), the bar with elapsed time and ETA on a
 * terminal (kept once a phase is done), and an event per step in json whose type `types` names per phase.
 */
export function countedProgress(r: Reporter, types: Readonly<Record<string, string>>): CountedProgress {
  let rate = new RecentRate();
  let phase = '';
  return (label, done, total, detail) => {
    if (label !== phase) {
      phase = label;
      rate = new RecentRate();
    }
    rate.add(r.elapsed(), done);
    const eta = rate.eta(total, done);
    const bar = progressBar(label, done, total, detail);
    r.event({ type: types[label] ?? label, phase: label, done, total, detail, elapsedSeconds: r.elapsed(), etaSeconds: finite(eta) });
    r.detail(bar);
    if (r.mode === 'tty' && done === total) {
      r.live(null);
      r.note(bar);
    } else r.live(() => `${bar}  ${duration(r.elapsed())}  ETA ${duration(eta)}`);
  };
}

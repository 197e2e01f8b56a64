// How busy the machine's other cores were while a latency was measured. Timing networks in alternation cancels a
// slow spell that falls on both, but not the effect of a process on another core, which shares the caches, the memory
// bus and the chip's clock with the measurement and changes the ratio of two networks, either way. On this 2-core
// machine a NetAdapt result and its seed, timed as a pair: 0.68-0.73x with the machine idle (9 repeats), 0.81-0.85x
// while a test process at nice 19 kept 0.1-0.2 of the other core busy (5 repeats). /proc/stat says how much time all
// cores spent busy; process.cpuUsage how much of it was this process's.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Busy and total time of all cores, in clock ticks (/proc/stat's first line); null where there is none. */
export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

export function cpuTimes(): CpuTimes | null {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  } catch {
    return null;
  }
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (!line.startsWith('cpu ') || f.length < 4 || f.some((v) => !Number.isFinite(v))) return null;
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** Cores busy on average between two readings beyond the `own` the measurement used; null without readings. */
export function otherBusyCores(from: CpuTimes | null, to: CpuTimes | null, own = 1, cores = availableParallelism()): number | null {
  if (from === null || to === null || to.total <= from.total) return null;
  return Math.max(0, ((to.busy - from.busy) / (to.total - from.total)) * cores - own);
}

/** Above this many busy cores besides the measurement's, a latency figure is called disturbed. */
export const CONTENTION_CORES = 0.25;

/** The warning for a latency measured while other processes kept `otherCores` cores busy. */
export function disturbed(what: string, otherCores: number): string {
  return `warning: other processes kept ${otherCores.toFixed(1)} cores busy during ${what}: they change a network's ratio to its reference (docs/NETADAPT.md, "Other processes"), so this figure is not reliable; measure on an otherwise idle machine`;
}

/**
 * `fn`, and how many cores other processes kept busy while it ran (null where that cannot be read). This process's
 * own time, all its threads, is taken out as measured rather than assumed to be one core: taken as one core, the
 * threads besides the timing one read as other processes (0.3-0.8 cores in 6 of 83 judgements of 3 NetAdapt runs,
 * 2026-12-07, with no other process running). NetAdapt's fine-tune workers are idle while it times networks.
 */
export async function withContention<T>(fn: () => Promise<T>): Promise<{ value: T; otherCores: number | null }> {
  const from = cpuTimes();
  const own = ownCores();
  const value = await fn();
  return { value, otherCores: otherBusyCores(from, cpuTimes(), own()) };
}

/** A clock of this process's busy cores (all its threads) from now: each call gives the average so far. */
export function ownCores(): () => number {
  const usage = process.cpuUsage();
  const start = process.hrtime.bigint();
  return () => {
    const used = process.cpuUsage(usage);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return seconds > 0 ? (used.user + used.system) / 1e6 / seconds : 0;
  };
}

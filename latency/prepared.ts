// Networks built once and kept, to be timed a few forward passes at a time over many requests. A paired benchmark
// (bench/inference-vs-peers.ts --paired) alternates single runs of one network on several runtimes for hundreds of
// rounds: rebuilding the network for each round, as measureArchs does, would make the rounds long and let the
// machine's drift between them into the ratios. Browser-safe: the latency page keeps its prepared networks this way.

export interface PreparedArchs {
  /** Networks held, in the order given. */
  readonly count: number;
  /** ms of `runs` single forward passes of network `index`, each timed as the runner's measureArchs times a run. */
  time(index: number, runs: number): Promise<number[]>;
  /** Release the networks. Timing or closing again after it is an error. */
  close(): Promise<void>;
}

/** What a runner needs to prepare networks: the weight initialiser seed (default 0), as measureArchs takes it. */
export interface PrepareOptions {
  readonly seed?: number;
}

/**
 * Networks held as `held` (one item each), timed by `time` and released once by `release`; the index, the run count
 * and use after close are checked here, so each runtime's `time` gets a network it holds.
 */
export function guardedPrepared<H>(
  held: readonly H[],
  time: (h: H, runs: number) => Promise<number[]>,
  release: () => Promise<void>,
): PreparedArchs {
  let closed = false;
  const open = (what: string): void => {
    if (closed) throw new Error(`prepared networks: ${what} after close`);
  };
  return {
    count: held.length,
    time: async (index, runs) => {
      open('time');
      const h = Number.isInteger(index) ? held[index] : undefined;
      if (h === undefined) throw new RangeError(`prepared networks: no network ${index} (${held.length} held)`);
      if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`prepared networks: runs must be a positive integer, got ${runs}`);
      return time(h, runs);
    },
    close: async () => {
      open('close');
      closed = true;
      await release();
    },
  };
}

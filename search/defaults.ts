// Defaults of a search that more than the CLI needs (the benchmarks run searches the way `nas search` does).

// 16: PPO learns from batches of sampled models, and the controller's per-update cost is mostly fixed (tfjs
// per-op overhead), so 16 keeps rl above 50 samples/s where 8 would not.
export const DEFAULT_BATCH = 16;

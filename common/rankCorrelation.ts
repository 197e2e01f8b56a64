// Rank correlations between paired samples: Kendall's tau-b and Spearman's rho, both with ties handled as scipy's
// kendalltau (tau-b) and spearmanr (Pearson on average ranks) handle them. Used to validate predicted latencies
// against measured ones and proxy scores against trained accuracies.

function checkPairs(xs: readonly number[], ys: readonly number[], what: string): void {
  if (xs.length !== ys.length) throw new RangeError(`${what} needs paired samples, got ${xs.length} and ${ys.length}`);
  if (xs.length < 2) throw new RangeError(`${what} needs at least 2 pairs`);
  if (![...xs, ...ys].every(Number.isFinite)) throw new RangeError(`${what} needs finite numbers`);
}

/**
 * Kendall's tau-b: ties in either variable are corrected for, so it is 1 / -1 exactly when the orders agree / are
 * reversed. NaN when either variable is constant (no order to compare).
 */
export function kendallTau(xs: readonly number[], ys: readonly number[]): number {
  checkPairs(xs, ys, 'kendallTau');
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  const n = xs.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign((xs[j] ?? 0) - (xs[i] ?? 0));
      const dy = Math.sign((ys[j] ?? 0) - (ys[i] ?? 0));
      if (dx === 0 && dy === 0) continue; // tied in both: counts in neither denominator term
      if (dx === 0) tiesX++;
      else if (dy === 0) tiesY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY));
  return denom === 0 ? Number.NaN : (concordant - discordant) / denom;
}

/** Ranks 1..n, tied values sharing the mean of the ranks they span (scipy's rankdata 'average'). */
export function averageRanks(xs: readonly number[]): number[] {
  const order = xs.map((_, i) => i).sort((a, b) => (xs[a] ?? 0) - (xs[b] ?? 0));
  const ranks = new Array<number>(xs.length).fill(0);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && xs[order[end] ?? 0] === xs[order[start] ?? 0]) end++;
    const rank = (start + 1 + end) / 2; // mean of ranks start+1 .. end
    for (let k = start; k < end; k++) ranks[order[k] ?? 0] = rank;
    start = end;
  }
  return ranks;
}

function pearson(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx;
    const dy = (ys[i] ?? 0) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? Number.NaN : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rho: Pearson's correlation of the average ranks. NaN when either variable is constant. */
export function spearmanRho(xs: readonly number[], ys: readonly number[]): number {
  checkPairs(xs, ys, 'spearmanRho');
  return pearson(averageRanks(xs), averageRanks(ys));
}

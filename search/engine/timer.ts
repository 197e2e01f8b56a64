// A timeout for any delay. Node fires a setTimeout longer than 2^31-1 ms (24.8 days) at once, with only a warning,
// which would fail every evaluation of a search given `--eval-timeout 1000h` (or end it at once with `--time`); a
// longer delay is waited in steps.
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Calls fn once, `ms` from now (asynchronously, even for ms <= 0); returns a function that cancels it. */
export function after(ms: number, fn: () => void): () => void {
  const end = performance.now() + ms;
  const step = (): void => {
    const left = end - performance.now();
    if (left > 0) timer = setTimeout(step, Math.min(left, MAX_DELAY_MS));
    else fn();
  };
  let timer = setTimeout(step, Math.min(Math.max(ms, 0), MAX_DELAY_MS));
  return () => clearTimeout(timer);
}

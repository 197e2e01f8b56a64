/**
 * Round a channel count to a multiple of `divisor` (MobileNet's `_make_divisible`): the nearest multiple, at least
 * `divisor`, and never more than 10% below `v`.
 */
export function makeDivisible(v: number, divisor = 8): number {
  const rounded = Math.max(divisor, divisor * Math.floor((v + divisor / 2) / divisor));
  return rounded < 0.9 * v ? rounded + divisor : rounded;
}

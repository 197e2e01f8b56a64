// The log-determinant of a small symmetric positive semi-definite matrix (NASWOT's kernel, one row per image of the
// minibatch) in double precision, by LU decomposition with partial pivoting. numpy's slogdet, which NASWOT's code
// calls, is the same factorisation; a singular matrix (two images with one activation code) gives -Infinity.

/** ln|det A| of a row-major n x n matrix, or -Infinity when A is singular; throws when det A < 0 (not PSD). */
export function logDet(matrix: Float64Array, n: number): number {
  if (matrix.length !== n * n) throw new Error(`logDet: expected ${n * n} entries, got ${matrix.length}`);
  const a = Float64Array.from(matrix);
  let scale = 0;
  for (const v of a) scale = Math.max(scale, Math.abs(v));
  // Entries are counts of units (integers up to ~1e6): a pivot this small relative to them is a rounding residue.
  const tiny = scale * n * 1e-12;
  let sum = 0;
  let sign = 1;
  for (let k = 0; k < n; k++) {
    const p = pivotRow(a, n, k);
    const pivot = a[p * n + k] as number;
    if (Math.abs(pivot) <= tiny) return -Infinity;
    if (p !== k) {
      swapRows(a, n, p, k);
      sign = -sign;
    }
    if (pivot < 0) sign = -sign;
    sum += Math.log(Math.abs(pivot));
    eliminate(a, n, k);
  }
  if (sign < 0) throw new Error('logDet: the determinant is negative; the matrix is not positive semi-definite');
  return sum;
}

function pivotRow(a: Float64Array, n: number, k: number): number {
  let best = k;
  for (let i = k + 1; i < n; i++) if (Math.abs(a[i * n + k] as number) > Math.abs(a[best * n + k] as number)) best = i;
  return best;
}

function swapRows(a: Float64Array, n: number, i: number, j: number): void {
  for (let c = 0; c < n; c++) {
    const t = a[i * n + c] as number;
    a[i * n + c] = a[j * n + c] as number;
    a[j * n + c] = t;
  }
}

/** Subtracts multiples of row k from the rows below it, zeroing column k under the pivot. */
function eliminate(a: Float64Array, n: number, k: number): void {
  const pivot = a[k * n + k] as number;
  for (let i = k + 1; i < n; i++) {
    const f = (a[i * n + k] as number) / pivot;
    if (f === 0) continue;
    for (let c = k; c < n; c++) a[i * n + c] = (a[i * n + c] as number) - f * (a[k * n + c] as number);
  }
}

// The addon's SGEMM (gemm.cc, exported to JS as `sgemm`) against a float64 reference: random shapes around the
// micro-tile (6x16) and blocking (KC 256, MC 144) edges, both transposes, alpha/beta, padded leading dimensions,
// beta = 0 ignoring NaN in C, the one-row path, and bounds checking.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nativeFn } from '../backend/native.js';

type Sgemm = (
  heap: ArrayBuffer, a: number, b: number, c: number, M: number, N: number, K: number, transA: number,
  transB: number, lda: number, ldb: number, ldc: number, alpha: number, beta: number,
) => void;

function lcg(seed: number): () => number {
  let a = (seed * 2654435761) >>> 0;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2147483648 - 1;
  };
}

interface Case {
  M: number;
  N: number;
  K: number;
  tA: boolean;
  tB: boolean;
  pad: number;
  alpha: number;
  beta: number;
}

function check(sgemm: Sgemm, c: Case, seed: number): void {
  const { M, N, K, tA, tB, pad, alpha, beta } = c;
  const lda = (tA ? M : K) + pad;
  const ldb = (tB ? K : N) + pad;
  const ldc = N + pad;
  const aLen = (tA ? K : M) * lda;
  const bLen = (tB ? N : K) * ldb;
  const cLen = M * ldc;
  const heap = new ArrayBuffer(4 * (aLen + bLen + cLen + 3));
  const offA = 4; // deliberately not 32-byte aligned
  const offB = offA + 4 * aLen;
  const offC = offB + 4 * bLen;
  const A = new Float32Array(heap, offA, aLen);
  const B = new Float32Array(heap, offB, bLen);
  const C = new Float32Array(heap, offC, cLen);
  const r = lcg(seed);
  A.forEach((_, i) => (A[i] = r()));
  B.forEach((_, i) => (B[i] = r()));
  C.forEach((_, i) => (C[i] = beta === 0 ? NaN : r()));
  const C0 = C.slice();
  sgemm(heap, offA, offB, offC, M, N, K, tA ? 1 : 0, tB ? 1 : 0, lda, ldb, ldc, alpha, beta);
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[tA ? k * lda + i : i * lda + k]! * B[tB ? j * ldb + k : k * ldb + j]!;
      const ref = alpha * s + (beta === 0 ? 0 : beta * C0[i * ldc + j]!);
      const got = C[i * ldc + j]!;
      maxErr = Math.max(maxErr, Number.isNaN(got) ? Infinity : Math.abs(got - ref));
      maxRef = Math.max(maxRef, Math.abs(ref));
    }
    for (let j = N; j < ldc; j++) {
      assert.ok(Object.is(C[i * ldc + j], C0[i * ldc + j]), `wrote past column N at row ${i}`);
    }
  }
  const rel = maxErr / Math.max(maxRef, 1e-30);
  assert.ok(rel <= 1e-5, `${JSON.stringify(c)}: relative error ${rel.toExponential(2)}`);
}

test('sgemm matches a float64 reference', () => {
  const sgemm = nativeFn<Sgemm>('sgemm');
  const r = lcg(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(((r() + 1) / 2) * xs.length)] as T;
  const dims = [1, 2, 5, 6, 7, 8, 9, 15, 16, 17, 23, 24, 31, 33, 64, 97, 145, 150];
  const ks = [1, 3, 16, 27, 100, 255, 256, 257, 300, 600];
  let n = 0;
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      for (let i = 0; i < 25; i++) {
        const alpha = pick([1, 1, 0.5, -2]);
        const beta = pick([0, 0, 1, -0.75]);
        check(sgemm, { M: pick(dims), N: pick(dims), K: pick(ks), tA, tB, pad: pick([0, 0, 3]), alpha, beta }, ++n);
      }
    }
  }
  // Shapes of MobileNetV3-Small's pointwise convolutions (batch 64): forward, dX, dW.
  check(sgemm, { M: 4096, N: 72, K: 16, tA: false, tB: false, pad: 0, alpha: 1, beta: 0 }, 1001);
  check(sgemm, { M: 64, N: 96, K: 576, tA: false, tB: true, pad: 0, alpha: 1, beta: 0 }, 1002);
  check(sgemm, { M: 27, N: 16, K: 4096, tA: true, tB: false, pad: 0, alpha: 1, beta: 0 }, 1003);
  check(sgemm, { M: 300, N: 200, K: 100, tA: false, tB: false, pad: 1, alpha: 1, beta: 1 }, 1004);
});

test('sgemm: a one-row product (its own path) matches the reference and the tiled path bit for bit', () => {
  const sgemm = nativeFn<Sgemm>('sgemm');
  // Head and squeeze-excite shapes at batch 1, K over several slices, N over several column blocks.
  for (const [N, K, alpha, beta, pad] of [[1000, 1280, 1, 0, 0], [1280, 960, 1, 0, 3], [4100, 300, 0.5, -0.75, 1], [7, 5, -2, 1, 0]] as const) {
    check(sgemm, { M: 1, N, K, tA: false, tB: false, pad, alpha, beta }, N + K);
    const ldb = N + pad;
    const heap = new ArrayBuffer(4 * (2 * K + K * ldb + 3 * N));
    const A = new Float32Array(heap, 0, 2 * K);
    const B = new Float32Array(heap, 8 * K, K * ldb);
    const r = lcg(K);
    A.forEach((_, i) => (A[i] = r()));
    B.forEach((_, i) => (B[i] = r()));
    const offC = 8 * K + 4 * K * ldb;
    const C = new Float32Array(heap, offC, 3 * N);
    C.forEach((_, i) => (C[i] = r()));
    C.copyWithin(2 * N, 0, N);
    sgemm(heap, 0, 8 * K, offC, 2, N, K, 0, 0, K, ldb, N, alpha, beta); // rows 0 and 1: the tiled path
    sgemm(heap, 0, 8 * K, offC + 8 * N, 1, N, K, 0, 0, K, ldb, N, alpha, beta); // row 0 again: the row path
    for (let j = 0; j < N; j++) assert.ok(Object.is(C[2 * N + j], C[j]), `N=${N} K=${K}: column ${j} differs`);
  }
});

test('sgemm: K = 0 scales C by beta; bad arguments throw', () => {
  const sgemm = nativeFn<Sgemm>('sgemm');
  const heap = new ArrayBuffer(64 * 4);
  const C = new Float32Array(heap, 0, 6).fill(2);
  sgemm(heap, 0, 0, 0, 2, 3, 0, 0, 0, 1, 3, 3, 1, 0.5);
  assert.deepEqual(Array.from(C), [1, 1, 1, 1, 1, 1]);
  assert.throws(() => sgemm(heap, 0, 0, 0, 9, 9, 9, 0, 0, 9, 9, 9, 1, 0), /past the end/);
  assert.throws(() => sgemm(heap, 0, 0, 0, 2, 2, 2, 0, 0, 1, 2, 2, 1, 0), /leading dimensions/);
  assert.throws(() => sgemm(heap, 2, 0, 0, 2, 2, 2, 0, 0, 2, 2, 2, 1, 0), /aligned/);
});

// Single-precision matrix product (SGEMM) for the native kernels, split over the kernel threads (threads.h).
//
// Row-major BLAS-like interface:  C = alpha * op(A) * op(B) + beta * C
//   op(A) is M x K: A is M x K (row stride lda >= K), or K x M when transA (lda >= M).
//   op(B) is K x N: B is K x N (row stride ldb >= N), or N x K when transB (ldb >= K).
//   C is M x N (row stride ldc >= N).
// beta == 0 overwrites C without reading it (garbage or NaN in C does not propagate), as BLAS does.
// K == 0 (or alpha == 0) only scales C by beta.
//
// Implementation: Goto/BLIS-style blocking (KC x NC panels of B, MC x KC blocks of A packed into
// contiguous micro-panels) around a 6x16 register-blocked AVX2/FMA micro-kernel (12x16 and 12x32 with AVX-512) (8-wide columns at the
// right edge); portable scalar code elsewhere. Scratch for packing is thread_local and reused, so the
// function is reentrant from several threads and allocates only when a larger block is first needed.
// No exceptions; no alignment requirement on A, B or C.
#pragma once

#include "epilogue.h"

namespace nas {

// epi (bias per column of C, activation) is applied to each tile of C as it is finished, while it is in L1: the
// result equals sgemm's followed by applyEpilogue, bit for bit.
void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc, const Epilogue& epi = {});

// Convenience for the common case alpha = 1 with densely packed operands (lda/ldb/ldc = row lengths).
// accumulate ? C += op(A) op(B) : C = op(A) op(B).
inline void matmul(bool transA, bool transB, int M, int N, int K, const float* A, const float* B, float* C,
                   bool accumulate = false) {
  sgemm(transA, transB, M, N, K, 1.0f, A, transA ? M : K, B, transB ? K : N, accumulate ? 1.0f : 0.0f, C, N);
}

// C = act(A B + bias): the inference layers' product (no transposes, dense operands).
inline void matmulEpilogue(int M, int N, int K, const float* A, const float* B, float* C, const Epilogue& epi) {
  sgemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N, epi);
}

}  // namespace nas

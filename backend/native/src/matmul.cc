// Batched matrix product for tfjs's BatchMatMul on the wasm heap. The stock wasm kernel is slow when an operand is
// transposed (the gradients of every dense layer are): 127 ms for a [576,64] x [64,1024] product that sgemm does
// in well under a millisecond.
//
// Export: batchMatMul(heap, a, b, out, batchA, batchB, M, N, K, transA, transB)
//   a: batchA matrices, each M x K (K x M when transA); b: batchB matrices, each K x N (N x K when transB);
//   out: max(batchA, batchB) matrices M x N. A batch of 1 broadcasts.
#include "addon.h"
#include "gemm.h"
#include "threads.h"

namespace nas {
namespace {

napi_value BatchMatMul(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const float* a = args.f32(0, 1);
  const float* b = args.f32(0, 2);
  float* out = args.f32(0, 3);
  const int batchA = args.i32(4), batchB = args.i32(5);
  const int M = args.i32(6), N = args.i32(7), K = args.i32(8);
  const bool transA = args.i32(9) != 0, transB = args.i32(10) != 0;
  if (!args.ok()) return nullptr;
  const int batch = batchA > batchB ? batchA : batchB;
  size_t length = 0;
  const uint8_t* base = args.buffer(0, &length);
  const auto fits = [&](const float* p, uint64_t count) {
    return fitsInHeap(length, static_cast<uint64_t>(reinterpret_cast<const uint8_t*>(p) - base), count);
  };
  if (M < 0 || N < 0 || K < 0 || batchA < 1 || batchB < 1 || !fits(a, uint64_t(batchA) * M * K) ||
      !fits(b, uint64_t(batchB) * K * N) || !fits(out, uint64_t(batch) * M * N)) {
    napi_throw_range_error(env, nullptr, "batchMatMul: bad offset or shape for the heap");
    return nullptr;
  }
  const int64_t strideA = batchA == 1 ? 0 : int64_t{M} * K;
  const int64_t strideB = batchB == 1 ? 0 : int64_t{K} * N;
  // Split over the batch (each product whole in one part); a single product splits itself (gemm.cc).
  const int parts = partsFor(double(batch) * M * N * K, kMinMacsPerPart, batch);
  parallelRanges(batch, parts, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) matmul(transA, transB, M, N, K, a + i * strideA, b + i * strideB, out + i * M * N);
  });
  return nullptr;
}

NAS_EXPORT(BatchMatMul);

}  // namespace
}  // namespace nas

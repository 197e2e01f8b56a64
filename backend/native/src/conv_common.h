// Shared by the convolution kernels (conv_grad.cc, depthwise_grad.cc): the geometry of an NHWC convolution
// and the checked decoding of a kernel call's arguments.
//
// Every convolution function takes the same arguments:
//   (heap, offsetA, offsetB, offsetOut,
//    batch, inH, inW, inC, outH, outW, outC, filterH, filterW, strideH, strideW, padTop, padLeft)
// Offsets are byte offsets into the heap ArrayBuffer. Tensors are dense float32, NHWC; filters are
// [filterH, filterW, inC, outC] (depthwise: [filterH, filterW, inC, outC / inC]). Dilation is 1. Padding at
// the bottom/right is implied by the output size: taps that fall outside the input read zeros.
#pragma once
#include <cstddef>
#include <cstdint>

#include "addon.h"
#include "epilogue.h"

namespace nas {

struct ConvGeom {
  int batch, inH, inW, inC, outH, outW, outC, filterH, filterW, strideH, strideW, padTop, padLeft;

  int64_t inSize() const { return int64_t{batch} * inH * inW * inC; }
  int64_t outSize() const { return int64_t{batch} * outH * outW * outC; }
  int64_t filterSize() const { return int64_t{filterH} * filterW * inC * (depthwise ? outC / inC : outC); }
  int64_t outRows() const { return int64_t{batch} * outH * outW; }
  bool depthwise = false;
  // 1x1, stride 1, no padding: the convolution is a plain matrix product over pixels.
  bool isPointwise() const {
    return filterH == 1 && filterW == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 &&
           outH == inH && outW == inW;
  }
};

enum class Role { Input, Output, Filter };

struct ConvCall {
  float* a = nullptr;
  float* b = nullptr;
  float* out = nullptr;
  ConvGeom g{};
};

// Decodes and validates a call; roles say what the three tensors are (e.g. Input, Filter, Output for the
// forward convolution). On failure a JS exception is pending and false is returned.
inline bool readConvCall(napi_env env, napi_callback_info info, const char* name, bool depthwise, Role ra,
                         Role rb, Role rout, ConvCall* call) {
  Args args(env, info);
  size_t length = 0;
  uint8_t* base = args.buffer(0, &length);
  float* p[3] = {args.f32(0, 1), args.f32(0, 2), args.f32(0, 3)};
  ConvGeom& g = call->g;
  int* dims[] = {&g.batch, &g.inH,     &g.inW,     &g.inC,     &g.outH,   &g.outW,  &g.outC,
                 &g.filterH, &g.filterW, &g.strideH, &g.strideW, &g.padTop, &g.padLeft};
  for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); ++i) *dims[i] = args.i32(4 + i);
  g.depthwise = depthwise;
  if (!args.ok()) return false;
  const bool sane = g.batch >= 0 && g.inH >= 0 && g.inW >= 0 && g.inC >= 1 && g.outH >= 0 && g.outW >= 0 &&
                    g.outC >= 1 && g.filterH >= 1 && g.filterW >= 1 && g.strideH >= 1 && g.strideW >= 1 &&
                    g.padTop >= 0 && g.padLeft >= 0 && (!depthwise || g.outC % g.inC == 0);
  if (!sane) {
    napi_throw_range_error(env, nullptr, name);
    return false;
  }
  const Role roles[3] = {ra, rb, rout};
  for (int i = 0; i < 3; ++i) {
    const int64_t n = roles[i] == Role::Input ? g.inSize() : roles[i] == Role::Output ? g.outSize() : g.filterSize();
    const uint64_t start = static_cast<uint64_t>(reinterpret_cast<uint8_t*>(p[i]) - base);
    if (!fitsInHeap(length, start, static_cast<uint64_t>(n))) {
      napi_throw_range_error(env, nullptr, "convolution kernel: a tensor runs past the end of the heap");
      return false;
    }
  }
  call->a = p[0];
  call->b = p[1];
  call->out = p[2];
  return true;
}

// The epilogue arguments of the inference convolutions, after the geometry: (..., biasOffset, kind) with
// biasOffset < 0 for no bias. The bias holds `channels` floats. On failure a JS exception is pending.
inline bool readEpilogue(napi_env env, napi_callback_info info, size_t pos, int channels, Epilogue* e) {
  Args args(env, info);
  size_t length = 0;
  uint8_t* base = args.buffer(0, &length);
  const double off = args.f64(pos);
  const int kind = args.i32(pos + 1);
  if (!args.ok()) return false;
  if (!validActKind(kind)) {
    napi_throw_range_error(env, nullptr, "unknown activation kind");
    return false;
  }
  e->kind = kind;
  e->bias = nullptr;
  if (off >= 0) {
    if (!fitsInHeap(length, static_cast<uint64_t>(off), static_cast<uint64_t>(channels))) {
      napi_throw_range_error(env, nullptr, "convolution kernel: the bias runs past the end of the heap");
      return false;
    }
    e->bias = reinterpret_cast<const float*>(base + static_cast<uint64_t>(off));
  }
  return true;
}

}  // namespace nas

// The native kernel addon: each source file registers its functions with NAS_EXPORT; addon.cc exports them all.
// Kernels work in place on the tfjs wasm backend's heap: JS passes the heap's ArrayBuffer and byte offsets.
#pragma once
#include <node_api.h>
#include <cstdint>
#include <string>
#include <vector>

namespace nas {

using NativeFn = napi_value (*)(napi_env, napi_callback_info);

struct Export {
  std::string name;
  NativeFn fn;
};

std::vector<Export>& registry();

// Registers handler `fn` under its own name with the first letter lower-cased (BatchMatMul -> batchMatMul).
struct Registrar {
  Registrar(const char* handler, NativeFn fn);
};

// Arguments of one call: numbers and ArrayBuffers, read by position. A wrong type throws a JS TypeError and
// makes ok false; the caller then returns nullptr.
class Args {
 public:
  Args(napi_env env, napi_callback_info info);
  bool ok() const { return ok_; }
  size_t count() const { return argc_; }
  int32_t i32(size_t i);
  // A byte offset into the heap: read as 64 bits, since a wasm heap may grow past 2 GiB (an int32 would wrap).
  int64_t offset(size_t i);
  double f64(size_t i);
  // Base pointer of the ArrayBuffer at position i (the wasm heap).
  uint8_t* buffer(size_t i, size_t* length = nullptr);
  // A float32 pointer into the buffer at position `buf`, at the byte offset given at position `off`.
  float* f32(size_t buf, size_t off);
  napi_env env() const { return env_; }

 private:
  bool fail(const char* message);
  napi_env env_;
  size_t argc_ = kMaxArgs;
  static constexpr size_t kMaxArgs = 40;
  napi_value argv_[kMaxArgs];
  bool ok_ = true;
};

// Whether `count` floats at byte offset `offset` lie inside a heap of `length` bytes: the bounds check of every
// array a kernel is given (written so that no sum can overflow).
inline bool fitsInHeap(size_t length, uint64_t offset, uint64_t count) {
  return offset <= length && count <= (length - offset) / sizeof(float);
}

// Checked views of float arrays on the wasm heap: a kernel's argument list is (heap, byte offsets..., sizes...).
// Every array is checked to lie inside the heap, so a wrong offset or shape throws instead of corrupting memory.
class Heap {
 public:
  explicit Heap(Args& a) : a_(a) { base_ = a.buffer(0, &length_); }
  // The array of `count` floats at the byte offset given by argument i (count == 0 is allowed).
  float* at(size_t i, size_t count);
  // A non-negative size argument.
  size_t size(size_t i);
  bool ok() const { return a_.ok() && !failed_; }

 private:
  void fail(const char* message);
  Args& a_;
  uint8_t* base_ = nullptr;
  size_t length_ = 0;
  bool failed_ = false;
};

}  // namespace nas

#define NAS_CONCAT_(a, b) a##b
#define NAS_CONCAT(a, b) NAS_CONCAT_(a, b)
// NAS_EXPORT(ConvBiasAct) exports the handler ConvBiasAct as convBiasAct: one naming rule, handlers in PascalCase
// and their JS names the same in camelCase, named after the operation without a prefix.
#define NAS_EXPORT(fn) static ::nas::Registrar NAS_CONCAT(nas_registrar_, __LINE__)(#fn, fn)

// The native kernel addon: each source file registers its functions with NAS_EXPORT; addon.cc exports them all.
// Kernels work in place on the tfjs wasm backend's heap: JS passes the heap's ArrayBuffer and byte offsets.
#pragma once
#include <node_api.h>
#include <cstdint>
#include <vector>

namespace nas {

using NativeFn = napi_value (*)(napi_env, napi_callback_info);

struct Export {
  const char* name;
  NativeFn fn;
};

std::vector<Export>& registry();

struct Registrar {
  Registrar(const char* name, NativeFn fn) { registry().push_back({name, fn}); }
};

// Arguments of one call: numbers and ArrayBuffers, read by position. A wrong type throws a JS TypeError and
// makes ok false; the caller then returns nullptr.
class Args {
 public:
  Args(napi_env env, napi_callback_info info);
  bool ok() const { return ok_; }
  size_t count() const { return argc_; }
  int32_t i32(size_t i);
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

}  // namespace nas

#define NAS_CONCAT_(a, b) a##b
#define NAS_CONCAT(a, b) NAS_CONCAT_(a, b)
#define NAS_EXPORT(name, fn) static ::nas::Registrar NAS_CONCAT(nas_registrar_, __LINE__)(name, fn)

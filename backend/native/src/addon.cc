#include "addon.h"

#include <cctype>

namespace nas {

std::vector<Export>& registry() {
  static std::vector<Export> all;
  return all;
}

Registrar::Registrar(const char* handler, NativeFn fn) {
  std::string name(handler);
  name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
  registry().push_back({name, fn});
}

Args::Args(napi_env env, napi_callback_info info) : env_(env) {
  if (napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr) != napi_ok) fail("cannot read arguments");
}

bool Args::fail(const char* message) {
  if (ok_) napi_throw_type_error(env_, nullptr, message);
  ok_ = false;
  return false;
}

int32_t Args::i32(size_t i) {
  int32_t v = 0;
  if (i >= argc_ || napi_get_value_int32(env_, argv_[i], &v) != napi_ok) fail("expected an integer argument");
  return v;
}

int64_t Args::offset(size_t i) {
  int64_t v = 0;
  if (i >= argc_ || napi_get_value_int64(env_, argv_[i], &v) != napi_ok) fail("expected an integer argument");
  return v;
}

double Args::f64(size_t i) {
  double v = 0;
  if (i >= argc_ || napi_get_value_double(env_, argv_[i], &v) != napi_ok) fail("expected a number argument");
  return v;
}

uint8_t* Args::buffer(size_t i, size_t* length) {
  void* data = nullptr;
  size_t len = 0;
  if (i >= argc_ || napi_get_arraybuffer_info(env_, argv_[i], &data, &len) != napi_ok) {
    fail("expected an ArrayBuffer argument");
    return nullptr;
  }
  if (length) *length = len;
  return static_cast<uint8_t*>(data);
}

float* Args::f32(size_t buf, size_t off) {
  size_t length = 0;
  uint8_t* base = buffer(buf, &length);
  const int64_t at = offset(off);
  if (!base || at < 0 || (at & 3) || static_cast<uint64_t>(at) > length) {
    fail("expected a 4-byte aligned offset into the heap");
    return nullptr;
  }
  return reinterpret_cast<float*>(base + at);
}

float* Heap::at(size_t i, size_t count) {
  const int64_t off = a_.offset(i);
  if (!a_.ok() || !base_) return nullptr;
  if (off < 0 || (off & 3) || !fitsInHeap(length_, static_cast<uint64_t>(off), count)) {
    fail("array outside the wasm heap (bad offset or shape)");
    return nullptr;
  }
  return reinterpret_cast<float*>(base_ + off);
}

size_t Heap::size(size_t i) {
  int32_t v = a_.i32(i);
  if (a_.ok() && v < 0) fail("negative size");
  return v < 0 ? 0 : static_cast<size_t>(v);
}

void Heap::fail(const char* message) {
  if (!failed_ && a_.ok()) napi_throw_range_error(a_.env(), nullptr, message);
  failed_ = true;
}

}  // namespace nas

NAPI_MODULE_INIT() {
  for (const nas::Export& e : nas::registry()) {
    napi_value fn;
    napi_create_function(env, e.name.c_str(), NAPI_AUTO_LENGTH, e.fn, nullptr, &fn);
    napi_set_named_property(env, exports, e.name.c_str(), fn);
  }
  return exports;
}

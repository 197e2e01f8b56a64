// Identifies the build, so `nas backend` can report which native kernels are loaded: version(), isa() (the
// instruction-set level this addon was compiled for) and cpuIsa() (the best level this CPU runs), from which
// backend/native.ts picks the addon to load (binding.gyp builds one per level).
#include "addon.h"
#include "f32x8.h"

namespace {

#if defined(__AVX512F__)
constexpr const char* kIsa = "avx512";
#elif defined(NAS_F32X8_AVX2)
constexpr const char* kIsa = "avx2";
#else
constexpr const char* kIsa = "baseline";
#endif

napi_value jsString(napi_env env, const char* s) {
  napi_value out;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &out);
  return out;
}

napi_value Version(napi_env env, napi_callback_info) {
  const std::string v = std::string("nas-kernels 1 (" __VERSION__ ", ") + kIsa + ")";
  return jsString(env, v.c_str());
}

napi_value Isa(napi_env env, napi_callback_info) { return jsString(env, kIsa); }

// __builtin_cpu_supports also checks that the OS saves the AVX registers.
napi_value CpuIsa(napi_env env, napi_callback_info) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2 && __builtin_cpu_supports("avx512f")) return jsString(env, "avx512");
  if (avx2) return jsString(env, "avx2");
#endif
  return jsString(env, "baseline");
}

NAS_EXPORT(Version);
NAS_EXPORT(Isa);
NAS_EXPORT(CpuIsa);

}  // namespace

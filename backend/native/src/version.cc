// Identifies the build, so `nas backend` can report which native kernels are loaded.
#include "addon.h"

namespace {

napi_value Version(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_string_utf8(env, "nas-kernels 1 (" __VERSION__
#ifdef __AVX2__
                          ", avx2"
#endif
#ifdef __FMA__
                          ", fma"
#endif
                          ")",
                          NAPI_AUTO_LENGTH, &out);
  return out;
}

NAS_EXPORT(Version);

}  // namespace

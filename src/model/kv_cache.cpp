#include "model/kv_cache.h"

#include <atomic>

#include "base/error.h"

namespace qlm {

KvDtype parse_kv_dtype(const std::string& text, const std::string& source) {
  if (text == "f32" || text == "float32" || text == "fp32" || text == "auto") return KvDtype::f32;
  if (text == "f16" || text == "float16" || text == "fp16" || text == "half") return KvDtype::f16;
  fail(source, ": unknown KV cache dtype '", text, "' (expected f32 or f16)");
}

const char* kv_dtype_name(KvDtype d) {
  return d == KvDtype::f16 ? "f16" : "f32";
}

namespace {
std::atomic<KvDtype> g_default{KvDtype::f32};
}

void set_default_kv_dtype(KvDtype d) {
  g_default.store(d);
}
KvDtype default_kv_dtype() {
  return g_default.load();
}

}  // namespace qlm

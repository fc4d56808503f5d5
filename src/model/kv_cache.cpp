#include "model/kv_cache.h"

#include <atomic>
#include <cstring>

#include "base/error.h"
#include "base/page_arena.h"

namespace qlm {

namespace {
// From this size a cache goes in 2 MB pages (page_arena.h): it holds at most one page more
// than the positions stored, a quarter of its capacity at most. Smaller caches (rollout
// samples of a few hundred positions) keep 4 KB pages, where a 2 MB page could be most of it.
constexpr size_t kHugePageCacheBytes = size_t(8) << 20;
}  // namespace

KVCache::KVCache(const ModelConfig& cfg, int capacity, KvDtype dtype)
    : KVCache(cfg.num_kv_heads, cfg.head_dim, cfg.num_layers, capacity, dtype, 0) {}

// Spans are shared only between caches of whole spans (a cache under 256 positions has one span
// of its own length, laid out differently).
KVCache::KVCache(std::shared_ptr<const KVCache> prompt, int n, int capacity)
    : KVCache(prompt->kv_heads_, prompt->head_dim_, prompt->layers_, capacity, prompt->dtype_,
              prompt->span_ == kKvSpan && span_positions(capacity) == kKvSpan ? shared_positions(n) : 0) {
  QLM_CHECK(prompt->first_position_ == 0 && n <= prompt->size_ && n < capacity);
  copy_prefix_from(*prompt, n);
  if (first_position_ > 0) prompt_ = std::move(prompt);
}

KVCache::KVCache(int kv_heads, int head_dim, int layers, int capacity, KvDtype dtype, int first_position)
    : capacity_(capacity),
      kv_heads_(kv_heads),
      head_dim_(head_dim),
      layers_(layers),
      span_(span_positions(capacity)),
      head_span_(static_cast<size_t>(span_) * head_dim_),
      layer_span_(2 * kv_heads_ * head_span_),
      dtype_(dtype),
      first_position_(first_position) {
  // Memory for the spans from first_position on (a fork's earlier ones are its prompt's).
  elements_ = ((capacity_ + span_ - 1) / span_ - first_position_ / kKvSpan) * layers_ * layer_span_;
  // Left uninitialised on purpose: a large block is fresh mmap'ed memory whose pages cost
  // nothing until a position is stored, so a cache sized for max_tokens holds RAM only for the
  // tokens actually made (attention never uses a position before it is stored).
  const size_t n = bytes();
  memory_ = n >= kHugePageCacheBytes ? PageArena::single(n)
                                     : std::shared_ptr<uint8_t>(new uint8_t[n], std::default_delete<uint8_t[]>());
  if (dtype_ == KvDtype::f32) {
    f32_ = reinterpret_cast<float*>(memory_.get());
  } else {
    f16_ = reinterpret_cast<uint16_t*>(memory_.get());
  }
}

void KVCache::copy_prefix_from(const KVCache& src, int n) {
  QLM_CHECK(src.dtype_ == dtype_ && src.kv_heads_ == kv_heads_ && src.head_dim_ == head_dim_ &&
            src.layers_ == layers_ && src.first_position_ == 0 && n <= capacity_ && n <= src.capacity_);
  // Block by block: the two caches' spans may differ (a short prompt's cache is one span of its
  // own length); a K block is copied whole (lanes past n are never read).
  const size_t es = element_bytes(dtype_);
  auto* to = memory_.get();
  const auto* from = src.memory_.get();
  for (int l = 0; l < layers_; ++l)
    for (int g = 0; g < kv_heads_; ++g)
      for (int p = first_position_; p < n; p += kKeyBlock) {
        const size_t rows = static_cast<size_t>(std::min(kKeyBlock, n - p));
        std::memcpy(to + k_offset(l, g, p) * es, from + src.k_offset(l, g, p) * es, k_block_stride() * es);
        std::memcpy(to + v_offset(l, g, p) * es, from + src.v_offset(l, g, p) * es, rows * head_dim_ * es);
      }
  size_ = n;
}

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

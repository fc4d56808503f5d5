// Per-sequence key/value cache in F32 (the default: the PyTorch-oracle tests hold it to 1e-4)
// or F16 (half the memory and half the bytes attention reads per token; K/V are rounded to
// nearest-even once, when stored, so results stay independent of the batch and the threads).
//
// Layout: spans of kKvSpan = 256 positions; inside a span every layer's K then V, each KV
// head's part one contiguous run: [capacity / 256][n_layers]{ K [kv_heads][256 / 16][head_dim]
// [16], V [kv_heads][256][head_dim] } (a cache of at most 256 positions is one span of its
// capacity rounded up to 16). K comes in blocks of 16 keys, dimension-major, so attention
// scores 16 keys with one vector FMA per dimension (no horizontal sums).
// Spans outermost make the memory a sequence touches a prefix of the cache that grows with it,
// so a long cache can sit in 2 MB pages and still hold RAM only for the positions stored, give
// or take a span and a page. They also let the samples forked from one prompt share its whole
// spans (a fork holds only the spans from the prompt's last, partial one on; attention reads the
// shared ones from the prompt's cache, in the same order, so results are the same bit for bit).
// Heads innermost give decode attention, which streams K and V from memory (50 MB per token for
// a 0.5B model's F32 cache at 2048 positions), runs of 64 KB per head and span instead of 4 KB K
// blocks and 256-byte V rows interleaved with the other heads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <memory>

#include "base/error.h"
#include "base/half.h"
#include "io/model_config.h"
#include "kernels/kernel_table.h"

namespace qlm {

enum class KvDtype { f32, f16 };

// "f32" / "f16" (also "auto" = f32, "float32", "float16", "fp16", "half"); throws Error otherwise,
// naming `source` (the flag or key).
KvDtype parse_kv_dtype(const std::string& text, const std::string& source);
const char* kv_dtype_name(KvDtype d);

// The dtype models loaded from now on give their caches (the CLI's global --kv-cache-dtype);
// F32 unless set. Transformer::set_kv_dtype overrides it per model (the Python module does).
void set_default_kv_dtype(KvDtype d);
KvDtype default_kv_dtype();

class KVCache {
 public:
  static constexpr int kKeyBlock = 16;  // positions per K block

  KVCache(const ModelConfig& cfg, int capacity, KvDtype dtype = KvDtype::f32);
  // A fork of prompt's first n positions (a sample of it), room for `capacity` positions: the
  // whole spans below n (shared_positions(n)) stay in prompt, shared; the rest is copied.
  KVCache(std::shared_ptr<const KVCache> prompt, int n, int capacity);

  // Positions a fork of n prompt positions shares with the prompt: its whole spans.
  static int shared_positions(int n) { return n / kKvSpan * kKvSpan; }

  int capacity() const { return capacity_; }
  int size() const { return size_; }  // positions filled
  // Advance after a forward, or truncate to rewind (never into a fork's shared positions).
  void set_size(int n) {
    QLM_CHECK(n >= first_position_);
    size_ = n;
  }
  // Positions before this one are the shared prompt's (0 unless a fork).
  int first_position() const { return first_position_; }
  const KVCache* prompt() const { return prompt_.get(); }  // a fork's shared prompt, or null
  void clear() { set_size(0); }
  KvDtype dtype() const { return dtype_; }

  // Writes the kv_dim values of K and of V at (layer, pos) (head g's at g * head_dim); pos at
  // least first_position().
  void store(int layer, int pos, const float* k, const float* v) {
    for (int g = 0; g < kv_heads_; ++g) {
      const size_t kb = k_offset(layer, g, pos) + pos % kKeyBlock, vb = v_offset(layer, g, pos);
      const float* kg = k + g * head_dim_;
      const float* vg = v + g * head_dim_;
      if (dtype_ == KvDtype::f32) {
        for (int i = 0; i < head_dim_; ++i) f32_[kb + static_cast<size_t>(i) * kKeyBlock] = kg[i];
        std::copy_n(vg, head_dim_, f32_ + vb);
      } else {
        for (int i = 0; i < head_dim_; ++i) f16_[kb + static_cast<size_t>(i) * kKeyBlock] = to_f16(kg[i]);
        for (int i = 0; i < head_dim_; ++i) f16_[vb + i] = to_f16(vg[i]);
      }
    }
  }

  // K of KV head g of a layer in the cache's own type, from first_position() (null for the
  // other type): key block j of span s at [s * span_stride() + j * k_block_stride()],
  // [head_dim][16], s counted from first_position().
  const float* k_head(int layer, int g) const { return f32_ ? f32_ + k_offset(layer, g, first_position_) : nullptr; }
  const uint16_t* k_head_f16(int layer, int g) const { return f16_ ? f16_ + k_offset(layer, g, first_position_) : nullptr; }
  // V of KV head g of a layer from first_position() (null for the other type): row r of span s
  // at [s * span_stride() + r * v_row_stride()], head_dim values.
  const float* v_head(int layer, int g) const { return f32_ ? f32_ + v_offset(layer, g, first_position_) : nullptr; }
  const uint16_t* v_head_f16(int layer, int g) const { return f16_ ? f16_ + v_offset(layer, g, first_position_) : nullptr; }
  int64_t k_block_stride() const { return static_cast<int64_t>(kKeyBlock) * head_dim_; }
  int64_t v_row_stride() const { return head_dim_; }
  int64_t span_stride() const { return static_cast<int64_t>(layers_) * layer_span_; }

  // Points a at KV head g of a layer: K and V in the cache's own type, and their strides (and
  // a fork's shared prompt for the positions before first_position()).
  void attend_to(AttentionHead& a, int layer, int g) const {
    a.k = k_head(layer, g);
    a.v = v_head(layer, g);
    a.k_f16 = k_head_f16(layer, g);
    a.v_f16 = v_head_f16(layer, g);
    a.k_block_stride = k_block_stride();
    a.v_stride = v_row_stride();
    a.span_stride = span_stride();
    a.prefix_keys = first_position_;
    if (prompt_) {
      a.prefix_k = prompt_->k_head(layer, g);
      a.prefix_v = prompt_->v_head(layer, g);
      a.prefix_k_f16 = prompt_->k_head_f16(layer, g);
      a.prefix_v_f16 = prompt_->v_head_f16(layer, g);
    }
  }

  // One stored value as a float (exact for either type), dimension i of kv_dim: for tests.
  float k_value(int layer, int pos, int i) const {
    if (pos < first_position_) return prompt_->k_value(layer, pos, i);
    const int g = i / head_dim_, d = i % head_dim_;
    const size_t at = k_offset(layer, g, pos) + static_cast<size_t>(d) * kKeyBlock + pos % kKeyBlock;
    return f32_ ? f32_[at] : f16_to_float(f16_[at]);
  }
  float v_value(int layer, int pos, int i) const {
    if (pos < first_position_) return prompt_->v_value(layer, pos, i);
    const size_t at = v_offset(layer, i / head_dim_, pos) + i % head_dim_;
    return f32_ ? f32_[at] : f16_to_float(f16_[at]);
  }

  // Capacity in bytes (what it may come to hold; the resident part grows with size()), a fork's
  // shared positions not counted.
  size_t bytes() const { return elements_ * element_bytes(dtype_); }
  // The same for a cache not made yet (a fork sharing `shared` positions, a multiple of kKvSpan).
  static size_t bytes_for(const ModelConfig& cfg, int capacity, KvDtype dtype, int shared = 0) {
    const size_t span = span_positions(capacity), spans = (capacity + span - 1) / span - shared / kKvSpan;
    return spans * cfg.num_layers * 2 * span * static_cast<size_t>(cfg.kv_dim()) * element_bytes(dtype);
  }

  // Copies positions first_position() .. n-1 of every layer from src (a cache that is not a
  // fork; same dtype and shape; the capacities may differ) and sets the size to n.
  void copy_prefix_from(const KVCache& src, int n);

 private:
  static size_t element_bytes(KvDtype d) { return d == KvDtype::f32 ? 4 : 2; }

  // Positions per span: kKvSpan, or the whole capacity (rounded up to a K block) below that.
  static int span_positions(int capacity) {
    return std::min(kKvSpan, (std::max(capacity, 1) + kKeyBlock - 1) / kKeyBlock * kKeyBlock);
  }

  // Saturates at the largest half (65504): an out-of-range K would otherwise become inf and
  // turn every score of its head into NaN.
  static uint16_t to_f16(float x) { return float_to_f16(std::clamp(x, -65504.0f, 65504.0f)); }

  // Start of layer's part of the span holding pos; of head g's K block holding pos; of head
  // g's V row pos.
  size_t span_offset(int layer, int pos) const {
    return (static_cast<size_t>((pos - first_position_) / kKvSpan) * layers_ + layer) * layer_span_;
  }
  size_t k_offset(int layer, int g, int pos) const {
    return span_offset(layer, pos) + static_cast<size_t>(g) * head_span_ +
           static_cast<size_t>(pos % kKvSpan / kKeyBlock) * kKeyBlock * head_dim_;
  }
  size_t v_offset(int layer, int g, int pos) const {
    return span_offset(layer, pos) + static_cast<size_t>(kv_heads_ + g) * head_span_ +
           static_cast<size_t>(pos % kKvSpan) * head_dim_;
  }

  // Both public constructors: the memory for the spans from first_position on, uninitialised.
  KVCache(int kv_heads, int head_dim, int layers, int capacity, KvDtype dtype, int first_position);

  int capacity_;
  int kv_heads_;
  int head_dim_;
  int layers_;
  int span_;           // positions per span
  size_t head_span_;   // elements of one head's K (or V) in one span
  size_t layer_span_;  // elements of one layer's K and V in one span
  KvDtype dtype_;
  size_t elements_;
  int size_ = 0;
  int first_position_ = 0;                // a multiple of kKvSpan
  std::shared_ptr<const KVCache> prompt_;  // a fork's: positions before first_position_
  std::shared_ptr<uint8_t> memory_;
  // memory_ seen in the cache's type (the other stays null): K and V alike, interleaved.
  float* f32_ = nullptr;
  uint16_t* f16_ = nullptr;
};

}  // namespace qlm

// Per-sequence key/value cache in F32 (the default: the PyTorch-oracle tests hold it to 1e-4)
// or F16 (half the memory and half the bytes attention reads per token; K/V are rounded to
// nearest-even once, when stored, so results stay independent of the batch and the threads).
// V is [n_layers][capacity][kv_dim]. K is stored in blocks of 16 positions, dimension-major
// inside a block: [n_layers][capacity / 16][kv_dim][16], so attention scores 16 keys with one
// vector FMA per dimension (no horizontal sums) and KV head g's block is one run of
// head_dim x 16 values at g * head_dim * 16.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <memory>

#include "base/half.h"
#include "io/model_config.h"

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

  KVCache(const ModelConfig& cfg, int capacity, KvDtype dtype = KvDtype::f32)
      : capacity_(capacity),
        kv_dim_(cfg.kv_dim()),
        layers_(cfg.num_layers),
        blocks_((capacity + kKeyBlock - 1) / kKeyBlock),
        dtype_(dtype),
        k_elements_(static_cast<size_t>(cfg.num_layers) * blocks_ * kKeyBlock * kv_dim_),
        v_elements_(static_cast<size_t>(cfg.num_layers) * capacity * kv_dim_) {
    // Left uninitialised on purpose: a large block is fresh mmap'ed memory whose pages cost
    // nothing until a position is stored, so a cache sized for max_tokens holds RAM only for
    // the tokens actually made (attention never uses a position before it is stored).
    if (dtype_ == KvDtype::f32) {
      k32_.reset(new float[k_elements_]);
      v32_.reset(new float[v_elements_]);
    } else {
      k16_.reset(new uint16_t[k_elements_]);
      v16_.reset(new uint16_t[v_elements_]);
    }
  }

  int capacity() const { return capacity_; }
  int size() const { return size_; }  // positions filled
  void set_size(int n) { size_ = n; }  // advance after a forward, or truncate to rewind
  void clear() { size_ = 0; }
  KvDtype dtype() const { return dtype_; }

  // Writes the kv_dim values of K and of V at (layer, pos).
  void store(int layer, int pos, const float* k, const float* v) {
    const size_t kb = k_offset(layer, pos / kKeyBlock) + pos % kKeyBlock, vb = v_offset(layer, pos);
    if (dtype_ == KvDtype::f32) {
      for (int i = 0; i < kv_dim_; ++i) k32_[kb + static_cast<size_t>(i) * kKeyBlock] = k[i];
      std::copy_n(v, kv_dim_, v32_.get() + vb);
    } else {
      for (int i = 0; i < kv_dim_; ++i) k16_[kb + static_cast<size_t>(i) * kKeyBlock] = to_f16(k[i]);
      for (int i = 0; i < kv_dim_; ++i) v16_[vb + i] = to_f16(v[i]);
    }
  }

  // K of a layer in the cache's own type, from its first block (null for the other type):
  // position p, dimension i at [(p / 16) * k_block_stride() + i * 16 + p % 16].
  const float* k_blocks(int layer) const { return k32_ ? k32_.get() + k_offset(layer, 0) : nullptr; }
  const uint16_t* k_blocks_f16(int layer) const { return k16_ ? k16_.get() + k_offset(layer, 0) : nullptr; }
  int64_t k_block_stride() const { return static_cast<int64_t>(kKeyBlock) * kv_dim_; }
  // V row (layer, pos) in the cache's own type (null for the other type).
  const float* v(int layer, int pos) const { return v32_ ? v32_.get() + v_offset(layer, pos) : nullptr; }
  const uint16_t* v_f16(int layer, int pos) const { return v16_ ? v16_.get() + v_offset(layer, pos) : nullptr; }

  // One stored value as a float (exact for either type): for tests and tools.
  float k_value(int layer, int pos, int i) const {
    const size_t at = k_offset(layer, pos / kKeyBlock) + static_cast<size_t>(i) * kKeyBlock + pos % kKeyBlock;
    return k32_ ? k32_[at] : f16_to_float(k16_[at]);
  }
  float v_value(int layer, int pos, int i) const {
    const size_t at = v_offset(layer, pos) + i;
    return v32_ ? v32_[at] : f16_to_float(v16_[at]);
  }

  // Capacity in bytes (what it may come to hold; the resident part grows with size()).
  size_t bytes() const { return (k_elements_ + v_elements_) * (dtype_ == KvDtype::f32 ? 4 : 2); }
  // The same for a cache not made yet.
  static size_t bytes_for(const ModelConfig& cfg, int capacity, KvDtype dtype) {
    const size_t blocks = (static_cast<size_t>(capacity) + kKeyBlock - 1) / kKeyBlock;
    const size_t per_layer = (blocks * kKeyBlock + capacity) * static_cast<size_t>(cfg.kv_dim());
    return per_layer * cfg.num_layers * (dtype == KvDtype::f32 ? 4 : 2);
  }

  // Copies the first n positions of every layer from src (a fork of a shared prompt; same dtype).
  void copy_prefix_from(const KVCache& src, int n) {
    const size_t k_count = static_cast<size_t>((n + kKeyBlock - 1) / kKeyBlock) * k_block_stride();
    const size_t v_count = static_cast<size_t>(n) * kv_dim_;
    for (int l = 0; l < layers_; ++l) {
      const size_t kf = src.k_offset(l, 0), kt = k_offset(l, 0);
      const size_t vf = src.v_offset(l, 0), vt = v_offset(l, 0);
      if (dtype_ == KvDtype::f32) {
        std::copy_n(src.k32_.get() + kf, k_count, k32_.get() + kt);
        std::copy_n(src.v32_.get() + vf, v_count, v32_.get() + vt);
      } else {
        std::copy_n(src.k16_.get() + kf, k_count, k16_.get() + kt);
        std::copy_n(src.v16_.get() + vf, v_count, v16_.get() + vt);
      }
    }
    size_ = n;
  }

 private:
  // Saturates at the largest half (65504): an out-of-range K would otherwise become inf and
  // turn every score of its head into NaN.
  static uint16_t to_f16(float x) { return float_to_f16(std::clamp(x, -65504.0f, 65504.0f)); }

  size_t k_offset(int layer, int block) const {
    return (static_cast<size_t>(layer) * blocks_ + block) * kKeyBlock * kv_dim_;
  }
  size_t v_offset(int layer, int pos) const {
    return (static_cast<size_t>(layer) * capacity_ + pos) * kv_dim_;
  }

  int capacity_;
  int kv_dim_;
  int layers_;
  int blocks_;
  KvDtype dtype_;
  size_t k_elements_, v_elements_;
  int size_ = 0;
  std::unique_ptr<float[]> k32_, v32_;
  std::unique_ptr<uint16_t[]> k16_, v16_;
};

}  // namespace qlm

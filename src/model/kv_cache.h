// Per-sequence key/value cache, [n_layers][capacity][kv_dim] for K and for V, in F32 (the
// default: the PyTorch-oracle tests hold it to 1e-4) or F16 (half the memory and half the bytes
// attention reads per token; K/V are rounded to nearest-even once, when stored, so results
// stay independent of the batch and the thread count).
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
  KVCache(const ModelConfig& cfg, int capacity, KvDtype dtype = KvDtype::f32)
      : capacity_(capacity),
        kv_dim_(cfg.kv_dim()),
        layers_(cfg.num_layers),
        dtype_(dtype),
        elements_(static_cast<size_t>(cfg.num_layers) * capacity * kv_dim_) {
    // Left uninitialised on purpose: a large block is fresh mmap'ed memory whose pages cost
    // nothing until a position is stored, so a cache sized for max_tokens holds RAM only for
    // the tokens actually made (attention never reads a position before it is stored).
    if (dtype_ == KvDtype::f32) {
      k32_.reset(new float[elements_]);
      v32_.reset(new float[elements_]);
    } else {
      k16_.reset(new uint16_t[elements_]);
      v16_.reset(new uint16_t[elements_]);
    }
  }

  int capacity() const { return capacity_; }
  int size() const { return size_; }  // positions filled
  void set_size(int n) { size_ = n; }  // advance after a forward, or truncate to rewind
  void clear() { size_ = 0; }
  KvDtype dtype() const { return dtype_; }

  // Writes the kv_dim values of K and of V at (layer, pos).
  void store(int layer, int pos, const float* k, const float* v) {
    const size_t at = offset(layer, pos);
    if (dtype_ == KvDtype::f32) {
      std::copy_n(k, kv_dim_, k32_.get() + at);
      std::copy_n(v, kv_dim_, v32_.get() + at);
    } else {
      for (int i = 0; i < kv_dim_; ++i) k16_[at + i] = to_f16(k[i]);
      for (int i = 0; i < kv_dim_; ++i) v16_[at + i] = to_f16(v[i]);
    }
  }

  // Row (layer, pos) in the cache's own type (the other accessor pair returns null).
  const float* k(int layer, int pos) const { return at(k32_, layer, pos); }
  const float* v(int layer, int pos) const { return at(v32_, layer, pos); }
  const uint16_t* k_f16(int layer, int pos) const { return at(k16_, layer, pos); }
  const uint16_t* v_f16(int layer, int pos) const { return at(v16_, layer, pos); }

  // Capacity in bytes (what it may come to hold; the resident part grows with size()).
  size_t bytes() const {
    return 2 * elements_ * (dtype_ == KvDtype::f32 ? sizeof(float) : sizeof(uint16_t));
  }

  // Copies the first n positions of every layer from src (a fork of a shared prompt; same dtype).
  void copy_prefix_from(const KVCache& src, int n) {
    const size_t count = static_cast<size_t>(n) * kv_dim_;
    for (int l = 0; l < layers_; ++l) {
      const size_t from = src.offset(l, 0), to = offset(l, 0);
      if (dtype_ == KvDtype::f32) {
        std::copy_n(src.k32_.get() + from, count, k32_.get() + to);
        std::copy_n(src.v32_.get() + from, count, v32_.get() + to);
      } else {
        std::copy_n(src.k16_.get() + from, count, k16_.get() + to);
        std::copy_n(src.v16_.get() + from, count, v16_.get() + to);
      }
    }
    size_ = n;
  }

 private:
  // Saturates at the largest half (65504): an out-of-range K would otherwise become inf and
  // turn every score of its head into NaN.
  static uint16_t to_f16(float x) { return float_to_f16(std::clamp(x, -65504.0f, 65504.0f)); }

  size_t offset(int layer, int pos) const {
    return (static_cast<size_t>(layer) * capacity_ + pos) * kv_dim_;
  }
  template <class E>
  const E* at(const std::unique_ptr<E[]>& data, int layer, int pos) const {
    return data ? data.get() + offset(layer, pos) : nullptr;
  }

  int capacity_;
  int kv_dim_;
  int layers_;
  KvDtype dtype_;
  size_t elements_;
  int size_ = 0;
  std::unique_ptr<float[]> k32_, v32_;
  std::unique_ptr<uint16_t[]> k16_, v16_;
};

}  // namespace qlm

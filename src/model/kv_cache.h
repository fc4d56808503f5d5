// Per-sequence key/value cache: F32, [n_layers][capacity][kv_dim] for K and for V.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "io/model_config.h"

namespace qlm {

class KVCache {
 public:
  KVCache(const ModelConfig& cfg, int capacity)
      : capacity_(capacity),
        kv_dim_(cfg.kv_dim()),
        k_(static_cast<size_t>(cfg.num_layers) * capacity * kv_dim_),
        v_(k_.size()) {}

  int capacity() const { return capacity_; }
  int size() const { return size_; }  // positions filled
  void set_size(int n) { size_ = n; }  // advance after a forward, or truncate to rewind
  void clear() { size_ = 0; }

  float* k(int layer, int pos) { return k_.data() + (static_cast<size_t>(layer) * capacity_ + pos) * kv_dim_; }
  float* v(int layer, int pos) { return v_.data() + (static_cast<size_t>(layer) * capacity_ + pos) * kv_dim_; }
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

  // Copies the first n positions of every layer from src (a fork of a shared prompt).
  void copy_prefix_from(const KVCache& src, int n) {
    const int layers = static_cast<int>(k_.size() / (static_cast<size_t>(capacity_) * kv_dim_));
    for (int l = 0; l < layers; ++l) {
      std::copy_n(src.k_.data() + static_cast<size_t>(l) * src.capacity_ * kv_dim_, static_cast<size_t>(n) * kv_dim_,
                  k(l, 0));
      std::copy_n(src.v_.data() + static_cast<size_t>(l) * src.capacity_ * kv_dim_, static_cast<size_t>(n) * kv_dim_,
                  v(l, 0));
    }
    size_ = n;
  }

 private:
  int capacity_;
  int kv_dim_;
  int size_ = 0;
  std::vector<float> k_, v_;
};

}  // namespace qlm

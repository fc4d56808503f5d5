// Open-addressing hash table from a token pair to its merge (rank, merged id). The BPE
// inner loop probes it once per candidate pair; std::unordered_map's modulo-prime buckets
// and node chasing cost twice as much there.
#pragma once

#include <cstdint>
#include <vector>

namespace qlm::tok {

class MergeTable {
 public:
  struct Merge {
    int rank;
    int new_id;
  };

  void reserve(size_t n) {
    size_t capacity = 16;
    while (capacity < n * 2) capacity *= 2;  // load factor <= 0.5 keeps probes short
    slots_.assign(capacity, Slot{kEmpty, {}});
    mask_ = capacity - 1;
  }

  // Keeps the first insertion for a pair (HF keeps the lowest rank of duplicate merges).
  void insert(int left, int right, Merge merge) {
    const uint64_t key = pair_key(left, right);
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return;
      if (slots_[i].key == kEmpty) {
        slots_[i] = {key, merge};
        return;
      }
    }
  }

  const Merge* find(int left, int right) const {
    const uint64_t key = pair_key(left, right);
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].merge;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // ids are never both 0xFFFFFFFF
  struct Slot {
    uint64_t key;
    Merge merge;
  };
  static uint64_t pair_key(int left, int right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  size_t slot_of(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_;
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace qlm::tok

// One anonymous mapping that many load-time buffers are carved from (the interleaved codes
// and blocked scales of a model's matrices), so that they sit in 2 MB pages. Transparent huge
// pages only back whole, aligned 2 MB ranges; a 0.5B model's ~170 matrices of 0.1-2.3 MB
// each, mapped one by one, got almost none (14 MB of 1 GB in qlm_kernel_bench's DRAM GEMV),
// and every 4 KB page of the weight stream cost a TLB miss.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace qlm {

class PageArena {
 public:
  // Slots start on 4 KB boundaries, so a slot's pages can go back to the system alone.
  static constexpr size_t kSlotAlign = 4096;
  static size_t slot_bytes(size_t bytes) { return (bytes + kSlotAlign - 1) / kSlotAlign * kSlotAlign; }

  // An arena of `bytes` (the sum of slot_bytes() of every slot to take), 2 MB aligned, with
  // MADV_HUGEPAGE advice. Throws std::bad_alloc when the mapping fails.
  static std::shared_ptr<PageArena> create(size_t bytes);
  ~PageArena();
  PageArena(const PageArena&) = delete;
  PageArena& operator=(const PageArena&) = delete;

  // The next `bytes` (zero-filled) of an arena created with room for them. The slot keeps the
  // arena alive; when its last copy is dropped its pages are returned (MADV_DONTNEED), e.g.
  // after a weight update replaced the matrix, and the mapping when every slot's is.
  static std::shared_ptr<uint8_t> take(const std::shared_ptr<PageArena>& arena, size_t bytes);

  // A slot in an arena of its own (for one buffer built outside a model load).
  static std::shared_ptr<uint8_t> single(size_t bytes) { return take(create(slot_bytes(bytes)), bytes); }

  size_t capacity() const { return size_; }
  size_t used() const { return used_; }

 private:
  PageArena(uint8_t* base, size_t size, void* map, size_t map_size)
      : base_(base), size_(size), map_(map), map_size_(map_size) {}
  uint8_t* base_;
  size_t size_, used_ = 0;
  void* map_;  // the whole mapping (base_ rounded up to 2 MB within it)
  size_t map_size_;
};

}  // namespace qlm

// See page_arena.h.
#include "base/page_arena.h"

#include <new>

#include <sys/mman.h>

#include "base/error.h"

namespace qlm {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
}

std::shared_ptr<PageArena> PageArena::create(size_t bytes) {
  const size_t size = slot_bytes(bytes == 0 ? 1 : bytes);
  // Mapped 2 MB larger, then used from the first 2 MB boundary: the kernel aligns anonymous
  // mappings to huge pages only when their length is a multiple of 2 MB.
  const size_t map_size = size + kHugePage;
  void* map = ::mmap(nullptr, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t start = (reinterpret_cast<uintptr_t>(map) + kHugePage - 1) & ~(kHugePage - 1);
  auto* base = reinterpret_cast<uint8_t*>(start);
  // Advice only: where THP is off this is refused and 4 KB pages serve as before. 500x fewer
  // page faults while the copies are written, and fewer TLB misses while decode streams them.
  ::madvise(base, size, MADV_HUGEPAGE);
  return std::shared_ptr<PageArena>(new PageArena(base, size, map, map_size));
}

PageArena::~PageArena() { ::munmap(map_, map_size_); }

std::shared_ptr<uint8_t> PageArena::take(const std::shared_ptr<PageArena>& arena, size_t bytes) {
  const size_t n = slot_bytes(bytes);
  QLM_CHECK(arena != nullptr && arena->used_ + n <= arena->size_);
  uint8_t* p = arena->base_ + arena->used_;
  arena->used_ += n;
  return std::shared_ptr<uint8_t>(p, [arena, n](uint8_t* q) {
    // Only while other slots keep the mapping: otherwise the arena's munmap frees it anyway.
    if (arena.use_count() > 1) ::madvise(q, n, MADV_DONTNEED);
  });
}

}  // namespace qlm

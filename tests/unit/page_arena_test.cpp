// PageArena: slots are page aligned, disjoint and inside the arena; a slot dropped while the
// arena lives reads back as zero pages (returned to the system); asking for more room than
// the arena was created with is an internal error, not an overrun.
#include <gtest/gtest.h>

#include <cstring>

#include "base/error.h"
#include "base/page_arena.h"

namespace qlm {
namespace {

TEST(PageArena, SlotsArePageAlignedAndDisjoint) {
  const size_t sizes[] = {1, 4096, 5000, 100, 3 << 20};
  size_t total = 0;
  for (size_t s : sizes) total += PageArena::slot_bytes(s);
  auto arena = PageArena::create(total);
  EXPECT_EQ(arena->capacity(), total);
  const uint8_t* prev_end = nullptr;
  for (size_t s : sizes) {
    auto slot = PageArena::take(arena, s);
    const auto addr = reinterpret_cast<uintptr_t>(slot.get());
    EXPECT_EQ(addr % PageArena::kSlotAlign, 0u);
    if (prev_end != nullptr) EXPECT_GE(slot.get(), prev_end);
    prev_end = slot.get() + s;
    std::memset(slot.get(), 0xAB, s);  // writable over its whole length
  }
  EXPECT_EQ(arena->used(), total);
}

TEST(PageArena, DroppedSlotPagesAreReturned) {
  auto arena = PageArena::create(2 * 8192);
  auto keep = PageArena::take(arena, 8192);
  auto drop = PageArena::take(arena, 8192);
  uint8_t* const raw = drop.get();
  std::memset(keep.get(), 0x11, 8192);
  std::memset(raw, 0x22, 8192);
  drop.reset();  // `keep` still holds the mapping: only these pages go back (MADV_DONTNEED)
  for (size_t i = 0; i < 8192; i += 511) ASSERT_EQ(raw[i], 0) << "byte " << i;
  EXPECT_EQ(keep.get()[8191], 0x11);
}

TEST(PageArena, TakingMoreThanTheCapacityFails) {
  auto arena = PageArena::create(4096);
  auto a = PageArena::take(arena, 4096);
  EXPECT_THROW(PageArena::take(arena, 1), Error);
}

TEST(PageArena, SingleSlotOwnsItsArena) {
  auto slot = PageArena::single(10000);
  std::memset(slot.get(), 0x5A, 10000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(slot.get()) % PageArena::kSlotAlign, 0u);
}

}  // namespace
}  // namespace qlm

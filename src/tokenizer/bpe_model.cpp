// BPE merging: a min-heap of candidate pairs ordered by (rank, position) over a linked list
// of symbols; stale candidates are skipped when popped. Same order as HF's Word::merge_all.
#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>

#include "base/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace qlm::tok {

BpeModel::BpeModel(const TokenizerSpec& spec)
    : byte_level_(spec.byte_level),
      ignore_merges_(spec.ignore_merges),
      byte_fallback_(spec.byte_fallback),
      fuse_unk_(spec.fuse_unk) {
  vocab_.reserve(spec.vocab.size());
  for (const auto& [piece, id] : spec.vocab) vocab_.emplace(piece, id);

  merges_.reserve(spec.merges.size());
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [a, b] = spec.merges[rank];
    const auto ia = find(a), ib = find(b), ij = find(a + b);
    if (!ia || !ib || !ij)
      fail(spec.source, ": merge \"", a, " ", b, "\" (rank ", rank,
           ") uses a token missing from the vocabulary");
    merges_.insert(*ia, *ib, Merge{static_cast<int>(rank), *ij});
  }

  if (spec.unk_token) {
    const auto id = find(*spec.unk_token);
    if (!id) fail(spec.source, ": unk_token \"", *spec.unk_token, "\" is not in the vocabulary");
    unk_id_ = *id;
  }
  const ByteLevelTable& table = byte_level_table();
  for (int b = 0; b < 256; ++b) {
    byte_symbol_ids_[b] = -1;
    if (byte_level_) {
      const auto id = find(table.byte_to_utf8[b]);
      if (!id) fail(spec.source, ": byte-level vocabulary lacks the symbol for byte ", b);
      byte_symbol_ids_[b] = *id;
    }
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    byte_fallback_ids_[b] = find(name).value_or(-1);
  }
}

std::optional<int> BpeModel::find(std::string_view piece) const {
  const auto it = vocab_.find(piece);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const {
  auto add = [&](int id) {
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, -1});
    if (index > 0) symbols[index - 1].next = index;
  };
  if (byte_level_) {
    for (unsigned char b : word) add(byte_symbol_ids_[b]);
    return;
  }
  // One symbol per character; unknown characters become <0xXX> bytes or (fused) <unk>.
  bool pending_unk = false;
  size_t i = 0;
  while (i < word.size()) {
    const size_t len = utf8_step(word, i).length;
    const std::string_view ch = word.substr(i, len);
    i += len;
    if (const auto id = find(ch)) {
      if (pending_unk) add(unk_id_);
      pending_unk = false;
      add(*id);
      continue;
    }
    if (byte_fallback_ && std::all_of(ch.begin(), ch.end(), [&](char c) {
          return byte_fallback_ids_[static_cast<unsigned char>(c)] >= 0;
        })) {
      for (char c : ch) add(byte_fallback_ids_[static_cast<unsigned char>(c)]);
      continue;
    }
    if (unk_id_ < 0) continue;  // HF drops characters it cannot represent at all
    if (pending_unk && !fuse_unk_) add(unk_id_);
    pending_unk = true;
  }
  if (pending_unk) add(unk_id_);
}

void BpeModel::merge_all(std::vector<Symbol>& symbols) const {
  struct Candidate {
    int rank;
    int pos;
    int new_id;
  };
  // std heap functions build a max-heap; "greater" puts the lowest (rank, pos) on top.
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  thread_local std::vector<Candidate> heap;  // reused: words are short and many
  heap.clear();
  auto push_pair = [&](int pos) {
    const int next = symbols[pos].next;
    if (next < 0) return;
    if (const Merge* m = merges_.find(symbols[pos].id, symbols[next].id)) {
      heap.push_back({m->rank, pos, m->new_id});
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) push_pair(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = symbols[top.pos];
    if (left.id < 0 || left.next < 0) continue;
    const int right_pos = left.next;
    const Merge* m = merges_.find(left.id, symbols[right_pos].id);
    if (m == nullptr || m->new_id != top.new_id) continue;  // stale candidate
    left.id = top.new_id;
    left.next = symbols[right_pos].next;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    symbols[right_pos].id = -1;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
}

void BpeModel::encode_word(std::string_view word, std::vector<int>& out) const {
  if (word.empty()) return;
  const bool cacheable = word.size() <= kMaxCachedWordBytes;
  if (cacheable) {
    std::lock_guard lock(cache_mutex_);
    const auto it = cache_.find(word);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int> ids;
  bool whole = false;
  if (ignore_merges_) {
    std::optional<int> id;
    if (byte_level_) {
      std::string mapped;
      for (unsigned char b : word) mapped += byte_level_table().byte_to_utf8[b];
      id = find(mapped);
    } else {
      id = find(word);
    }
    if (id) {
      ids.push_back(*id);
      whole = true;
    }
  }
  if (!whole) {
    thread_local std::vector<Symbol> symbols;
    symbols.clear();
    initial_symbols(word, symbols);
    merge_all(symbols);
    for (const Symbol& s : symbols)
      if (s.id >= 0) ids.push_back(s.id);
  }
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_.emplace(std::string(word), std::move(ids));
  }
}

}  // namespace qlm::tok

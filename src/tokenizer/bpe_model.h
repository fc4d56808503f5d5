// The BPE model proper: turns one pre-token ("word") into ids with rank-ordered merges,
// exactly as Hugging Face tokenizers' BPE::tokenize does, with a word cache.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "tokenizer/merge_table.h"
#include "tokenizer/string_map.h"
#include "tokenizer/tokenizer_spec.h"

namespace qlm::tok {

class BpeModel {
 public:
  explicit BpeModel(const TokenizerSpec& spec);

  // Appends the ids of one word. Byte-level models take the word's raw bytes (the byte to
  // unicode mapping happens here); SentencePiece-style models take normalized text.
  void encode_word(std::string_view word, std::vector<int>& out) const;

  std::optional<int> find(std::string_view piece) const;

 private:
  using Merge = MergeTable::Merge;
  struct Symbol {
    int id;  // -1 once merged into its left neighbour
    int prev;
    int next;
  };

  void initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const;
  void merge_all(std::vector<Symbol>& symbols) const;

  StringMap<int> vocab_;
  MergeTable merges_;
  bool byte_level_;
  bool ignore_merges_;
  bool byte_fallback_;
  bool fuse_unk_;
  int unk_id_ = -1;
  int byte_symbol_ids_[256];    // byte-level: id of each byte's unicode character
  int byte_fallback_ids_[256];  // SentencePiece: id of <0xXX>, -1 when absent

  // Words repeat heavily in real text; caching them makes encoding regex-bound.
  static constexpr size_t kMaxCachedWordBytes = 256;
  static constexpr size_t kMaxCacheEntries = 1 << 18;
  mutable std::mutex cache_mutex_;
  mutable StringMap<std::vector<int>> cache_;
};

}  // namespace qlm::tok

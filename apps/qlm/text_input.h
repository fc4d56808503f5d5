// Reading prompt and evaluation text for the commands, and turning it into token ids.
#pragma once

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace qlm::cli {

// Whole file as bytes; throws Error naming `flag` and the path if unreadable.
std::string read_text_file(const std::string& path, const std::string& flag);

// The part of text between fractions [lo, hi) of its length, moved to line starts
// ("0.9:1" = the last 10%). Throws Error naming --range on a bad spec.
std::string slice_text(const std::string& text, const std::string& range_spec);

// Token ids of text, with the model's BOS first when its tokenizer adds one.
std::vector<int> encode_text(const Tokenizer& tok, const std::string& text, bool allow_special);

// Loads <dir>'s tokenizer with an error that says which command needs it.
std::unique_ptr<Tokenizer> load_tokenizer_for(const std::string& dir, const std::string& why);

}  // namespace qlm::cli

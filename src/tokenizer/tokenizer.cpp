// Tokenizer: picks the loader for a folder and forwards to TokenizerCore.
#include "tokenizer/tokenizer.h"

#include <filesystem>

#include "base/error.h"
#include "tokenizer/loaders.h"
#include "tokenizer/tokenizer_core.h"

namespace qlm {

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) fail(dir, ": tokenizer folder does not exist");
  const std::string json_path = dir + "/tokenizer.json";
  if (fs::exists(json_path))
    return std::make_unique<Tokenizer>(tok::load_tokenizer_json(json_path));
  if (fs::exists(dir + "/vocab.json") || fs::exists(dir + "/merges.txt"))
    return std::make_unique<Tokenizer>(tok::load_vocab_merges(dir));
  fail(dir, ": no tokenizer.json (or vocab.json + merges.txt) in the folder");
}

Tokenizer::Tokenizer(tok::TokenizerSpec spec)
    : core_(std::make_unique<tok::TokenizerCore>(std::move(spec))) {}
Tokenizer::~Tokenizer() = default;

std::vector<int> Tokenizer::encode(std::string_view text, bool allow_special) const {
  return core_->encode(text, allow_special);
}
std::string Tokenizer::decode(std::span<const int> ids, bool skip_special) const {
  return core_->decode(ids, skip_special);
}
std::string Tokenizer::piece(int id) const {
  core_->check_id(id);
  return core_->piece(id);
}
std::optional<int> Tokenizer::token_to_id(std::string_view piece) const {
  return core_->token_to_id(piece);
}
int Tokenizer::vocab_size() const {
  return core_->vocab_size();
}
std::optional<int> Tokenizer::bos_id() const {
  return core_->bos_id();
}
std::optional<int> Tokenizer::eos_id() const {
  return core_->eos_id();
}
bool Tokenizer::add_bos() const {
  return core_->add_bos();
}
bool Tokenizer::is_special(int id) const {
  return core_->is_special(id);
}

}  // namespace qlm

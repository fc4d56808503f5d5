// tokenizer.json reader: BPE model, NFC/Prepend/Replace normalizers, Split/ByteLevel
// pre-tokenizers, ByteLevel or SentencePiece decoders, TemplateProcessing for BOS.
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "tokenizer/loaders.h"

namespace qlm::tok {

using nlohmann::json;

namespace {

std::string type_of(const json& node) {
  return node.is_object() ? node.value("type", std::string()) : std::string();
}

// Flattens {"type": "Sequence", <key>: [...]} into a list of steps.
std::vector<json> steps_of(const json& node, const char* key) {
  if (node.is_null()) return {};
  if (type_of(node) == "Sequence") return node.at(key).get<std::vector<json>>();
  return {node};
}

std::string string_pattern(const json& pattern, const std::string& where) {
  if (pattern.contains("String")) return pattern["String"].get<std::string>();
  fail(where, " uses a non-literal pattern, which is not supported");
}

// A token id from the file: an integer in [0, kMaxVocabSize).
int checked_id(const json& v, const std::string& path, const std::string& piece) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= kMaxVocabSize)
    fail(path, ": id ", v.dump(), " of token \"", piece, "\" is not an integer in [0, ", kMaxVocabSize, ")");
  return v.get<int>();
}

std::pair<std::string, std::string> split_merge(const std::string& line, const std::string& path) {
  const size_t space = line.find(' ');
  if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
    fail(path, ": merge \"", line, "\" is not two tokens separated by one space");
  return {line.substr(0, space), line.substr(space + 1)};
}

// model.vocab and model.merges are most of a tokenizer.json; as a JSON tree (std::map nodes)
// they cost more than all the rest of loading, so this SAX handler hands them straight to the
// spec and forwards every other event to nlohmann's tree builder. (nlohmann's callback parser
// did the same job, but it rescans an object's parent at every object end: quadratic in the
// number of objects, so a crafted file of many small objects stalled loading.)
class TokenizerSax {
 public:
  using Dom = nlohmann::detail::json_sax_dom_parser<json>;
  TokenizerSax(json& root, const std::string& path, TokenizerSpec& spec)
      : dom_(root, /*allow_exceptions=*/true), path_(path), spec_(spec) {}

  bool saw_vocab = false, saw_merges = false;

  bool null() { return scalar(json(nullptr)) || dom_.null(); }
  bool boolean(bool v) { return scalar(json(v)) || dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return scalar(json(v)) || dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return scalar(json(v)) || dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const std::string& s) { return scalar(json(v)) || dom_.number_float(v, s); }
  bool string(std::string& v) {
    if (mode_ == Mode::kMerges) {
      if (spec_.merges.size() >= static_cast<size_t>(kMaxVocabSize))
        fail(path_, ": model.merges has more than ", kMaxVocabSize, " entries (the limit)");
      spec_.merges.push_back(split_merge(v, path_));
      return true;
    }
    if (mode_ == Mode::kMergePair) {
      if (pair_.size() == 2) fail(path_, ": a model.merges entry is not a pair of tokens");
      pair_.push_back(std::move(v));
      return true;
    }
    return scalar(json(v)) || dom_.string(v);
  }
  bool binary(json::binary_t& v) { return scalar(json(v)) || dom_.binary(v); }

  bool key(std::string& k) {
    if (mode_ == Mode::kVocab) {
      piece_ = std::move(k);
      return true;
    }
    if (keys_.size() <= depth_) keys_.resize(depth_ + 1);
    keys_[depth_] = k;
    if (depth_ == 2 && keys_[1] == "model" && (k == "vocab" || k == "merges")) {
      taking_ = k;  // the value goes to the spec, and neither key nor value to the tree
      return true;
    }
    return dom_.key(k);
  }
  bool start_object(std::size_t n) {
    if (mode_ != Mode::kNone) fail(path_, ": model.", in_merges() ? "merges" : "vocab", " holds an unexpected object");
    ++depth_;
    if (taking_ == "vocab") return begin(Mode::kVocab);
    if (taking_ == "merges") fail(path_, ": model.merges must be a list");
    return dom_.start_object(n);
  }
  bool end_object() {
    --depth_;
    if (mode_ == Mode::kVocab) return begin(Mode::kNone);
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    ++depth_;
    if (mode_ == Mode::kMerges) {
      pair_.clear();
      return begin(Mode::kMergePair);
    }
    if (mode_ != Mode::kNone) fail(path_, ": model.", in_merges() ? "merges" : "vocab", " holds an unexpected list");
    if (taking_ == "merges") return begin(Mode::kMerges);
    if (taking_ == "vocab") {  // not BPE's (Unigram has a list): into the tree, for read_model's message
      std::string k = std::move(taking_);
      taking_.clear();
      dom_.key(k);
    }
    return dom_.start_array(n);
  }
  bool end_array() {
    --depth_;
    if (mode_ == Mode::kMergePair) {
      if (pair_.size() != 2) fail(path_, ": a model.merges entry is not a pair of tokens");
      if (spec_.merges.size() >= static_cast<size_t>(kMaxVocabSize))
        fail(path_, ": model.merges has more than ", kMaxVocabSize, " entries (the limit)");
      spec_.merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      return begin(Mode::kMerges);
    }
    if (mode_ == Mode::kMerges) return begin(Mode::kNone);
    return dom_.end_array();
  }
  bool parse_error(std::size_t pos, const std::string& token, const nlohmann::detail::exception& e) {
    return dom_.parse_error(pos, token, e);
  }

 private:
  enum class Mode { kNone, kVocab, kMerges, kMergePair };
  bool in_merges() const { return mode_ == Mode::kMerges || mode_ == Mode::kMergePair; }
  bool begin(Mode m) {
    if (m == Mode::kVocab) saw_vocab = true;
    if (m == Mode::kMerges) saw_merges = true;
    mode_ = m;
    taking_.clear();
    return true;
  }
  // True when the scalar was taken (a vocab id); fails on scalars where vocab/merges want more.
  bool scalar(const json& v) {
    if (!taking_.empty()) fail(path_, ": model.", taking_, " must be ", taking_ == "vocab" ? "an object" : "a list");
    if (mode_ == Mode::kNone) return false;
    if (mode_ != Mode::kVocab) fail(path_, ": model.merges entries must be \"a b\" strings or [a, b] pairs");
    if (!v.is_number_integer()) fail(path_, ": model.vocab id of \"", piece_, "\" is not an integer");
    if (spec_.vocab.size() >= static_cast<size_t>(kMaxVocabSize))
      fail(path_, ": model.vocab has more than ", kMaxVocabSize, " entries (the limit)");
    const int id = checked_id(v, path_, piece_);
    spec_.vocab.emplace_back(std::move(piece_), id);
    return true;
  }

  Dom dom_;
  const std::string& path_;
  TokenizerSpec& spec_;
  size_t depth_ = 0;               // containers open
  std::vector<std::string> keys_;  // keys_[d]: the last key read at depth d
  std::string taking_;             // "vocab" / "merges" right after model's key of that name
  Mode mode_ = Mode::kNone;
  std::string piece_;                // the vocab key whose id comes next
  std::vector<std::string> pair_;    // a [a, b] merge being read
};

// The tree without model.vocab and model.merges, which go to the spec; `taken` says whether
// both were there.
json parse_json_tree(const std::string& text, const std::string& path, TokenizerSpec& spec, bool& taken) {
  json root;
  TokenizerSax sax(root, path, spec);
  try {
    json::sax_parse(text, &sax);
  } catch (const json::exception& e) {
    fail(path, ": invalid JSON: ", e.what());
  }
  taken = sax.saw_vocab && sax.saw_merges;
  return root;
}

void read_model(const json& model, const std::string& path, TokenizerSpec& spec) {
  const std::string type = model.value("type", std::string("BPE"));
  if (type != "BPE") fail(path, ": model type \"", type, "\" is not supported (only BPE)");
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(affix) && model[affix].is_string() &&
        !model[affix].get<std::string>().empty())
      fail(path, ": BPE ", affix, " is not supported");
  if (model.contains("dropout") && model["dropout"].is_number() &&
      model["dropout"].get<double>() > 0)
    fail(path, ": BPE dropout is not supported");
  // model.vocab and model.merges went straight into the spec (TokenizerSax).
  if (model.contains("unk_token") && model["unk_token"].is_string())
    spec.unk_token = model["unk_token"];
  spec.byte_fallback = model.value("byte_fallback", false);
  spec.fuse_unk = model.value("fuse_unk", false);
  spec.ignore_merges = model.value("ignore_merges", false);
}

void read_normalizer(const json& node, const std::string& path, TokenizerSpec& spec) {
  for (const json& step : steps_of(node, "normalizers")) {
    const std::string type = type_of(step);
    if (type == "NFC") {
      spec.normalizer.push_back({NormalizerKind::kNfc, "", ""});
    } else if (type == "Prepend") {
      spec.normalizer.push_back(
          {NormalizerKind::kPrepend, "", step.at("prepend").get<std::string>()});
    } else if (type == "Replace") {
      spec.normalizer.push_back({NormalizerKind::kReplace,
                                 string_pattern(step.at("pattern"), path + ": Replace normalizer"),
                                 step.at("content").get<std::string>()});
    } else {
      fail(path, ": normalizer \"", type, "\" is not supported");
    }
  }
}

// prepend_scheme, or the older add_prefix_space flag it replaced (true meant "always").
TokenizerSpec::PrependScheme prepend_scheme_of(const json& step, const std::string& path) {
  using Scheme = TokenizerSpec::PrependScheme;
  if (step.contains("prepend_scheme") && step["prepend_scheme"].is_string()) {
    const std::string scheme = step["prepend_scheme"];
    if (scheme == "always") return Scheme::kAlways;
    if (scheme == "first") return Scheme::kFirst;
    if (scheme == "never") return Scheme::kNever;
    fail(path, ": Metaspace prepend_scheme \"", scheme, "\" is not one of always/first/never");
  }
  return step.value("add_prefix_space", true) ? Scheme::kAlways : Scheme::kNever;
}

void read_pre_tokenizer(const json& node, const std::string& path, TokenizerSpec& spec) {
  for (const json& step : steps_of(node, "pretokenizers")) {
    const std::string type = type_of(step);
    if (type == "Split") {
      if (step.value("behavior", std::string()) != "Isolated" || step.value("invert", false))
        fail(path, ": Split pre-tokenizer is supported only with behavior Isolated, invert false");
      const json& pattern = step.at("pattern");
      if (pattern.contains("Regex")) {
        spec.split_patterns.push_back(pattern["Regex"].get<std::string>());
      } else {
        fail(path, ": Split pre-tokenizer with a String pattern is not supported");
      }
    } else if (type == "ByteLevel") {
      spec.byte_level = true;
      if (step.value("use_regex", true)) spec.split_patterns.push_back(kGpt2SplitPattern);
      if (step.value("add_prefix_space", false)) {
        // HF adds the space per pre-split piece; only the whole-segment case is implemented.
        if (!spec.split_patterns.empty() && !step.value("use_regex", true))
          fail(path, ": ByteLevel add_prefix_space after a Split pre-tokenizer is not supported");
        spec.byte_level_prefix_space = true;
      }
    } else if (type == "Metaspace") {
      spec.metaspace = true;
      spec.metaspace_replacement = step.value("replacement", std::string("\u2581"));
      spec.metaspace_prepend = prepend_scheme_of(step, path);
      spec.metaspace_split = step.value("split", true);
    } else {
      fail(path, ": pre-tokenizer \"", type, "\" is not supported");
    }
  }
}

void read_decoder(const json& node, const std::string& path, TokenizerSpec& spec) {
  DecoderSpec& d = spec.decoder;
  for (const json& step : steps_of(node, "decoders")) {
    const std::string type = type_of(step);
    if (type == "ByteLevel") {
      d.byte_level = true;
    } else if (type == "Replace") {
      d.replacements.emplace_back(string_pattern(step.at("pattern"), path + ": Replace decoder"),
                                  step.at("content").get<std::string>());
    } else if (type == "Metaspace") {
      d.metaspace_replacement = step.value("replacement", std::string("\u2581"));
      d.replacements.emplace_back(d.metaspace_replacement, " ");
      d.metaspace_drop_in_first =
          prepend_scheme_of(step, path) != TokenizerSpec::PrependScheme::kNever;
    } else if (type == "ByteFallback") {
      d.byte_fallback = true;
    } else if (type == "Fuse") {
      // Joining tokens is what decode does anyway; Strip below relies on it.
    } else if (type == "Strip") {
      // Counts are read as checked integers: value<int>() of 1e20 is an out-of-range conversion.
      auto count = [&](const char* key) -> int {
        const json v = step.value(key, json(0));
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 1024)
          fail(path, ": Strip decoder '", key, "' must be an integer in [0, 1024], not ", v.dump());
        return v.get<int>();
      };
      if (step.value("content", std::string(" ")) != " " || count("stop") != 0)
        fail(path, ": Strip decoder is supported only for leading spaces");
      d.strip_leading_spaces = count("start");
    } else {
      fail(path, ": decoder \"", type, "\" is not supported");
    }
  }
  if (d.byte_level && (d.byte_fallback || !d.replacements.empty()))
    fail(path, ": mixing ByteLevel with SentencePiece decoders is not supported");
  if (node.is_null() && spec.byte_level) d.byte_level = true;
}

// BOS from a TemplateProcessing post-processor whose single-sequence template starts with a
// special token (Llama-2 "<s> $A", Meta's Llama-3 "<|begin_of_text|> $A").
bool read_post_processor(const json& node, TokenizerSpec& spec) {
  for (const json& step : steps_of(node, "processors")) {
    if (type_of(step) != "TemplateProcessing") continue;
    const json& single = step.at("single");
    if (!single.empty() && single[0].contains("SpecialToken")) {
      spec.add_bos = true;
      spec.bos_token = single[0]["SpecialToken"].at("id").get<std::string>();
    } else {
      spec.add_bos = false;
    }
    return true;
  }
  return false;
}

}  // namespace

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_text_file(path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    fail(path, ": invalid JSON: ", e.what());
  }
}

TokenizerSpec parse_tokenizer_json(const std::string& text, const std::string& path,
                                   const json* tokenizer_config) {
  TokenizerSpec spec;
  spec.source = path;
  bool taken = false;
  const json root = parse_json_tree(text, path, spec, taken);
  try {
    if (!root.is_object() || !root.contains("model")) fail(path, ": no \"model\" field");
    read_model(root["model"], path, spec);
    if (!taken) fail(path, ": model.vocab (an object of token -> id) or model.merges (a list) is missing");
    read_normalizer(root.value("normalizer", json()), path, spec);
    read_pre_tokenizer(root.value("pre_tokenizer", json()), path, spec);
    read_decoder(root.value("decoder", json()), path, spec);
    if (spec.metaspace && (spec.byte_level || !spec.split_patterns.empty()))
      fail(path, ": Metaspace combined with other pre-tokenizers is not supported");
    if (!spec.byte_level && spec.decoder.byte_level)
      fail(path, ": ByteLevel decoder without a ByteLevel pre-tokenizer is not supported");
    const bool add_bos_known = read_post_processor(root.value("post_processor", json()), spec);
    for (const json& t : root.value("added_tokens", json::array())) {
      spec.added_tokens.push_back({.content = t.at("content").get<std::string>(),
                                   .id = checked_id(t.at("id"), path, t.at("content").get<std::string>()),
                                   .special = t.value("special", false),
                                   .lstrip = t.value("lstrip", false),
                                   .rstrip = t.value("rstrip", false),
                                   .single_word = t.value("single_word", false)});
    }
    if (tokenizer_config != nullptr) apply_tokenizer_config(*tokenizer_config, spec, add_bos_known);
  } catch (const json::exception& e) {
    fail(path, ": unexpected structure: ", e.what());
  }
  return spec;
}

TokenizerSpec load_tokenizer_json(const std::string& path) {
  const std::string dir = path.substr(0, path.find_last_of('/') + 1);
  std::optional<json> config;
  if (std::ifstream(dir + "tokenizer_config.json")) config = read_json_file(dir + "tokenizer_config.json");
  return parse_tokenizer_json(read_text_file(path), path, config ? &*config : nullptr);
}

void apply_tokenizer_config(const json& config, TokenizerSpec& spec, bool add_bos_known) {
  // A token is named by a string or by an AddedToken object {"content": ...}; null = none.
  auto read_token = [&](const char* key, std::optional<std::string>& out) {
    if (!config.contains(key)) return;
    const json& v = config[key];
    if (v.is_string()) {
      out = v.get<std::string>();
    } else if (v.is_object() && v.contains("content")) {
      out = v["content"].get<std::string>();
    }
  };
  read_token("bos_token", spec.bos_token);
  read_token("eos_token", spec.eos_token);
  if (!add_bos_known && config.contains("add_bos_token") && config["add_bos_token"].is_boolean())
    spec.add_bos = config["add_bos_token"].get<bool>();
}

}  // namespace qlm::tok

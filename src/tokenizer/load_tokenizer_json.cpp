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

std::pair<std::string, std::string> split_merge(const std::string& line, const std::string& path) {
  const size_t space = line.find(' ');
  if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
    fail(path, ": merge \"", line, "\" is not two tokens separated by one space");
  return {line.substr(0, space), line.substr(space + 1)};
}

// model.vocab and model.merges are most of a tokenizer.json; as a JSON tree (std::map nodes)
// they cost more than all the rest of loading, so the parser hands them straight to the
// spec and drops them from the tree. Anything unexpected stays in the tree for read_model.
json parse_tokenizer_json(const std::string& text, const std::string& path, TokenizerSpec& spec) {
  using Event = json::parse_event_t;
  std::string keys[3];  // the key being parsed at depths 0..2
  std::string vocab_key;
  auto callback = [&](int depth, Event event, json& parsed) -> bool {
    if (event == Event::key && depth <= 2) {
      keys[depth] = parsed.get<std::string>();
      return true;
    }
    if (depth != 3 || keys[1] != "model") return true;
    if (keys[2] == "vocab") {
      if (event == Event::key) {  // not kept: the value callback still runs
        vocab_key = std::move(parsed.get_ref<std::string&>());
        return false;
      } else if (event == Event::value) {
        if (!parsed.is_number_integer())
          fail(path, ": model.vocab id of \"", vocab_key, "\" is not an integer");
        spec.vocab.emplace_back(std::move(vocab_key), parsed.get<int>());
        return false;
      }
    } else if (keys[2] == "merges") {
      if (event == Event::value && parsed.is_string()) {
        spec.merges.push_back(split_merge(parsed.get_ref<const std::string&>(), path));
        return false;
      }
      if (event == Event::array_end && parsed.size() == 2 && parsed[0].is_string() &&
          parsed[1].is_string()) {
        spec.merges.emplace_back(std::move(parsed[0].get_ref<std::string&>()),
                                 std::move(parsed[1].get_ref<std::string&>()));
        return false;
      }
    }
    return true;
  };
  try {
    return json::parse(text, callback);
  } catch (const json::exception& e) {
    fail(path, ": invalid JSON: ", e.what());
  }
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
  for (const auto& [piece, id] : model.at("vocab").items())
    spec.vocab.emplace_back(piece, id.get<int>());
  // Entries parse_tokenizer_json did not take (none, for well-formed files).
  for (const json& merge : model.at("merges")) {
    if (merge.is_array()) {
      spec.merges.emplace_back(merge.at(0).get<std::string>(), merge.at(1).get<std::string>());
    } else {
      spec.merges.push_back(split_merge(merge.get<std::string>(), path));
    }
  }
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
      if (step.value("content", std::string(" ")) != " " || step.value("stop", 0) != 0)
        fail(path, ": Strip decoder is supported only for leading spaces");
      d.strip_leading_spaces = step.value("start", 0);
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

TokenizerSpec load_tokenizer_json(const std::string& path) {
  TokenizerSpec spec;
  spec.source = path;
  const json root = parse_tokenizer_json(read_text_file(path), path, spec);
  try {
    if (!root.contains("model")) fail(path, ": no \"model\" field");
    read_model(root["model"], path, spec);
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
                                   .id = t.at("id").get<int>(),
                                   .special = t.value("special", false),
                                   .lstrip = t.value("lstrip", false),
                                   .rstrip = t.value("rstrip", false),
                                   .single_word = t.value("single_word", false)});
    }
    const std::string dir = path.substr(0, path.find_last_of('/') + 1);
    std::ifstream probe(dir + "tokenizer_config.json");
    if (probe)
      apply_tokenizer_config(read_json_file(dir + "tokenizer_config.json"), spec, add_bos_known);
  } catch (const json::exception& e) {
    fail(path, ": unexpected structure: ", e.what());
  }
  return spec;
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

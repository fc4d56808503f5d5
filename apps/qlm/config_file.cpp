// YAML config -> command-line flags.
#include "config_file.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <map>

#include "base/error.h"

namespace qlm::cli {

namespace {

enum class Kind { String, Int, Float, Bool, StringList, Ignored };

struct KeyRule {
  const char* key;   // dotted YAML path
  const char* flag;  // long flag it sets ("" for accepted but unused)
  Kind kind;
};

// The seed workflow's names; any other key is tried as qlm's own flag name.
const KeyRule kRules[] = {
    {"hardware.mlx_model_path", "--model", Kind::String},
    {"hardware.mlx_quantization", "--expect-quantization", Kind::String},
    {"hardware.use_mlx_for_generation", "", Kind::Bool},  // qlm is the generator either way
    {"max_tokens", "--max-tokens", Kind::Int},
    {"temperature", "--temp", Kind::Float},
    {"top_k", "--top-k", Kind::Int},
    {"top_p", "--top-p", Kind::Float},
    {"min_p", "--min-p", Kind::Float},
    {"repetition_penalty", "--repetition-penalty", Kind::Float},
    {"presence_penalty", "--presence-penalty", Kind::Float},
    {"frequency_penalty", "--frequency-penalty", Kind::Float},
    {"seed", "--seed", Kind::Int},
    {"num_samples_per_prompt", "--samples-per-prompt", Kind::Int},
    {"threads", "--threads", Kind::Int},
    {"model_path", "--model", Kind::String},
    {"stop", "--stop", Kind::StringList},
};

std::string kind_name(Kind k) {
  switch (k) {
    case Kind::Int: return "an integer";
    case Kind::Float: return "a number";
    case Kind::Bool: return "true or false";
    case Kind::StringList: return "a string or a list of strings";
    default: return "a string";
  }
}

// Checks a scalar against the expected kind and returns its flag spelling.
std::vector<std::string> values_of(const YAML::Node& n, Kind kind, const std::string& file, const std::string& key) {
  auto bad = [&]() { fail(file, ": key '", key, "' must be ", kind_name(kind)); };
  if (kind == Kind::StringList) {
    std::vector<std::string> out;
    if (n.IsScalar()) return {n.as<std::string>()};
    if (!n.IsSequence()) bad();
    for (const auto& item : n) {
      if (!item.IsScalar()) bad();
      out.push_back(item.as<std::string>());
    }
    return out;
  }
  if (!n.IsScalar()) bad();
  try {
    switch (kind) {
      case Kind::Int: return {std::to_string(n.as<long long>())};
      case Kind::Float: {
        std::ostringstream o;
        o.precision(17);
        o << n.as<double>();
        return {o.str()};
      }
      case Kind::Bool: return {n.as<bool>() ? "true" : "false"};
      default: return {n.as<std::string>()};
    }
  } catch (const YAML::Exception&) {
    bad();
  }
  return {};
}

// Dotted paths of every scalar or list leaf ("hardware.mlx_model_path" -> node).
// Real configs nest two levels; a recursive anchor (`a: &x {b: *x}`) would nest forever.
constexpr int kMaxConfigDepth = 16;

void flatten(const YAML::Node& node, const std::string& prefix, const std::string& file,
             std::vector<std::pair<std::string, YAML::Node>>& out, int depth = 0) {
  if (depth > kMaxConfigDepth)
    fail(file, ": '", prefix.substr(0, 200), "' nests deeper than ", kMaxConfigDepth, " levels (a recursive anchor?)");
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) fail(file, ": keys must be plain names (", prefix.empty() ? "top level" : prefix, ")");
    const std::string key = prefix.empty() ? kv.first.as<std::string>() : prefix + "." + kv.first.as<std::string>();
    if (kv.second.IsMap()) flatten(kv.second, key, file, out, depth + 1);
    else out.emplace_back(key, kv.second);
  }
}

bool user_gave(const std::vector<std::string>& args, const CLI::Option* opt) {
  for (const std::string& a : args) {
    for (const std::string& name : opt->get_lnames())
      if (a == "--" + name || a.rfind("--" + name + "=", 0) == 0) return true;
    for (const std::string& name : opt->get_snames())
      if (a == "-" + name || (a.size() > 2 && a.rfind("-" + name, 0) == 0 && a[1] != '-')) return true;
  }
  return false;
}

bool any_subcommand_has(CLI::App& app, const std::string& flag) {
  if (app.get_option_no_throw(flag) != nullptr) return true;
  for (CLI::App* sub : app.get_subcommands({}))
    if (sub->get_option_no_throw(flag) != nullptr) return true;
  return false;
}

}  // namespace

std::vector<std::string> apply_config_file(CLI::App& app, std::vector<std::string> args) {
  std::string file;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      file = args[i + 1];
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      break;
    }
    if (args[i].rfind("--config=", 0) == 0) {
      file = args[i].substr(9);
      args.erase(args.begin() + static_cast<long>(i));
      break;
    }
  }
  if (file.empty()) return args;
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("--config: cannot open ", file);
  std::ostringstream text;
  text << in.rdbuf();
  return apply_config_text(app, std::move(args), text.str(), file);
}

std::vector<std::string> apply_config_text(CLI::App& app, std::vector<std::string> args, const std::string& yaml,
                                           const std::string& file, FILE* warnings) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    fail(file, ": invalid YAML at line ", e.mark.line + 1, ": ", e.msg);
  }
  if (root.IsNull()) return args;
  if (!root.IsMap()) fail(file, ": expected a mapping of keys to values at the top level");

  // The subcommand is the first argument naming one.
  size_t sub_pos = args.size();
  CLI::App* sub = nullptr;
  for (size_t i = 0; i < args.size() && sub == nullptr; ++i)
    for (CLI::App* s : app.get_subcommands({}))
      if (s->get_name() == args[i]) {
        sub = s;
        sub_pos = i;
        break;
      }

  std::vector<std::pair<std::string, YAML::Node>> leaves;
  flatten(root, "", file, leaves);
  std::vector<std::string> inserted;
  std::string unused;  // known keys the chosen command has no flag for, named in one note
  for (const auto& [key, node] : leaves) {
    const KeyRule* rule = nullptr;
    for (const KeyRule& r : kRules)
      if (key == r.key) rule = &r;
    std::string flag;
    Kind kind = Kind::String;
    if (rule != nullptr) {
      flag = rule->flag;
      kind = rule->kind;
    } else {
      std::string name = key;
      for (char& c : name)
        if (c == '_') c = '-';
      flag = "--" + name;
      if (key.find('.') != std::string::npos || !any_subcommand_has(app, flag)) {
        if (warnings != nullptr)
          std::fprintf(warnings, "qlm: warning: %s: unknown key '%s' ignored\n", file.c_str(), key.c_str());
        continue;
      }
      kind = node.IsSequence() ? Kind::StringList : Kind::String;
    }
    std::vector<std::string> values = values_of(node, kind, file, key);  // type errors even if unused here
    if (flag.empty() || sub == nullptr) continue;
    const CLI::Option* opt = sub->get_option_no_throw(flag);
    if (opt == nullptr) opt = app.get_option_no_throw(flag);
    if (opt == nullptr) {  // one training config serves every command; say what this one skips
      unused += (unused.empty() ? "" : ", ") + key;
      continue;
    }
    if (user_gave(args, opt)) continue;  // the flag wins
    if (opt->get_type_size() == 0) {  // a flag without a value
      if (values[0] == "true" || values[0] == "1") inserted.push_back(flag);
      continue;
    }
    for (const std::string& v : values) {
      inserted.push_back(flag);
      inserted.push_back(v);
    }
  }
  if (!unused.empty() && warnings != nullptr)
    std::fprintf(warnings, "qlm: note: %s: not used by '%s': %s\n", file.c_str(), sub->get_name().c_str(),
                 unused.c_str());
  args.insert(args.begin() + static_cast<long>(std::min(sub_pos + 1, args.size())), inserted.begin(), inserted.end());
  return args;
}

}  // namespace qlm::cli

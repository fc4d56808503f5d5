// Model-folder discovery and the cross-shard tensor index.
#include "io/tensor_store.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/error.h"

namespace qlm {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::map<std::string, std::string> parse_weight_index(const std::string& text, const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(source, ": not valid JSON");
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    fail(source, ": missing the 'weight_map' object");
  const json& map = j["weight_map"];
  if (map.size() > kMaxIndexEntries)
    fail(source, ": weight_map has ", map.size(), " entries, more than the limit of ", kMaxIndexEntries);
  std::map<std::string, std::string> out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it.value().is_string()) fail(source, ": weight_map['", it.key(), "'] is not a file name");
    std::string f = it.value().get<std::string>();
    if (f.empty() || f == "." || f == ".." || f.find('/') != std::string::npos ||
        f.find('\0') != std::string::npos)
      fail(source, ": weight_map['", it.key(), "'] names a file outside the folder: ", f);
    out.emplace(it.key(), std::move(f));
  }
  return out;
}

std::vector<std::string> find_weight_files(const std::string& dir) {
  fs::path root(dir);
  if (!fs::is_directory(root)) fail(dir, ": not a folder (expected a model folder with config.json)");
  fs::path index = root / "model.safetensors.index.json";
  if (fs::exists(index)) {
    std::set<std::string> names;
    for (const auto& [tensor, file] : parse_weight_index(read_text(index), index.string())) names.insert(file);
    std::vector<std::string> files;
    for (const auto& f : names) {
      fs::path p = root / f;
      if (!fs::exists(p)) fail(p.string(), ": missing (listed in model.safetensors.index.json)");
      files.push_back(p.string());
    }
    return files;
  }
  if (fs::exists(root / "model.safetensors")) return {(root / "model.safetensors").string()};
  std::vector<std::string> model_files, legacy_files;
  for (const auto& e : fs::directory_iterator(root)) {
    std::string name = e.path().filename().string();
    if (!name.ends_with(".safetensors")) continue;
    if (name.starts_with("model")) model_files.push_back(e.path().string());
    else if (name.starts_with("weights.")) legacy_files.push_back(e.path().string());
  }
  auto& files = model_files.empty() ? legacy_files : model_files;
  if (files.empty()) fail(dir, ": no model.safetensors, model*.safetensors or weights.*.safetensors");
  std::sort(files.begin(), files.end());
  return files;
}

TensorStore::TensorStore(const std::string& dir) : dir_(dir) {
  for (const std::string& path : find_weight_files(dir)) {
    files_.push_back(std::make_unique<SafetensorsFile>(path));
    for (const TensorView& t : files_.back()->tensors()) {
      auto [it, inserted] = by_name_.emplace(t.name, &t);
      if (!inserted)
        fail(path, ": tensor '", t.name, "' is also in ", *it->second->file);
    }
  }
  // When an index names each tensor's file, hold it to its word.
  fs::path index = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(index)) {
    for (const auto& [tensor, file] : parse_weight_index(read_text(index), index.string())) {
      const TensorView* t = find(tensor);
      std::string want = (fs::path(dir) / file).string();
      if (t == nullptr) fail(want, ": tensor '", tensor, "' listed in the index is missing");
      if (*t->file != want)
        fail(index.string(), ": tensor '", tensor, "' is in ", *t->file, ", not ", want);
    }
  }
}

const TensorView* TensorStore::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const TensorView& TensorStore::get(const std::string& name) const {
  const TensorView* t = find(name);
  if (t == nullptr) fail(dir_, ": tensor '", name, "' is missing");
  return *t;
}

std::vector<std::string> TensorStore::files() const {
  std::vector<std::string> out;
  for (const auto& f : files_) out.push_back(f->path());
  return out;
}

uint64_t TensorStore::total_file_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files_) n += f->file_size();
  return n;
}

}  // namespace qlm

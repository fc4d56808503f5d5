// All tensors of a model folder, by name, across one or many safetensors files.
// Finds the files the way transformers and mlx-lm do: the index file if present, else
// model.safetensors, else model*.safetensors, else the legacy weights.NN.safetensors.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace qlm {

class TensorStore {
 public:
  explicit TensorStore(const std::string& dir);  // throws Error naming the folder or file

  const TensorView* find(const std::string& name) const;
  const TensorView& get(const std::string& name) const;  // throws: "<dir>: tensor 'x' is missing"
  bool contains(const std::string& name) const { return find(name) != nullptr; }

  const std::map<std::string, const TensorView*>& all() const { return by_name_; }
  std::vector<std::string> files() const;
  uint64_t total_file_bytes() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*> by_name_;
};

// The safetensors files of a model folder, in load order (exposed for inspect and tests).
std::vector<std::string> find_weight_files(const std::string& dir);

// model.safetensors.index.json: weight_map tensor name -> file name (a plain name inside the
// folder). Validated from its text; `source` names it in errors. Throws Error.
constexpr size_t kMaxIndexEntries = 1u << 20;
std::map<std::string, std::string> parse_weight_index(const std::string& text, const std::string& source);

}  // namespace qlm

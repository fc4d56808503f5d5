// Strict, memory-mapped safetensors reader: the header is validated completely (sizes, dtypes,
// offsets, overlaps, duplicates) before any tensor is exposed, so no view can point outside
// the file. Format: u64 little-endian header length, JSON header, raw little-endian data.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "io/tensor_view.h"

namespace qlm {

// Limits on untrusted files, checked before anything is allocated for them. Real headers are
// well under 10 MB; a 7B model has ~340 tensors per file, large MoE checkpoints a few thousand.
constexpr uint64_t kMaxSafetensorsHeader = 100ull << 20;
constexpr size_t kMaxSafetensorsTensors = 1u << 18;
constexpr size_t kMaxTensorRank = 8;

// What a validated safetensors image holds: tensors in file order and the __metadata__ strings.
struct SafetensorsContents {
  std::vector<TensorView> tensors;
  std::map<std::string, std::string> metadata;
};

// Validates and parses the bytes of a whole safetensors file; the views point into `bytes`
// and at `path` (named in errors), which must outlive them. Throws Error.
SafetensorsContents parse_safetensors(const uint8_t* bytes, size_t size, const std::string& path);

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // throws Error naming file and tensor
  // Views point at path() and the mapping: the object stays where it was made.
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return file_.path(); }
  const std::vector<TensorView>& tensors() const { return tensors_; }  // in file order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  size_t file_size() const { return file_.size(); }

 private:
  MappedFile file_;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace qlm

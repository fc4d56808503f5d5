// Streaming safetensors writer: the header (all names, dtypes, shapes) is written first, then
// tensor bytes arrive in any order and in pieces (pwrite at known offsets), so a converter
// never holds a whole model, or even a whole large tensor, in memory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/dtype.h"

namespace qlm {

struct TensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t nbytes() const;
};

class SafetensorsWriter {
 public:
  SafetensorsWriter(const std::string& path, std::vector<TensorSpec> specs,
                    const std::map<std::string, std::string>& metadata);
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  // Writes n bytes at `offset` within tensor `index` (in the order specs were given).
  void write(size_t index, uint64_t offset, const void* data, uint64_t n);
  size_t index_of(const std::string& name) const;
  // Checks every byte of every tensor was written, flushes and closes.
  void finish();
  uint64_t file_size() const { return data_start_ + data_size_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<TensorSpec> specs_;
  std::vector<uint64_t> offsets_;  // start of each tensor within the data section
  std::vector<uint64_t> written_;  // bytes written per tensor
  std::map<std::string, size_t> index_;
  uint64_t data_start_ = 0, data_size_ = 0;
};

}  // namespace qlm

// Read-only memory map of a whole file (RAII). Tensors are zero-copy views into it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace qlm {

class MappedFile {
 public:
  MappedFile() = default;
  explicit MappedFile(const std::string& path);  // throws Error naming the path
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void reset();
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Drops the resident pages wholly inside [p, p + n) of a read-only file mapping
// (madvise MADV_DONTNEED): they leave the process's RSS and are read from the file again if
// touched. For data that a derived copy has replaced; a no-op where that fails.
void drop_mapped_pages(const void* p, size_t n);

}  // namespace qlm

// Streaming safetensors writer.
#include "io/safetensors_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace qlm {

uint64_t TensorSpec::nbytes() const {
  uint64_t n = dtype_size(dtype);
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

namespace {
void pwrite_all(int fd, const std::string& path, const void* data, uint64_t n, uint64_t at) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    ssize_t k = ::pwrite(fd, p, n, static_cast<off_t>(at));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) fail(path, ": write failed: ", std::strerror(errno));
    p += k;
    at += static_cast<uint64_t>(k);
    n -= static_cast<uint64_t>(k);
  }
}
}  // namespace

SafetensorsWriter::SafetensorsWriter(const std::string& path, std::vector<TensorSpec> specs,
                                     const std::map<std::string, std::string>& metadata)
    : path_(path), specs_(std::move(specs)) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t off = 0;
  for (size_t i = 0; i < specs_.size(); ++i) {
    const TensorSpec& s = specs_[i];
    if (!index_.emplace(s.name, i).second) fail(path, ": tensor '", s.name, "' declared twice");
    const uint64_t n = s.nbytes();
    header[s.name] = {{"dtype", std::string(dtype_name(s.dtype))}, {"shape", s.shape},
                      {"data_offsets", {off, off + n}}};
    offsets_.push_back(off);
    off += n;
  }
  written_.assign(specs_.size(), 0);
  data_size_ = off;
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // keep tensor data 8-byte aligned
  data_start_ = 8 + h.size();

  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(path, ": cannot create: ", std::strerror(errno));
  const uint64_t len = h.size();
  pwrite_all(fd_, path_, &len, 8, 0);
  pwrite_all(fd_, path_, h.data(), h.size(), 8);
  if (::ftruncate(fd_, static_cast<off_t>(file_size())) != 0)
    fail(path, ": cannot size the file: ", std::strerror(errno));
}

SafetensorsWriter::~SafetensorsWriter() {
  if (fd_ >= 0) ::close(fd_);
}

size_t SafetensorsWriter::index_of(const std::string& name) const {
  auto it = index_.find(name);
  QLM_CHECK(it != index_.end());
  return it->second;
}

void SafetensorsWriter::write(size_t index, uint64_t offset, const void* data, uint64_t n) {
  QLM_CHECK(index < specs_.size());
  QLM_CHECK(offset + n <= specs_[index].nbytes());
  pwrite_all(fd_, path_, data, n, data_start_ + offsets_[index] + offset);
  written_[index] += n;
}

void SafetensorsWriter::finish() {
  for (size_t i = 0; i < specs_.size(); ++i)
    if (written_[i] != specs_[i].nbytes())
      fail(path_, ": tensor '", specs_[i].name, "' got ", written_[i], " of ", specs_[i].nbytes(), " bytes");
  if (::fsync(fd_) != 0) fail(path_, ": fsync failed: ", std::strerror(errno));
  if (::close(fd_) != 0) fail(path_, ": close failed: ", std::strerror(errno));
  fd_ = -1;
}

}  // namespace qlm

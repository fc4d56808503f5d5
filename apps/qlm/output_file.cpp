#include "output_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "base/error.h"

namespace qlm::cli {

OutputFile::OutputFile(std::string path, std::string flag)
    : path_(std::move(path)), flag_(std::move(flag)) {
  if (path_ == "-") {
    file_ = stdout;
    return;
  }
  if (std::filesystem::is_directory(path_)) fail(flag_, ": ", path_, " is a directory");
  partial_ = path_ + ".partial";
  file_ = std::fopen(partial_.c_str(), "w");
  if (file_ == nullptr) fail(flag_, ": cannot write ", path_, " (", std::strerror(errno), ")");
}

OutputFile::~OutputFile() {
  if (file_ == nullptr || file_ == stdout) return;
  std::fclose(file_);
  std::remove(partial_.c_str());  // not committed: leave nothing half-written
}

void OutputFile::write(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) failed_ = true;
}

void OutputFile::commit() {
  if (file_ == stdout) {
    if (std::fflush(stdout) != 0) fail(flag_, ": cannot write to standard output");
    return;
  }
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  std::error_code ec;
  if (failed_ || !closed) {
    std::remove(partial_.c_str());
    fail(flag_, ": cannot write ", path_, " (disk full?)");
  }
  std::filesystem::rename(partial_, path_, ec);
  if (ec) {
    std::remove(partial_.c_str());
    fail(flag_, ": cannot write ", path_, " (", ec.message(), ")");
  }
}

}  // namespace qlm::cli

#include "output_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "base/error.h"

namespace qlm::cli {

namespace {
// PATH.partial opened for writing (its name in `partial`), or stdout for "-"; a path that
// cannot be written fails here, naming the flag.
FILE* open_partial(const std::string& path, const std::string& flag, std::string& partial) {
  if (path == "-") return stdout;
  if (std::filesystem::is_directory(path)) fail(flag, ": ", path, " is a directory");
  partial = path + ".partial";
  FILE* f = std::fopen(partial.c_str(), "w");
  if (f == nullptr) fail(flag, ": cannot write ", path, " (", std::strerror(errno), ")");
  return f;
}

// The complete lines of a file ('\n'-terminated; a torn last line is dropped).
std::vector<std::string> complete_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines;
  for (size_t at = 0, end; (end = all.find('\n', at)) != std::string::npos; at = end + 1)
    lines.push_back(all.substr(at, end - at));
  return lines;
}
}  // namespace

OutputFile::OutputFile(std::string path, std::string flag)
    : path_(std::move(path)), flag_(std::move(flag)), file_(open_partial(path_, flag_, partial_)) {}

OutputFile::~OutputFile() {
  if (file_ == nullptr || file_ == stdout) return;
  std::fclose(file_);
  std::remove(partial_.c_str());  // not committed: leave nothing half-written
}

void OutputFile::write(const void* data, size_t size) {
  if (std::fwrite(data, 1, size, file_) != size) failed_ = true;
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

StreamedOutput::StreamedOutput(std::string path, std::string flag, bool resume)
    : path_(std::move(path)), flag_(std::move(flag)) {
  if (resume) {  // read before open_partial truncates PATH.partial
    if (path_ == "-") fail("--resume needs ", flag_, " FILE (not standard output)");
    const std::string partial = path_ + ".partial";
    if (std::filesystem::exists(partial))
      kept_ = complete_lines(partial);
    else if (std::filesystem::is_regular_file(path_))
      kept_ = complete_lines(path_);
  }
  file_ = open_partial(path_, flag_, partial_);
  for (const std::string& line : kept_) write_line(line);
}

StreamedOutput::~StreamedOutput() {
  if (file_ == nullptr || file_ == stdout) return;
  std::fclose(file_);
  if (lines_ == 0) std::remove(partial_.c_str());  // nothing worth resuming from
}

void StreamedOutput::write_line(const std::string& line) {
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fputc('\n', file_) == EOF ||
      std::fflush(file_) != 0)
    fail(flag_, ": cannot write ", file_ == stdout ? std::string("to standard output") : partial_, " (disk full?)");
  ++lines_;
}

void StreamedOutput::commit() {
  if (file_ == stdout) return;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!closed) fail(flag_, ": cannot write ", partial_, " (disk full?)");
  std::error_code ec;
  std::filesystem::rename(partial_, path_, ec);
  if (ec) fail(flag_, ": cannot rename ", partial_, " to ", path_, " (", ec.message(), ")");
}

}  // namespace qlm::cli

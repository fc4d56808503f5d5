// An output file written whole or not at all: the text goes to PATH.partial, renamed to PATH by
// commit(). It is opened at once, so a path that cannot be written fails before the work; left
// uncommitted (an error on the way), the partial file is removed. "-" writes to stdout.
#pragma once

#include <cstdio>
#include <string>

namespace qlm::cli {

class OutputFile {
 public:
  OutputFile(std::string path, std::string flag);  // flag names the option in errors
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(const std::string& text);
  void commit();  // throws Error naming the flag if the file could not be completed

 private:
  std::string path_, partial_, flag_;
  FILE* file_ = nullptr;
  bool failed_ = false;
};

}  // namespace qlm::cli

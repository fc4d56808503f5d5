// An output file written whole or not at all: the text goes to PATH.partial, renamed to PATH by
// commit(). It is opened at once, so a path that cannot be written fails before the work; left
// uncommitted (an error on the way), the partial file is removed. "-" writes to stdout.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace qlm::cli {

class OutputFile {
 public:
  OutputFile(std::string path, std::string flag);  // flag names the option in errors
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(const void* data, size_t size);
  void write(const std::string& text) { write(text.data(), text.size()); }
  void commit();  // throws Error naming the flag if the file could not be completed

 private:
  std::string path_, partial_, flag_;
  FILE* file_ = nullptr;
  bool failed_ = false;
};

// JSONL written line by line as results are ready, each line flushed, into PATH.partial, renamed
// to PATH by commit(): an interrupted run keeps every finished line, and PATH appears only when
// complete. With resume, an earlier run's complete lines (from PATH.partial, else a finished
// PATH) are kept, and kept_lines() gives them for the caller to check and skip; a torn last line
// is dropped. Left uncommitted, the partial file stays if it holds any line (for --resume) and
// is removed if not. "-" streams to stdout (no resume).
class StreamedOutput {
 public:
  StreamedOutput(std::string path, std::string flag, bool resume);
  ~StreamedOutput();
  StreamedOutput(const StreamedOutput&) = delete;
  StreamedOutput& operator=(const StreamedOutput&) = delete;

  const std::vector<std::string>& kept_lines() const { return kept_; }
  void write_line(const std::string& line);  // line without its '\n'; throws Error if it cannot
  void commit();

 private:
  std::string path_, partial_, flag_;
  std::vector<std::string> kept_;
  FILE* file_ = nullptr;
  size_t lines_ = 0;  // lines in the partial file (kept ones included)
};

}  // namespace qlm::cli

// bench --models-from-hf: converts one Hugging Face checkpoint to several formats in a temporary
// folder that is removed when the object dies (normal end, error, or Ctrl-C between steps).
#pragma once

#include <string>
#include <vector>

namespace qlm::cli {

class TempConversions {
 public:
  // formats: --quantize spellings (q4, q8, bf16, ...); method: --method of qlm convert.
  TempConversions(const std::string& hf_dir, const std::vector<std::string>& formats, const std::string& method);
  ~TempConversions();
  TempConversions(const TempConversions&) = delete;
  TempConversions& operator=(const TempConversions&) = delete;

  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  std::string root_;
  std::vector<std::string> dirs_;
};

// True once SIGINT/SIGTERM arrived while a TempConversions was alive; bench checks it between
// steps and throws, so the destructor still cleans up.
bool bench_interrupted();

}  // namespace qlm::cli

// Text input helpers.
#include "text_input.h"

#include <fstream>
#include <sstream>

#include "base/error.h"

namespace qlm::cli {

std::string read_text_file(const std::string& path, const std::string& flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(flag, ": cannot open ", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string slice_text(const std::string& text, const std::string& spec) {
  if (spec.empty()) return text;
  double lo = 0, hi = 1;
  char colon = 0;
  std::istringstream in(spec);
  if (!(in >> lo >> colon >> hi) || colon != ':' || lo < 0 || hi > 1 || lo >= hi)
    fail("--range: '", spec, "' is not LO:HI with 0 <= LO < HI <= 1 (e.g. 0.9:1)");
  auto line_start = [&](double f) {
    size_t p = static_cast<size_t>(f * static_cast<double>(text.size()));
    if (p == 0 || p >= text.size()) return std::min(p, text.size());
    size_t nl = text.find('\n', p - 1);
    return nl == std::string::npos ? text.size() : nl + 1;
  };
  const size_t a = line_start(lo), b = hi >= 1 ? text.size() : line_start(hi);
  return text.substr(a, b > a ? b - a : 0);
}

std::vector<int> encode_text(const Tokenizer& tok, const std::string& text, bool allow_special) {
  std::vector<int> ids;
  if (tok.add_bos() && tok.bos_id()) ids.push_back(*tok.bos_id());
  std::vector<int> body = tok.encode(text, allow_special);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

std::unique_ptr<Tokenizer> load_tokenizer_for(const std::string& dir, const std::string& why) {
  try {
    return Tokenizer::load(dir);
  } catch (const Error& e) {
    fail(why, " needs the model's tokenizer: ", e.what());
  }
}

}  // namespace qlm::cli

// safetensors parsing and validation.
#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"

namespace qlm {

using nlohmann::json;

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

namespace {

// Parses the JSON header, rejecting duplicate top-level keys (nlohmann would keep the last).
json parse_header(const std::string& path, const char* begin, const char* end) {
  std::set<std::string> seen;
  std::string duplicate;
  auto reject_duplicates = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
      if (!seen.insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json header = json::parse(begin, end, reject_duplicates, /*allow_exceptions=*/false);
  if (header.is_discarded()) fail(path, ": safetensors header is not valid JSON");
  if (!header.is_object()) fail(path, ": safetensors header is not a JSON object");
  if (!duplicate.empty()) fail(path, ": tensor '", duplicate, "' appears twice in the header");
  return header;
}

uint64_t as_u64(const json& v, const std::string& path, const std::string& name, const char* what) {
  if (!v.is_number_unsigned()) fail(path, ": tensor '", name, "': ", what, " must be non-negative integers");
  return v.get<uint64_t>();
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(path) {
  const uint8_t* base = file_.data();
  const size_t size = file_.size();
  if (size < 8) fail(path, ": too short for a safetensors file (", size, " bytes)");
  uint64_t header_len = 0;
  std::memcpy(&header_len, base, 8);  // little-endian host assumed (x86-64, arm64)
  if (header_len > kMaxSafetensorsHeader)
    fail(path, ": safetensors header length ", header_len, " exceeds the limit of ",
         kMaxSafetensorsHeader, " bytes");
  if (header_len > size - 8)
    fail(path, ": safetensors header length ", header_len, " runs past the end of the file (",
         size, " bytes); the file is truncated or not safetensors");

  const char* hbegin = reinterpret_cast<const char*>(base + 8);
  json header = parse_header(path, hbegin, hbegin + header_len);
  const uint8_t* data = base + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;

  struct Range {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Range> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(path, ": __metadata__ must be an object of strings");
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (!m.value().is_string()) fail(path, ": __metadata__ value '", m.key(), "' is not a string");
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!entry.is_object()) fail(path, ": tensor '", name, "': header entry is not an object");
    auto dt = entry.find("dtype");
    auto sh = entry.find("shape");
    auto off = entry.find("data_offsets");
    if (dt == entry.end() || !dt->is_string()) fail(path, ": tensor '", name, "': missing dtype");
    if (sh == entry.end() || !sh->is_array()) fail(path, ": tensor '", name, "': missing shape");
    if (off == entry.end() || !off->is_array() || off->size() != 2)
      fail(path, ": tensor '", name, "': data_offsets must be [begin, end]");
    auto dtype = parse_dtype(dt->get<std::string>());
    if (!dtype) fail(path, ": tensor '", name, "': unknown dtype '", dt->get<std::string>(), "'");

    TensorView view;
    view.name = name;
    view.dtype = *dtype;
    uint64_t numel = 1;
    for (const json& d : *sh) {
      uint64_t n = as_u64(d, path, name, "shape entries");
      if (n != 0 && numel > std::numeric_limits<uint64_t>::max() / n / 8)
        fail(path, ": tensor '", name, "': shape is too large");
      numel *= n;
      view.shape.push_back(static_cast<int64_t>(n));
    }
    uint64_t begin = as_u64((*off)[0], path, name, "data_offsets");
    uint64_t end = as_u64((*off)[1], path, name, "data_offsets");
    if (begin > end) fail(path, ": tensor '", name, "': data_offsets begin ", begin, " > end ", end);
    if (end > data_size)
      fail(path, ": tensor '", name, "': data_offsets end ", end, " is beyond the data section (",
           data_size, " bytes); the file is truncated");
    uint64_t expected = numel * dtype_size(*dtype);
    if (end - begin != expected)
      fail(path, ": tensor '", name, "': byte size ", end - begin, " does not match ",
           dt->get<std::string>(), " x ", shape_string(view.shape), " = ", expected, " bytes");
    view.data = data + begin;
    view.nbytes = end - begin;
    view.file = &file_.path();
    ranges.push_back({begin, end, tensors_.size()});
    tensors_.push_back(std::move(view));
  }

  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].begin < ranges[i - 1].end && ranges[i].end > ranges[i].begin)
      fail(path, ": tensors '", tensors_[ranges[i - 1].index].name, "' and '",
           tensors_[ranges[i].index].name, "' overlap in the data section");
  }
  // Keep file order (the order of data offsets), which is also the order writers use.
  std::vector<TensorView> ordered;
  ordered.reserve(tensors_.size());
  for (const Range& r : ranges) ordered.push_back(std::move(tensors_[r.index]));
  tensors_ = std::move(ordered);
}

}  // namespace qlm

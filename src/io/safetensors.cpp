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

// First pass over the header: its top-level keys (tensor names), to reject duplicates (a tree
// would keep only the last) and to stop at the tensor limit before a tree is built. A SAX pass,
// not nlohmann's parse callback: that one rescans the parent at each object's end, so a header of
// many tensors took quadratic time.
class TopLevelKeys {
 public:
  explicit TopLevelKeys(const std::string& path) : path_(path) {}
  std::string duplicate;

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const std::string&) { return true; }
  bool string(std::string&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) { return ++depth_, true; }
  bool end_object() { return --depth_, true; }
  bool start_array(std::size_t) { return ++depth_, true; }
  bool end_array() { return --depth_, true; }
  bool key(std::string& k) {
    if (depth_ != 1) return true;
    if (!seen_.insert(k).second && duplicate.empty()) duplicate = k;
    if (seen_.size() > kMaxSafetensorsTensors + 1)  // + 1: __metadata__
      fail(path_, ": safetensors header has more than ", kMaxSafetensorsTensors, " tensors (the limit)");
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

 private:
  const std::string& path_;
  int depth_ = 0;
  std::set<std::string> seen_;
};

json parse_header(const std::string& path, const char* begin, const char* end) {
  TopLevelKeys keys(path);
  if (!json::sax_parse(begin, end, &keys)) fail(path, ": safetensors header is not valid JSON");
  json header = json::parse(begin, end, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) fail(path, ": safetensors header is not valid JSON");
  if (!header.is_object()) fail(path, ": safetensors header is not a JSON object");
  if (!keys.duplicate.empty()) fail(path, ": tensor '", keys.duplicate, "' appears twice in the header");
  return header;
}

uint64_t as_u64(const json& v, const std::string& path, const std::string& name, const char* what) {
  if (!v.is_number_unsigned()) fail(path, ": tensor '", name, "': ", what, " must be non-negative integers");
  return v.get<uint64_t>();
}

}  // namespace

SafetensorsContents parse_safetensors(const uint8_t* base, size_t size, const std::string& path) {
  SafetensorsContents out;
  std::vector<TensorView>& tensors_ = out.tensors;
  std::map<std::string, std::string>& metadata_ = out.metadata;
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
    if (tensors_.size() >= kMaxSafetensorsTensors)
      fail(path, ": safetensors header has more than ", kMaxSafetensorsTensors, " tensors (the limit)");
    auto dt = entry.find("dtype");
    auto sh = entry.find("shape");
    auto off = entry.find("data_offsets");
    if (dt == entry.end() || !dt->is_string()) fail(path, ": tensor '", name, "': missing dtype");
    if (sh == entry.end() || !sh->is_array()) fail(path, ": tensor '", name, "': missing shape");
    if (sh->size() > kMaxTensorRank)
      fail(path, ": tensor '", name, "': shape has ", sh->size(), " dimensions, more than ", kMaxTensorRank);
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
    view.file = &path;
    ranges.push_back({begin, end, tensors_.size()});
    tensors_.push_back(std::move(view));
  }

  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.begin < b.begin; });
  // Compare each non-empty range with the furthest-reaching one before it, not just its
  // neighbour: [0,10), [5,5), [6,8) overlap although no adjacent pair does.
  const Range* reach = nullptr;
  for (const Range& r : ranges) {
    if (r.end == r.begin) continue;
    if (reach != nullptr && r.begin < reach->end)
      fail(path, ": tensors '", tensors_[reach->index].name, "' and '", tensors_[r.index].name,
           "' overlap in the data section");
    if (reach == nullptr || r.end > reach->end) reach = &r;
  }
  // Keep file order (the order of data offsets), which is also the order writers use.
  std::vector<TensorView> ordered;
  ordered.reserve(tensors_.size());
  for (const Range& r : ranges) ordered.push_back(std::move(tensors_[r.index]));
  tensors_ = std::move(ordered);
  return out;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(path) {
  SafetensorsContents contents = parse_safetensors(file_.data(), file_.size(), file_.path());
  tensors_ = std::move(contents.tensors);
  metadata_ = std::move(contents.metadata);
}

}  // namespace qlm

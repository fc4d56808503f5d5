// safetensors reader: a valid file round-trips; every malformed header is rejected with a
// message naming the file and the tensor, and never read out of bounds (ASan build).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <unistd.h>

#include "base/error.h"
#include "io/safetensors.h"
#include "io/tensor_store.h"

namespace qlm {
namespace {

namespace fs = std::filesystem;

// One folder per test process, removed when the process exits (ctest runs every test in its
// own process, so a leftover folder per test would pile up in /tmp otherwise).
struct ProcessTempDir {
  fs::path path = fs::temp_directory_path() / ("qlm_st_test_" + std::to_string(::getpid()));
  ProcessTempDir() { fs::create_directories(path); }
  ~ProcessTempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

fs::path temp_dir() {
  static ProcessTempDir dir;
  return dir.path;
}

// Writes [u64 header length][header][data] to path.
void write_raw(const fs::path& path, const std::string& header, const std::string& data,
               uint64_t claimed_len = UINT64_MAX) {
  std::ofstream out(path, std::ios::binary);
  uint64_t n = claimed_len == UINT64_MAX ? header.size() : claimed_len;
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header << data;
}

std::string error_of(const fs::path& path) {
  try {
    SafetensorsFile f(path.string());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, ReadsValidFile) {
  fs::path p = temp_dir() / "ok.safetensors";
  float vals[3] = {1.5f, -2.0f, 3.25f};
  std::string data(reinterpret_cast<const char*>(vals), 12);
  data += std::string("\x01\x02", 2);
  write_raw(p,
            R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
            R"("b":{"dtype":"BF16","shape":[1,1],"data_offsets":[12,14]}})",
            data);
  SafetensorsFile f(p.string());
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  const TensorView& a = f.tensors()[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, std::vector<int64_t>{3});
  float got[3];
  std::memcpy(got, a.data, 12);
  EXPECT_EQ(got[2], 3.25f);
  EXPECT_EQ(f.tensors()[1].nbytes, 2u);
}

struct BadCase {
  const char* what;
  std::string header;
  size_t data_bytes;
  uint64_t claimed_len;
  const char* expect;  // substring of the error
};

TEST(Safetensors, RejectsMalformedFiles) {
  const BadCase cases[] = {
      {"header past end", "{}", 0, 1000, "runs past the end"},
      {"header over limit", "{}", 0, (200ull << 20), "exceeds the limit"},
      {"invalid json", "{\"a\": ", 0, UINT64_MAX, "not valid JSON"},
      {"not object", "[1,2]", 0, UINT64_MAX, "not a JSON object"},
      {"unknown dtype", R"({"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})", 1, UINT64_MAX,
       "unknown dtype 'Q7'"},
      {"offsets beyond", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8, UINT64_MAX,
       "beyond the data section"},
      {"size mismatch", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, UINT64_MAX,
       "does not match"},
      {"overlap",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12, UINT64_MAX, "overlap"},
      {"duplicate",
       R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
       2, UINT64_MAX, "appears twice"},
      {"negative shape", R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4, UINT64_MAX,
       "non-negative"},
      {"begin after end", R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", 4, UINT64_MAX,
       "begin 4 > end 0"},
      {"missing offsets", R"({"w":{"dtype":"U8","shape":[1]}})", 1, UINT64_MAX, "data_offsets"},
      {"huge shape", R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})",
       4, UINT64_MAX, "too large"},
      // [0,10) and [6,8) overlap; the empty [5,5) between them once hid it (adjacent pairs only).
      {"overlap past an empty tensor",
       R"({"a":{"dtype":"U8","shape":[10],"data_offsets":[0,10]},"b":{"dtype":"U8","shape":[0],"data_offsets":[5,5]},)"
       R"("c":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}})",
       10, UINT64_MAX, "'a' and 'c' overlap"},
      {"rank over the limit", R"({"w":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,1]}})", 1,
       UINT64_MAX, "9 dimensions, more than 8"},
  };
  fs::path dir = temp_dir();
  for (const BadCase& c : cases) {
    fs::path p = dir / "bad.safetensors";
    write_raw(p, c.header, std::string(c.data_bytes, '\0'), c.claimed_len);
    std::string err = error_of(p);
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.what << ": got '" << err << "'";
    EXPECT_NE(err.find(p.string()), std::string::npos) << c.what << ": error must name the file";
  }
  fs::path tiny = dir / "tiny.safetensors";
  std::ofstream(tiny) << "abc";
  EXPECT_NE(error_of(tiny).find("too short"), std::string::npos);
}

TEST(Safetensors, TensorCountLimit) {
  // One entry past the limit is refused while parsing, before a tensor list is built for it.
  std::string header = "{";
  for (size_t i = 0; i <= kMaxSafetensorsTensors; ++i)
    header += (i ? "," : "") + std::string("\"t") + std::to_string(i) + R"(":{"dtype":"U8","shape":[0],"data_offsets":[0,0]})";
  header += "}";
  fs::path p = temp_dir() / "many.safetensors";
  write_raw(p, header, "");
  EXPECT_NE(error_of(p).find("more than 262144 tensors (the limit)"), std::string::npos) << error_of(p);
}

TEST(TensorStore, IndexFileNamesStayInTheFolder) {
  auto error = [](const std::string& text) {
    try {
      parse_weight_index(text, "idx.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  for (const char* name : {"", ".", "..", "../x.safetensors", "/etc/passwd", "a/b.safetensors"})
    EXPECT_NE(error(std::string(R"({"weight_map":{"w":")") + name + "\"}}").find("outside the folder"),
              std::string::npos)
        << name;
  EXPECT_NE(error(R"({"weight_map":{"w":"a\u0000b"}})").find("outside the folder"), std::string::npos);
  EXPECT_NE(error(R"({"weight_map":[1]})").find("'weight_map' object"), std::string::npos);
  EXPECT_EQ(parse_weight_index(R"({"weight_map":{"w":"model-1.safetensors"}})", "idx").at("w"), "model-1.safetensors");
}

TEST(TensorStore, ShardedIndexAndDuplicates) {
  fs::path dir = temp_dir() / "sharded";
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_raw(dir / "model-00001-of-00002.safetensors",
            R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x");
  write_raw(dir / "model-00002-of-00002.safetensors",
            R"({"b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "yz");
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}})";
  TensorStore store(dir.string());
  EXPECT_EQ(store.get("b").nbytes, 2u);
  EXPECT_EQ(store.files().size(), 2u);
  try {
    store.get("c");
    FAIL() << "missing tensor accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'c' is missing"), std::string::npos);
  }
  // The same name in two shards is an error naming both files.
  write_raw(dir / "model-00002-of-00002.safetensors",
            R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "y");
  EXPECT_THROW(TensorStore(dir.string()), Error);
  // A shard listed in the index but absent.
  fs::remove(dir / "model-00002-of-00002.safetensors");
  try {
    TensorStore s(dir.string());
    FAIL() << "missing shard accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos);
  }
}

}  // namespace
}  // namespace qlm

// Per-group quantization search (the `search` method): the scale and bias of one group that
// minimise the (importance-weighted) reconstruction error after rounding them to the storage
// type, among MLX's own choice and a grid of clipped ranges, each refit by least squares.
// Three implementations of the same search: generic, AVX2 and AVX-512 intrinsics; search_group()
// runs the first of search_implementations(). They may differ in the last bits of an error sum
// (lane count, reciprocal vs division), so a near-tie between two candidates can go either way.
#pragma once

#include <cstdint>
#include <vector>

#include "io/dtype.h"

namespace qlm {

inline constexpr int kMaxSearchGroup = 256;

struct SearchResult {
  float scale, bias;
};

// importance: per-element weights or nullptr; n <= kMaxSearchGroup; best_q receives the codes.
// Runs the first of search_implementations().
SearchResult search_group(const float* w, const float* importance, int n, int bits, DType dt, bool thorough,
                          uint8_t* best_q);

using SearchFn = SearchResult (*)(const float* w, const float* importance, int n, int bits, DType dt, bool thorough,
                                  uint8_t* best_q);
struct SearchImplementation {
  const char* name;  // "avx512", "avx2", "generic"
  SearchFn fn;
};
// The implementations this CPU runs, preferred first; "generic" is always last.
std::vector<SearchImplementation> search_implementations();

// MLX's round-to-nearest for one group (affine.h's mlx_quantize_group, bit for bit), by the
// first of rtn_implementations(): the `rtn` method and every weight sync run it.
void rtn_group(const float* w, int n, int bits, uint8_t* codes, float* scale, float* bias);
using RtnFn = void (*)(const float* w, int n, int bits, uint8_t* codes, float* scale, float* bias);
struct RtnImplementation {
  const char* name;  // "avx512", "avx2", "generic"
  RtnFn fn;
};
std::vector<RtnImplementation> rtn_implementations();

namespace generic {
SearchResult search_group(const float* w, const float* importance, int n, int bits, DType dt, bool thorough,
                          uint8_t* best_q);
}
namespace avx2 {
void rtn_group(const float* w, int n, int bits, uint8_t* codes, float* scale, float* bias);
SearchResult search_group(const float* w, const float* importance, int n, int bits, DType dt, bool thorough,
                          uint8_t* best_q);
}
namespace avx512 {
void rtn_group(const float* w, int n, int bits, uint8_t* codes, float* scale, float* bias);
SearchResult search_group(const float* w, const float* importance, int n, int bits, DType dt, bool thorough,
                          uint8_t* best_q);
}

}  // namespace qlm

// Group quantizers: rtn (MLX's algorithm) and the search (group_search.h), row-parallel.
#include "quant/quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "base/half.h"
#include "quant/affine.h"
#include "quant/group_search.h"

namespace qlm {

QuantMethod parse_quant_method(const std::string& name) {
  if (name == "rtn") return QuantMethod::Rtn;
  if (name == "search") return QuantMethod::Search;
  fail("--method: unknown quantization method '", name, "' (rtn or search)");
}

const char* quant_method_name(QuantMethod m) { return m == QuantMethod::Rtn ? "rtn" : "search"; }

float round_to_dtype(float x, DType dtype) {
  switch (dtype) {
    case DType::BF16: return bf16_to_float(float_to_bf16(x));
    case DType::F16: return f16_to_float(float_to_f16(x));
    default: return x;
  }
}

void store_scalar(DType dtype, float x, uint8_t* dst, int64_t i) {
  if (dtype == DType::BF16) {
    uint16_t h = float_to_bf16(x);
    std::memcpy(dst + 2 * i, &h, 2);
  } else if (dtype == DType::F16) {
    uint16_t h = float_to_f16(x);
    std::memcpy(dst + 2 * i, &h, 2);
  } else {
    std::memcpy(dst + 4 * i, &x, 4);
  }
}

float load_scalar_any(DType dtype, const uint8_t* src) {
  float f;
  convert_to_f32(dtype, src, &f, 1);
  return f;
}

#if defined(__x86_64__)
namespace {
// The vector builds this CPU can run (group_search_avx512.cpp / _avx2.cpp), preferred first,
// for the search and for round-to-nearest alike; "generic" last.
template <class Impl>
std::vector<Impl> implementations(Impl avx512, Impl avx2, Impl generic) {
  std::vector<Impl> out;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    out.push_back(avx512);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) out.push_back(avx2);
  out.push_back(generic);
  return out;
}
}  // namespace

std::vector<SearchImplementation> search_implementations() {
  return implementations<SearchImplementation>({"avx512", &avx512::search_group}, {"avx2", &avx2::search_group},
                                               {"generic", &generic::search_group});
}

std::vector<RtnImplementation> rtn_implementations() {
  return implementations<RtnImplementation>({"avx512", &avx512::rtn_group}, {"avx2", &avx2::rtn_group},
                                            {"generic", &mlx_quantize_group});
}
#else
std::vector<SearchImplementation> search_implementations() { return {{"generic", &generic::search_group}}; }
std::vector<RtnImplementation> rtn_implementations() { return {{"generic", &mlx_quantize_group}}; }
#endif

void rtn_group(const float* w, int n, int bits, uint8_t* codes, float* scale, float* bias) {
  static const RtnFn best = rtn_implementations().front().fn;
  best(w, n, bits, codes, scale, bias);
}

SearchResult search_group(const float* w, const float* importance, int n, int bits, DType dt, bool thorough,
                          uint8_t* best_q) {
  QLM_CHECK(n <= kMaxSearchGroup);
  static const SearchFn best = search_implementations().front().fn;
  return best(w, importance, n, bits, dt, thorough, best_q);
}

namespace {

// Row r of the output, from its F32 values; codes: cols bytes of scratch.
void quantize_row(const float* row, int64_t r, int64_t cols, const QuantizeOptions& opt, uint8_t* codes,
                  uint8_t* packed, uint8_t* scales, uint8_t* biases) {
  const int g = opt.spec.group_size, bits = opt.spec.bits;
  const int64_t groups = cols / g;
  for (int64_t k = 0; k < groups; ++k) {
    const float* grp = row + k * g;
    const float* imp = opt.importance ? opt.importance + k * g : nullptr;
    uint8_t* q = codes + k * g;
    float s, b;
    if (opt.method == QuantMethod::Rtn) {
      rtn_group(grp, g, bits, q, &s, &b);  // codes use the unrounded s, b (as MLX)
    } else {
      SearchResult res = search_group(grp, imp, g, bits, opt.scale_dtype, opt.thorough, q);
      s = res.scale;
      b = res.bias;
    }
    store_scalar(opt.scale_dtype, s, scales, r * groups + k);
    store_scalar(opt.scale_dtype, b, biases, r * groups + k);
  }
  pack_affine_codes(codes, cols, bits, packed + r * (cols * bits / 8));
}

// Rows in parallel; row(r, scratch) gives row r's F32 values (scratch: cols floats to use).
template <class Row>
void quantize_rows_with(int64_t rows, int64_t cols, const QuantizeOptions& opt, uint8_t* packed,
                        uint8_t* scales, uint8_t* biases, const Row& row) {
  QLM_CHECK(cols % opt.spec.group_size == 0 && opt.spec.group_size <= 256);
#pragma omp parallel
  {
    std::vector<uint8_t> codes(static_cast<size_t>(cols));
    std::vector<float> scratch(static_cast<size_t>(cols));
#pragma omp for schedule(dynamic, 16)
    for (int64_t r = 0; r < rows; ++r)
      quantize_row(row(r, scratch.data()), r, cols, opt, codes.data(), packed, scales, biases);
  }
}

}  // namespace

void quantize_rows(const float* w, int64_t rows, int64_t cols, const QuantizeOptions& opt,
                   uint8_t* packed, uint8_t* scales, uint8_t* biases) {
  quantize_rows_with(rows, cols, opt, packed, scales, biases, [&](int64_t r, float*) { return w + r * cols; });
}

void quantize_rows_converting(const void* src, DType src_dtype, DType round_to, int64_t rows, int64_t cols,
                              const QuantizeOptions& opt, uint8_t* packed, uint8_t* scales, uint8_t* biases) {
  const size_t row_bytes = static_cast<size_t>(cols) * dtype_size(src_dtype);
  quantize_rows_with(rows, cols, opt, packed, scales, biases, [&](int64_t r, float* x) {
    convert_to_f32(src_dtype, static_cast<const uint8_t*>(src) + r * row_bytes, x, static_cast<size_t>(cols));
    if (round_to != DType::F32 && round_to != src_dtype)  // same type: already representable
      for (int64_t i = 0; i < cols; ++i) x[i] = round_to_dtype(x[i], round_to);
    return static_cast<const float*>(x);
  });
}

}  // namespace qlm

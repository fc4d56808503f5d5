// Matmul kernels on the Qwen2.5-0.5B shapes: GEMV (1 activation row) as GB/s of weights read,
// GEMM (16/64/512 rows) as GOP/s (2·rows·cols·n). Args: isa index, shape index, threads / rows.
// QLM_BENCH_ISA=ref|avx2|avx512|amx picks the table (default: the one kernels() chooses);
// QLM_BENCH_THREADS sets the GEMM and DRAM GEMV threads (default 2); QLM_INTERLEAVE=0 leaves out the
// interleaved copy of the codes that the loader builds for the AVX-512 table.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/cpu_info.h"
#include "base/page_arena.h"
#include "kernels/kernel_table.h"
#include "quant/blocked_params.h"
#include "quant/interleaved_codes.h"
#include "quant/kernel_copies.h"
#include "random_matrix.h"

namespace {

using qlm::DType;

struct Shape {
  int64_t rows, cols;
};
const Shape kShapes[] = {{896, 896}, {128, 896}, {4864, 896}, {896, 4864}, {151936, 896}};

const qlm::KernelTable& bench_table() {
  const char* isa = std::getenv("QLM_BENCH_ISA");
  if (isa != nullptr && *isa) {
    if (const qlm::KernelTable* t = qlm::kernel_table_for(isa)) return *t;
  }
  return qlm::kernels();
}

// QLM_BENCH_THREADS, default 2: the whole machine.
int bench_threads() {
  const char* threads = std::getenv("QLM_BENCH_THREADS");
  return threads != nullptr && *threads ? std::atoi(threads) : 2;
}

qlm::testing::OwnedMatrix& matrix(int shape, int bits) {
  static std::vector<qlm::testing::OwnedMatrix> cache(2 * std::size(kShapes));
  auto& m = cache[shape * 2 + (bits == 8)];
  if (m.data.empty()) {
    m = qlm::testing::random_affine(kShapes[shape].rows, kShapes[shape].cols, bits, 64, DType::BF16, 1);
    // As the model loader prepares them (QLM_INTERLEAVE=0: the file's layout only).
    qlm::attach_blocked_params(m.w);
    if (bench_table().reads_interleaved_codes && qlm::interleaving_enabled()) qlm::attach_interleaved_codes(m.w);
  }
  return m;
}

// Weights don't fit in L2 except the smallest, which we still report as measured.
void gemv(benchmark::State& state, int bits) {
  const int shape = static_cast<int>(state.range(0));
  omp_set_num_threads(static_cast<int>(state.range(1)));
  auto& m = matrix(shape, bits);
  auto x = qlm::testing::random_acts(1, m.w.cols, 2);
  std::vector<float> y(m.w.rows);
  const auto& k = bench_table();
  for (auto _ : state) {
    k.matmul(m.w, nullptr, x.data(), 1, y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(m.w.total_bytes()));
  state.SetLabel(k.isa + " " + std::to_string(m.w.rows) + "x" + std::to_string(m.w.cols));
}

void gemm(benchmark::State& state, int bits) {
  const int shape = static_cast<int>(state.range(0));
  const int64_t n = state.range(1);
  omp_set_num_threads(bench_threads());
  auto& m = matrix(shape, bits);
  auto x = qlm::testing::random_acts(n, m.w.cols, 2);
  std::vector<float> y(n * m.w.rows);
  const auto& k = bench_table();
  for (auto _ : state) {
    k.matmul(m.w, nullptr, x.data(), n, y.data());
    benchmark::ClobberMemory();
  }
  state.counters["GOP/s"] = benchmark::Counter(2.0 * double(m.w.rows * m.w.cols * n) * double(state.iterations()),
                                               benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  state.SetLabel(k.isa + " " + std::to_string(m.w.rows) + "x" + std::to_string(m.w.cols) + " n=" + std::to_string(n));
}

// GEMV as decode sees it: a different matrix every call, from a set over twice the last-level
// cache, so the weights come from DRAM (the per-shape GEMV above mostly reads L3, which holds
// 260 MB on this VM). Compare with BM_StreamRead/2 for the kernel's own roofline fraction.
void gemv_dram(benchmark::State& state, int bits) {
  const int shape = static_cast<int>(state.range(0));
  omp_set_num_threads(bench_threads());
  static std::vector<qlm::testing::OwnedMatrix> set[2][std::size(kShapes)];
  auto& mats = set[bits == 8][shape];
  if (mats.empty()) {
    const double llc = std::max<double>(double(qlm::last_level_cache_bytes()), 64e6);
    const auto& k = bench_table();
    double bytes = 0;
    // Copies of one random matrix (generating each took ~25 s per run): equal values at
    // different addresses read the same from DRAM.
    const auto first = qlm::testing::random_affine(kShapes[shape].rows, kShapes[shape].cols, bits, 64, DType::BF16, 1);
    const bool interleave = k.reads_interleaved_codes && qlm::interleaving_enabled();
    while (bytes < 2 * llc) {
      mats.push_back(first);  // the vectors are copied; point the view at the copies
      qlm::testing::OwnedMatrix& m = mats.back();
      m.w.data = m.data.data();
      m.w.scales = m.scales.data();
      m.w.biases = m.biases.data();
      bytes += double(m.w.total_bytes());
    }
    // The load-time copies in one arena, as the model loader places them (2 MB pages).
    size_t arena_bytes = 0;
    for (const auto& m : mats) arena_bytes += qlm::kernel_copy_bytes(m.w, interleave);
    const auto arena = qlm::PageArena::create(arena_bytes);
    for (auto& m : mats) qlm::attach_kernel_copies(m.w, interleave, arena);
  }
  auto x = qlm::testing::random_acts(1, kShapes[shape].cols, 2);
  std::vector<float> y(kShapes[shape].rows);
  const auto& k = bench_table();
  size_t i = 0;
  int64_t read = 0;
  for (auto _ : state) {
    const qlm::WeightMatrix& w = mats[i++ % mats.size()].w;
    k.matmul(w, nullptr, x.data(), 1, y.data());
    benchmark::ClobberMemory();
    read += int64_t(w.total_bytes());
  }
  state.SetBytesProcessed(read);
  state.SetLabel(k.isa + " " + std::to_string(kShapes[shape].rows) + "x" + std::to_string(kShapes[shape].cols) + ", " +
                 std::to_string(mats.size()) + " copies");
}

void BM_GemvQ4(benchmark::State& s) { gemv(s, 4); }
void BM_GemvQ8(benchmark::State& s) { gemv(s, 8); }
void BM_GemmQ4(benchmark::State& s) { gemm(s, 4); }
void BM_GemmQ8(benchmark::State& s) { gemm(s, 8); }

void gemv_args(benchmark::internal::Benchmark* b) {
  for (int s = 0; s < 5; ++s)
    for (int t : {1, 2}) b->Args({s, t});
  b->MinTime(0.3)->UseRealTime()->Unit(benchmark::kMicrosecond);
}
void gemm_args(benchmark::internal::Benchmark* b) {
  for (int s : {0, 2, 3, 4})
    for (int n : {16, 32, 64, 512}) b->Args({s, n});  // 32: a rollout batch's decode step
  b->MinTime(0.3)->UseRealTime()->Unit(benchmark::kMicrosecond);
}
void BM_GemvDramQ4(benchmark::State& s) { gemv_dram(s, 4); }
void BM_GemvDramQ8(benchmark::State& s) { gemv_dram(s, 8); }
BENCHMARK(BM_GemvDramQ4)->Arg(0)->Arg(2)->Arg(3)->Arg(4)->MinTime(1.0)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GemvDramQ8)->Arg(2)->Arg(3)->MinTime(1.0)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GemvQ4)->Apply(gemv_args);
BENCHMARK(BM_GemvQ8)->Apply(gemv_args);
BENCHMARK(BM_GemmQ4)->Apply(gemm_args);
BENCHMARK(BM_GemmQ8)->Apply(gemm_args);

}  // namespace

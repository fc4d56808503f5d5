// Streaming-read bandwidth: all threads sum a buffer far larger than the last-level cache.
// GEMV GB/s divided by this is the kernels' roofline fraction.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace {

void BM_StreamRead(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const size_t n = size_t(1) << 27;  // 1 GiB of uint64: ≫ any LLC here
  static std::vector<uint64_t> buf(n, 1);
  for (auto _ : state) {
    uint64_t total = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : total) schedule(static)
    for (size_t i = 0; i < n; i += 8)  // eight adds per cache line; vectorised in Release
      total += buf[i] + buf[i + 1] + buf[i + 2] + buf[i + 3] + buf[i + 4] + buf[i + 5] + buf[i + 6] + buf[i + 7];
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(n * sizeof(uint64_t)));
}
BENCHMARK(BM_StreamRead)->Arg(1)->Arg(2)->MinTime(1.0)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

// Streaming-read bandwidth: all threads sum a buffer far larger than the last-level cache, with
// the loop `qlm bench` measures its roofline denominator with.
// GEMV GB/s divided by this is the kernels' roofline fraction.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "base/bandwidth.h"

namespace {

void BM_StreamRead(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const size_t n = size_t(1) << 27;  // 1 GiB of uint64: ≫ any LLC here
  static std::vector<uint64_t> buf(n, 1);  // (touched by one thread: pages may sit on its node)
  for (auto _ : state) {
    uint64_t total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {  // contiguous halves, as the first touch below laid them out
      const size_t nt = size_t(omp_get_num_threads()), t = size_t(omp_get_thread_num());
      const size_t begin = n / 32 * t / nt * 32, end = n / 32 * (t + 1) / nt * 32;
      total += qlm::streaming_sum(buf.data() + begin, end - begin);
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(n * sizeof(uint64_t)));
}
BENCHMARK(BM_StreamRead)->Arg(1)->Arg(2)->MinTime(1.0)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

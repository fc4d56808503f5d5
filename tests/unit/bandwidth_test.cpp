// The streaming read behind `qlm bench`'s roofline: its sum must be the buffer's (so every
// element is read, none twice), whatever the length, and the bandwidth test must measure.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/bandwidth.h"
#include "base/cpu_info.h"

namespace qlm {
namespace {

TEST(StreamingSum, IsTheSumOfEveryElement) {
  for (size_t n : {size_t{0}, size_t{32}, size_t{64}, size_t{32} * 1001}) {
    std::vector<uint64_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = i * 2654435761u + 7;
    uint64_t want = 0;
    for (uint64_t x : v) want += x;
    EXPECT_EQ(streaming_sum(v.data(), n), want) << n;
  }
}

TEST(ReadBandwidth, MeasuresAPositiveRate) {
  const double b = measure_read_bandwidth(size_t{64} << 20, 1);
  EXPECT_GT(b, 1e8);  // 0.1 GB/s: far below any machine; 0 would mean the test failed to run
}

// glibc reads the cache sizes from CPUID, the kernel's sysfs from its own tables: they agree,
// except that on AMD EPYC glibc reports the L3 of the whole package (seen: 256 MB) where sysfs
// gives the slice one core's complex shares (32 MB): a whole multiple of it.
TEST(LastLevelCache, AgreesWithGlibc) {
  const long long llc = last_level_cache_bytes();
  long long glibc = 0;
  for (int name : {_SC_LEVEL2_CACHE_SIZE, _SC_LEVEL3_CACHE_SIZE, _SC_LEVEL4_CACHE_SIZE})
    glibc = std::max(glibc, static_cast<long long>(::sysconf(name)));
  if (llc == 0 || glibc <= 0) GTEST_SKIP() << "cache sizes unknown (sysfs " << llc << ", glibc " << glibc << ")";
  if (llc != glibc) {
    EXPECT_LT(llc, glibc);
    EXPECT_EQ(glibc % llc, 0) << "sysfs " << llc << ", glibc " << glibc;
  }
}

}  // namespace
}  // namespace qlm

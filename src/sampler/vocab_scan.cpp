// The fused vocabulary scan and the fixed-order weight sum (see vocab_scan.h).
#include "sampler/vocab_scan.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

// The baseline x86-64 build vectorises these loops with 4-lane SSE2; a vocabulary pass is
// 152k elements per sampled token, so the AVX-512 clones matter for big rollout batches.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QLM_VOCAB_CLONES __attribute__((target_clones("arch=x86-64-v4", "default")))
#else
#define QLM_VOCAB_CLONES
#endif
// Helpers called from the clones are inlined into each, so they get its instruction set.
#define QLM_INLINE inline __attribute__((always_inline))

namespace qlm {

namespace {

constexpr int kLanes = 16;  // double lanes of a sum: 16 chains keep the adds from waiting on each other
constexpr int kMaxLanes = 16;  // one AVX-512 vector
constexpr int kBlock = 512;    // floats per block: 2 KiB, well inside L1

// GCC leaves the lane-array form of this loop scalar (a max is not reassociable under IEEE
// rules), so the lanes are a GCC vector: one AVX-512 register in the x86-64-v4 clone, four SSE
// registers in the baseline.
typedef float Floats16 __attribute__((vector_size(64), aligned(4)));

QLM_INLINE float block_max(const float* x, int n) {
  Floats16 lane;
  for (int l = 0; l < kMaxLanes; ++l) lane[l] = -FLT_MAX;
  int i = 0;
  for (; i + kMaxLanes <= n; i += kMaxLanes) {
    Floats16 v;
    __builtin_memcpy(&v, x + i, sizeof v);
    lane = v > lane ? v : lane;
  }
  float m = -FLT_MAX;
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  for (int l = 0; l < kMaxLanes; ++l) m = lane[l] > m ? lane[l] : m;
  return m;
}

// Adds exp(x - m) of one block to the lanes: exps into a stack buffer first, so both loops
// are simple enough to vectorise.
QLM_INLINE void add_exp(const float* x, int n, float m, double* lane) {
  float e[kBlock];
  for (int i = 0; i < n; ++i) e[i] = exp_nonpos(x[i] - m);
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] += e[i + l];
  for (; i < n; ++i) lane[0] += e[i];
}

// Sum of w[0, n) in double, sixteen interleaved lanes (a fixed order the compiler vectorises)
// folded in order.
QLM_INLINE double lane_sum(const float* w, int n) {
  double lane[kLanes] = {};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] += w[i + l];
  for (; i < n; ++i) lane[0] += w[i];
  double s = 0.0;
  for (double l : lane) s += l;
  return s;
}

void offer(std::vector<Scored>& heap, int top_n, const float* x, int begin, int end) {
  for (int i = begin; i < end; ++i) {
    const Scored c{x[i], i};
    if (int(heap.size()) < top_n) {
      heap.push_back(c);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(c, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = c;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
}

}  // namespace

// The temperature weights (see exp_weight_blocks), inlined into each clone.
// A vector division costs ~10 cycles; at temperature 1 (the usual one for RL rollouts) x / t
// is x exactly, so that loop has none.
QLM_INLINE void write_weights(const float* logits, int n, float t, float s_max, float floor, float* weight) {
  if (t == 1.0f) {
    for (int i = 0; i < n; ++i) weight[i] = keep_at_least(exp_nonpos(logits[i] - s_max), floor);
  } else {
    for (int i = 0; i < n; ++i) weight[i] = keep_at_least(exp_nonpos(logits[i] / t - s_max), floor);
  }
}

QLM_VOCAB_CLONES double exp_weight_blocks(const float* logits, int n, float t, float s_max, float floor,
                                          float* weight, double* block_sum) {
  double total = 0.0;
  for (int begin = 0, b = 0; begin < n; begin += kWeightBlock, ++b) {
    const int len = std::min(kWeightBlock, n - begin);
    float* w = weight + begin;
    write_weights(logits + begin, len, t, s_max, floor, w);
    const double s = lane_sum(w, len);
    block_sum[b] = s;
    total += s;
  }
  return total;
}

QLM_VOCAB_CLONES double range_block_sums(const float* w, int n, float lo, float hi, double* block_sum) {
  double total = 0.0;
  for (int begin = 0, b = 0; begin < n; begin += kWeightBlock, ++b) {
    const int len = std::min(kWeightBlock, n - begin);
    float kept[kWeightBlock];
    for (int i = 0; i < len; ++i) kept[i] = in_range(w[begin + i], lo, hi) ? w[begin + i] : 0.0f;
    const double s = lane_sum(kept, len);
    block_sum[b] = s;
    total += s;
  }
  return total;
}

// Sixteen weights are tested at once (a vector compare in the AVX-512 clone); only groups with
// a hit are walked, so a narrow range costs one pass of compares.
QLM_VOCAB_CLONES int collect_range(const float* logits, const float* w, int n, float lo, float hi, Scored* out,
                                   int limit) {
  constexpr int kGroup = 16;
  int count = 0;
  for (int begin = 0; begin < n; begin += kGroup) {
    const int len = std::min(kGroup, n - begin);
    int hits = 0;
    for (int i = 0; i < len; ++i) hits += in_range(w[begin + i], lo, hi);
    if (hits == 0) continue;
    if (count + hits > limit) return limit + 1;
    for (int i = begin; i < begin + len; ++i)
      if (in_range(w[i], lo, hi)) out[count++] = Scored{logits[i], i};
  }
  return count;
}

// Blocks of 64 logits whose max cannot beat the heap's worst are skipped after one vector max:
// past the first few thousand tokens that is nearly all of them.
QLM_VOCAB_CLONES void select_top_k(const float* x, int n, int k, Scored* heap) {
  constexpr int kChunk = 64;
  for (int i = 0; i < k; ++i) heap[i] = Scored{x[i], i};
  std::make_heap(heap, heap + k, better);
  for (int begin = k; begin < n; begin += kChunk) {
    const int len = std::min(kChunk, n - begin);
    if (block_max(x + begin, len) < heap[0].value) continue;  // none is better than the worst kept
    for (int i = begin; i < begin + len; ++i) {
      const Scored c{x[i], i};
      if (better(c, heap[0])) {
        std::pop_heap(heap, heap + k, better);
        heap[k - 1] = c;
        std::push_heap(heap, heap + k, better);
      }
    }
  }
  std::sort_heap(heap, heap + k, better);
}

// Bucket indices of 64 weights at a time in a vector pass, then scalar adds four at a time
// (one per lane); the bucket loop alone was ~20 instructions a token.
QLM_VOCAB_CLONES void weight_histogram(const float* w, int n, float cut, double* lanes) {
  constexpr int kChunk = 64;
  constexpr uint32_t kBelow = kWeightBuckets - 1;
  const uint32_t cut_bits = std::bit_cast<uint32_t>(cut);
  double* lane[kHistogramLanes];
  for (int l = 0; l < kHistogramLanes; ++l) lane[l] = lanes + size_t(l) * kWeightBuckets;
  uint32_t idx[kChunk];
  int begin = 0;
  for (; begin + kChunk <= n; begin += kChunk) {
    for (int i = 0; i < kChunk; ++i) {
      const uint32_t bits = std::bit_cast<uint32_t>(w[begin + i]);
      idx[i] = bits >= cut_bits ? bits >> kWeightBucketShift : kBelow;
    }
    for (int i = 0; i < kChunk; i += kHistogramLanes)
      for (int l = 0; l < kHistogramLanes; ++l) lane[l][idx[i + l]] += w[begin + i + l];
  }
  for (int i = begin; i < n; ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(w[i]);
    lane[i % kHistogramLanes][bits >= cut_bits ? bits >> kWeightBucketShift : kBelow] += w[i];
  }
}

QLM_VOCAB_CLONES VocabScan scan_vocab(const float* x, int n, bool want_sum, std::vector<Scored>* heap, int top_n) {
  VocabScan out;
  float m = -FLT_MAX;
  int a = -1;
  double lane[kLanes] = {};
  for (int begin = 0; begin < n; begin += kBlock) {
    const int len = std::min(kBlock, n - begin);
    const float* block = x + begin;
    const float bm = block_max(block, len);
    if (bm > m) {  // strictly: an equal max in a later block keeps the lower id
      a = begin + int(std::find(block, block + len, bm) - block);
      if (want_sum)
        for (double& l : lane) l *= std::exp(double(m) - double(bm));
      m = bm;
    }
    if (want_sum) add_exp(block, len, m, lane);
    if (top_n > 0 && (int(heap->size()) < top_n || bm > heap->front().value))
      offer(*heap, top_n, x, begin, begin + len);
  }
  out.max = m;
  out.argmax = a;
  if (want_sum)
    for (double l : lane) out.sum += l;
  return out;
}

}  // namespace qlm

// The forward pass. Shapes in comments: T = tokens in this call, H = hidden size,
// Dq = heads * head_dim, Dkv = kv_heads * head_dim, I = intermediate size, V = vocab.
#include "model/transformer.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>

#include "base/error.h"
#include "kernels/kernel_table.h"
#include "model/ops.h"
#include "quant/interleaved_codes.h"

namespace qlm {

std::unique_ptr<Transformer> Transformer::load(const std::string& dir) {
  ModelConfig cfg = load_model_config(dir);
  auto store = std::make_unique<TensorStore>(dir);
  return std::unique_ptr<Transformer>(new Transformer(std::move(cfg), std::move(store)));
}

Transformer::Transformer(ModelConfig cfg, std::unique_ptr<TensorStore> store)
    : cfg_(std::move(cfg)), store_(std::move(store)), weights_(load_weights(cfg_, *store_)) {
  prepare_for_kernels(weights_, kernels().reads_interleaved_codes && interleaving_enabled());
}

ForwardScratch Transformer::make_scratch(int max_tokens) const {
  ForwardScratch s;
  s.max_tokens = max_tokens;
  const size_t T = static_cast<size_t>(max_tokens);
  s.x.resize(T * cfg_.hidden_size);
  s.xn.resize(T * cfg_.hidden_size);
  s.q.resize(T * cfg_.q_dim());
  s.k.resize(T * cfg_.kv_dim());
  s.v.resize(T * cfg_.kv_dim());
  s.att.resize(T * cfg_.q_dim());
  s.proj.resize(T * cfg_.hidden_size);
  s.gate.resize(T * cfg_.intermediate_size);
  s.up.resize(T * cfg_.intermediate_size);
  s.rope_cos.resize(T * cfg_.head_dim / 2);
  s.rope_sin.resize(T * cfg_.head_dim / 2);
  return s;
}

void Transformer::forward(KVCache& cache, ForwardScratch& s, std::span<const int> tokens,
                          float* logits, bool all_logits) const {
  const int T = static_cast<int>(tokens.size());
  const int pos0 = cache.size();
  QLM_CHECK(T > 0 && T <= s.max_tokens);
  if (pos0 + T > cache.capacity())
    fail("context length exceeded: ", pos0 + T, " tokens > ", cache.capacity());
  s.rows.clear();
  s.logit_rows.clear();
  for (int t = 0; t < T; ++t) {
    s.rows.push_back(BatchRow{&cache, pos0 + t, tokens[t]});
    if (all_logits || t == T - 1) s.logit_rows.push_back(t);
  }
  forward_batch(s, logits);
}

void Transformer::forward_batch(ForwardScratch& s, float* logits) const {
  const KernelTable& K0 = kernels();
  // With an observer, route every matmul through it first; otherwise call the kernel directly.
  struct Matmul {
    const KernelTable& k;
    const ForwardScratch& s;
    void operator()(const WeightMatrix& w, const float* bias, const float* x, int64_t n, float* y) const {
      if (s.observe_matmul) s.observe_matmul(w, x, static_cast<int>(n));
      k.matmul(w, bias, x, n, y);
    }
    // Matrices sharing the input x: one activation quantization, one parallel region.
    void multi(std::initializer_list<const WeightMatrix*> ws, std::initializer_list<const float*> bs,
               const float* x, int64_t n, std::initializer_list<float*> ys) const {
      if (s.observe_matmul)
        for (const WeightMatrix* w : ws) s.observe_matmul(*w, x, static_cast<int>(n));
      k.matmul_multi(ws.begin(), bs.begin(), static_cast<int>(ws.size()), x, n, ys.begin());
    }
  } matmul{K0, s};
  const std::vector<BatchRow>& rows = s.rows;
  const int T = static_cast<int>(rows.size());
  const int64_t H = cfg_.hidden_size, Dq = cfg_.q_dim(), Dkv = cfg_.kv_dim();
  const int64_t I = cfg_.intermediate_size, V = cfg_.vocab_size;
  const int hd = cfg_.head_dim, half = hd / 2;
  QLM_CHECK(T > 0 && T <= s.max_tokens);

  for (int t = 0; t < T; ++t) {
    const BatchRow& r = rows[t];
    if (r.token < 0 || r.token >= V) fail("token id ", r.token, " is outside the vocabulary [0, ", V, ")");
    if (r.pos < 0 || r.pos >= r.cache->capacity())
      fail("context length exceeded: position ", r.pos, " >= ", r.cache->capacity());
    if (weights_.embed.interleaved_codes)  // tied: its mapped codes were dropped after load
      dequantize_interleaved_row(weights_.embed, r.token, &s.x[t * H]);  // x: [T][H]
    else
      dequantize_row(weights_.embed, r.token, &s.x[t * H]);
    rope_angles(r.pos, hd, cfg_.rope_theta, &s.rope_cos[t * half], &s.rope_sin[t * half]);
  }

  // The row-wise steps between matmuls split across threads once there are enough rows
  // (prefill, rollout batches): left on one thread they made the other wait (silu alone is
  // 2.5M exps per layer at 512 tokens). Each row's result does not depend on the thread.
  const bool rows_parallel = T >= 8;
  for (int l = 0; l < cfg_.num_layers; ++l) {
    const LayerWeights& L = weights_.layers[l];
#pragma omp parallel for schedule(static) if (rows_parallel)
    for (int t = 0; t < T; ++t)
      rms_norm(&s.x[t * H], L.attn_norm.data(), cfg_.rms_norm_eps, H, &s.xn[t * H]);
    auto bias = [](const std::vector<float>& b) { return b.empty() ? nullptr : b.data(); };
    // q: [T][Dq], k and v: [T][Dkv]
    matmul.multi({&L.q_proj, &L.k_proj, &L.v_proj}, {bias(L.q_bias), bias(L.k_bias), bias(L.v_bias)},
                    s.xn.data(), T, {s.q.data(), s.k.data(), s.v.data()});
#pragma omp parallel for schedule(static) if (rows_parallel)
    for (int t = 0; t < T; ++t) {
      const float* c = &s.rope_cos[t * half];
      const float* sn = &s.rope_sin[t * half];
      for (int h = 0; h < cfg_.num_heads; ++h) rope_rotate_half(&s.q[t * Dq + h * hd], hd, c, sn);
      for (int h = 0; h < cfg_.num_kv_heads; ++h) rope_rotate_half(&s.k[t * Dkv + h * hd], hd, c, sn);
      rows[t].cache->store(l, rows[t].pos, &s.k[t * Dkv], &s.v[t * Dkv]);
    }
    attention(s, l);                                                  // att: [T][Dq]
    matmul(L.o_proj, nullptr, s.att.data(), T, s.proj.data());      // proj: [T][H]
#pragma omp parallel for schedule(static) if (rows_parallel)
    for (int64_t i = 0; i < T * H; ++i) s.x[i] += s.proj[i];

#pragma omp parallel for schedule(static) if (rows_parallel)
    for (int t = 0; t < T; ++t)
      rms_norm(&s.x[t * H], L.mlp_norm.data(), cfg_.rms_norm_eps, H, &s.xn[t * H]);
    matmul.multi({&L.gate_proj, &L.up_proj}, {nullptr, nullptr}, s.xn.data(), T,  // gate, up: [T][I]
                    {s.gate.data(), s.up.data()});
#pragma omp parallel for schedule(static) if (rows_parallel)
    for (int t = 0; t < T; ++t) K0.silu_mul(&s.gate[t * I], &s.up[t * I], I);
    matmul(L.down_proj, nullptr, s.gate.data(), T, s.proj.data());  // proj: [T][H]
#pragma omp parallel for schedule(static) if (rows_parallel)
    for (int64_t i = 0; i < T * H; ++i) s.x[i] += s.proj[i];
  }
  for (const BatchRow& r : rows) r.cache->set_size(std::max(r.cache->size(), r.pos + 1));

  // The LM head runs only for the rows whose logits are wanted (compacted into xn).
  const int n_out = static_cast<int>(s.logit_rows.size());
  for (int i = 0; i < n_out; ++i)
    rms_norm(&s.x[s.logit_rows[i] * H], weights_.final_norm.data(), cfg_.rms_norm_eps, H, &s.xn[i * H]);
  if (n_out > 0) matmul(weights_.lm_head, nullptr, s.xn.data(), n_out, logits);  // logits: [n_out][V]
}

// Causal grouped-query attention, each row over its own cache up to its position: KV head g
// serves query heads g*group .. g*group+group-1, read once for all of them (KernelTable::attend).
void Transformer::attention(ForwardScratch& s, int l) const {
  const KernelTable& K = kernels();
  const int hd = cfg_.head_dim, kv_heads = cfg_.num_kv_heads;
  const int group = cfg_.num_heads / cfg_.num_kv_heads;
  const int64_t Dq = cfg_.q_dim();
  const int T = static_cast<int>(s.rows.size());
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  int max_keys = 0;
  int64_t work = 0;
  for (const BatchRow& r : s.rows) {
    max_keys = std::max(max_keys, r.pos + 1);
    work += static_cast<int64_t>(r.pos + 1) * cfg_.num_heads * hd;
  }
  // Threads only pay off past some work: a barrier costs microseconds, more on a busy machine.
  const bool parallel = work > (int64_t{1} << 16);
#pragma omp parallel if (parallel)
  {
    thread_local std::vector<float> scores;
    const size_t need = static_cast<size_t>(attention_scratch_floats(group, max_keys));
    if (scores.size() < need) scores.resize(need);
    // Rows differ in length (causal prefill): dynamic scheduling balances them; each item's
    // result does not depend on which thread runs it. Chunks of one item: a decode step of one
    // sequence has only kv_heads items (2 for Qwen2.5-0.5B), which chunks of two gave to a
    // single thread.
    auto head = [&](int t, int g) {
      const BatchRow& r = s.rows[t];
      AttentionHead a;
      a.q = &s.q[t * Dq + static_cast<int64_t>(g) * group * hd];
      r.cache->attend_to(a, l, g);
      a.n_keys = r.pos + 1;  // causal: positions 0 .. pos of this row's sequence
      a.group = group;
      a.head_dim = hd;
      a.scale = scale;
      a.out = &s.att[t * Dq + static_cast<int64_t>(g) * group * hd];
      a.scores = scores.data();
      K.attend(a);
    };
    if (T >= 8) {
      // Enough rows to balance: one row's KV heads on one thread, so its cache rows (all
      // heads side by side) stream through once, in order.
#pragma omp for schedule(dynamic, 1)
      for (int t = 0; t < T; ++t)
        for (int g = 0; g < kv_heads; ++g) head(t, g);
    } else {
#pragma omp for collapse(2) schedule(dynamic, 1)
      for (int t = 0; t < T; ++t)
        for (int g = 0; g < kv_heads; ++g) head(t, g);
    }
  }
}

}  // namespace qlm

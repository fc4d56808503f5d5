// update_weights (the RL loop's weight sync) on a q4 model with the fast kernels' load-time
// copies (interleaved codes, blocked scales; stories260K from ../shared/data converted with rtn).
// The first sync allocates new buffers; later syncs refill them in place. Oracle: after any
// number of syncs the log-probs equal, bit for bit, those of the checkpoint with the same
// weights converted by `qlm convert --method rtn` and loaded (rtn re-quantization is bit-exact
// with it); that holds for the original weights and for every value scaled by 1.25, written out
// as a checkpoint of its own.
#include "model/weight_update.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "io/safetensors_writer.h"
#include "io/tensor_store.h"
#include "runtime/score.h"

namespace qlm {
namespace {

std::string stories() {
  const std::string dir = std::string(QLM_SHARED_DATA) + "/models/stories260K";
  return std::filesystem::exists(dir) ? dir : "";
}

// The checkpoint's tensors as updates, every value times `factor` (1: the original ones).
struct Weights {
  std::vector<std::vector<float>> data;
  std::vector<TensorUpdate> updates;
};
Weights weights_of(const TensorStore& store, float factor) {
  Weights w;
  for (const auto& [name, view] : store.all()) {
    size_t n = 1;
    for (int64_t d : view->shape) n *= static_cast<size_t>(d);
    std::vector<float> x(n);
    convert_to_f32(view->dtype, view->data, x.data(), n);
    for (float& v : x) v *= factor;
    w.data.push_back(std::move(x));
    w.updates.push_back(TensorUpdate{.name = name, .shape = view->shape, .dtype = DType::F32, .data = nullptr});
  }
  for (size_t i = 0; i < w.updates.size(); ++i) w.updates[i].data = w.data[i].data();
  return w;
}

// A copy of the checkpoint folder with its tensors replaced by w's (F32).
void write_checkpoint(const std::string& from, const Weights& w, const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const auto& f : std::filesystem::directory_iterator(from))
    if (f.path().extension() != ".safetensors") std::filesystem::copy(f.path(), dir + "/" + f.path().filename().string());
  std::vector<TensorSpec> specs;
  for (const TensorUpdate& u : w.updates) specs.push_back({.name = u.name, .dtype = DType::F32, .shape = u.shape});
  SafetensorsWriter out(dir + "/model.safetensors", specs, {{"format", "pt"}});
  for (size_t i = 0; i < w.updates.size(); ++i) out.write(i, 0, w.data[i].data(), w.data[i].size() * sizeof(float));
  out.finish();
}

std::string convert_rtn_q4(const std::string& hf, const std::string& out) {
  std::filesystem::remove_all(out);
  convert_checkpoint(ConvertOptions{.hf_path = hf, .out_path = out, .bits = 4, .method = QuantMethod::Rtn,
                                    .progress = false});
  return out;
}

TEST(WeightUpdate, RepeatedSyncsRefillInPlaceAndEqualAFreshModel) {
  if (stories().empty()) GTEST_SKIP() << "shared data not found: stories260K";
  const std::string tmp = ::testing::TempDir() + "/weight_update";
  const TensorStore source(stories());
  const Weights original = weights_of(source, 1.0f), scaled = weights_of(source, 1.25f);
  write_checkpoint(stories(), scaled, tmp + "/scaled");
  const std::string q4 = convert_rtn_q4(stories(), tmp + "/q4");
  std::vector<int> ids{1};
  for (int i = 1; i < 60; ++i) ids.push_back(3 + (i * 37) % 500);
  // Chunks of 64 rows (the GEMM path) and of 1 (decode's GEMV path).
  auto scores = [&](const Transformer& m) {
    std::vector<double> a = score_tokens(m, ids), b = score_tokens(m, ids, 1);
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const std::vector<double> want_original = scores(*Transformer::load(q4));
  const std::vector<double> want_scaled = scores(*Transformer::load(convert_rtn_q4(tmp + "/scaled", tmp + "/scaled-q4")));
  ASSERT_NE(want_scaled, want_original);

  auto model = Transformer::load(q4);
  const uint8_t* const first_codes = model->weights().layers[0].up_proj.interleaved_codes.get();
  update_weights(*model, scaled.updates, QuantMethod::Rtn);  // new buffers
  EXPECT_EQ(scores(*model), want_scaled);
  const uint8_t* const synced = model->weights().layers[0].up_proj.data;
  for (int round = 0; round < 2; ++round) {
    update_weights(*model, original.updates, QuantMethod::Rtn);  // in place from here on
    EXPECT_EQ(scores(*model), want_original) << "round " << round;
    update_weights(*model, scaled.updates, QuantMethod::Rtn);
    EXPECT_EQ(scores(*model), want_scaled) << "round " << round;
  }
  EXPECT_EQ(model->weights().layers[0].up_proj.data, synced) << "later syncs refill the first sync's buffer";
  if (kernels().reads_interleaved_codes) {  // the fast kernels' copy, from the load arena, kept throughout
    ASSERT_NE(first_codes, nullptr);
    EXPECT_EQ(model->weights().layers[0].up_proj.interleaved_codes.get(), first_codes);
  }
  std::filesystem::remove_all(tmp);
}

}  // namespace
}  // namespace qlm

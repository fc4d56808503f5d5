// Data-free estimates of each input column's activation second moment E[x_c^2] for every
// quantizable module, from the checkpoint alone (no calibration text). The quantizer weighs
// each weight's error by them, so columns that carry large activations are kept precise.
//  - q/k/v, gate/up: input is RMSNorm(x) * gamma with unit-variance normalised x -> gamma_c^2.
//  - o_proj: attention output is a convex mix of V rows -> E[v_c^2] from W_v, gamma and b_v.
//  - down_proj: input silu(g) * u with g, u Gaussian of variances from W_gate/W_up and gamma.
//  - lm_head (and a tied embedding): input is the final norm's output -> gamma_c^2.
#pragma once

#include <string>
#include <vector>

#include "io/model_config.h"
#include "io/tensor_store.h"

namespace qlm {

// [cols] importance for `module`, or empty for uniform (e.g. an untied embedding's lookup).
std::vector<float> data_free_importance(const ModelConfig& cfg, const TensorStore& store,
                                        const std::string& module);

}  // namespace qlm

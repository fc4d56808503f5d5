// Greedy choice: the index of the largest logit.
#pragma once

namespace qlm {

int argmax(const float* x, int n);  // first index of the maximum

}  // namespace qlm

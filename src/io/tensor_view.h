// A zero-copy view of one tensor inside a memory-mapped file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "io/dtype.h"

namespace qlm {

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // not necessarily aligned beyond 1 byte
  size_t nbytes = 0;
  const std::string* file = nullptr;  // the file it lives in, for error messages

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t dim(size_t i) const { return shape.at(i); }
};

std::string shape_string(const std::vector<int64_t>& shape);  // "[896, 4864]"

}  // namespace qlm

// qlm.Model: one loaded model folder shared by the bindings (generate, score, load_weights).
// Locking: generate/score share the model; load_weights takes it alone (the GIL is released
// while the engine runs, so another Python thread could otherwise swap weights mid-forward).
#pragma once

#include <pybind11/pybind11.h>

#include <optional>
#include <shared_mutex>
#include <string>

#include "runtime/loaded_model.h"

namespace qlm::py_binding {

namespace py = pybind11;

struct PyModel {
  PyModel(const std::string& path, std::optional<int> threads, const std::string& kv_cache_dtype);

  // Sets the OpenMP thread count for calls made from the current thread (a per-thread setting).
  void use_threads() const;

  LoadedModel m;
  int threads = 1;
  mutable std::shared_mutex lock;
};

void bind_model(py::module_& mod);             // py_model.cpp: Model, properties, tokenize, score
void bind_generate(py::class_<PyModel>& cls);  // py_generate.cpp
void bind_weights(py::class_<PyModel>& cls);   // py_weights.cpp

}  // namespace qlm::py_binding

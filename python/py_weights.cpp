// Model.load_weights: the RL loop's weight sync from numpy arrays under Hugging Face names.
// dtype convention: float32 -> F32, float16 -> F16, uint16 -> BF16 bit patterns (numpy has no
// bfloat16; st_io and torch's t.view(torch.uint16) use the same bits), ml_dtypes.bfloat16 -> BF16.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <mutex>

#include "base/error.h"
#include "model/weight_update.h"
#include "py_model.h"

namespace qlm::py_binding {

namespace {

DType dtype_of(const py::array& a, const std::string& name) {
  const py::dtype dt = a.dtype();
  if (dt.is(py::dtype::of<float>())) return DType::F32;
  if (dt.kind() == 'f' && dt.itemsize() == 2) return DType::F16;
  if (dt.is(py::dtype::of<uint16_t>())) return DType::BF16;
  if (dt.itemsize() == 2 && dt.attr("name").cast<std::string>() == "bfloat16") return DType::BF16;
  throw py::type_error(cat("load_weights: tensor '", name, "' has numpy dtype ",
                           dt.attr("name").cast<std::string>(),
                           "; expected float32, float16, or uint16 holding bfloat16 bits"));
}

void load_weights(PyModel& self, const py::object& named_tensors, const std::string& method_name) {
  if (method_name != "rtn" && method_name != "search")
    fail("load_weights: method must be 'rtn' or 'search', got '", method_name, "'");
  const QuantMethod method = parse_quant_method(method_name);
  py::object items =
      py::isinstance<py::dict>(named_tensors) ? named_tensors.attr("items")() : named_tensors;
  std::vector<py::array> keep;  // owns contiguous copies while the C++ side reads them
  std::vector<TensorUpdate> updates;
  for (const py::handle& item : py::iter(items)) {
    py::tuple pair = py::reinterpret_borrow<py::object>(item).cast<py::tuple>();
    if (pair.size() != 2)
      throw py::type_error("load_weights: expected (name, array) pairs or a dict");
    const std::string name = pair[0].cast<std::string>();
    py::array a = py::array::ensure(pair[1], py::array::c_style);
    if (!a) throw py::type_error(cat("load_weights: tensor '", name, "' is not a numpy array"));
    TensorUpdate u{.name = name, .dtype = dtype_of(a, name), .data = a.data()};
    for (py::ssize_t i = 0; i < a.ndim(); ++i) u.shape.push_back(a.shape(i));
    updates.push_back(std::move(u));
    keep.push_back(std::move(a));
  }
  py::gil_scoped_release release;
  std::unique_lock guard(self.lock);  // no generate/score may run while matrices are swapped
  self.use_threads();
  update_weights(*self.m.net, updates, method);  // validates everything before the first change
}

}  // namespace

void bind_weights(py::class_<PyModel>& cls) {
  cls.def("load_weights", &load_weights, py::arg("named_tensors"), py::arg("method") = "rtn",
          "Replaces weights in place from a dict or iterable of (Hugging Face name, numpy array). "
          "Arrays: "
          "float32, float16, or uint16 holding bfloat16 bits (ml_dtypes.bfloat16 too). Quantized "
          "modules are "
          "re-quantized with their own bits/group size (method 'rtn': MLX round-to-nearest, as "
          "`qlm convert "
          "--method rtn`; 'search': qlm's scale search, uniform importance); float modules keep "
          "their dtype; "
          "norms and biases are rounded to their loaded dtype. Every name, shape, dtype and value "
          "is checked "
          "before anything changes: an error leaves the model as it was.");
}

}  // namespace qlm::py_binding

// qlm.Model construction, properties, tokenize/detokenize and teacher-forced score.
#include "py_model.h"

#include <omp.h>
#include <pybind11/stl.h>

#include <mutex>

#include "base/cpu_info.h"
#include "base/error.h"
#include "runtime/score.h"

namespace qlm::py_binding {

PyModel::PyModel(const std::string& path, std::optional<int> threads_opt,
                 const std::string& kv_cache_dtype) {
  if (threads_opt && *threads_opt < 1) fail("threads: must be at least 1, got ", *threads_opt);
  threads = threads_opt.value_or(physical_cores());
  const KvDtype kv = parse_kv_dtype(kv_cache_dtype, "kv_cache_dtype");
  py::gil_scoped_release release;
  m = load_model(path);
  m.net->set_kv_dtype(kv);
}

void PyModel::use_threads() const {
  omp_set_num_threads(threads);
}

namespace {

py::object quantization(const ModelConfig& c) {
  if (!c.quantization) return py::none();
  py::dict d;
  d["bits"] = c.quantization->defaults.bits;
  d["group_size"] = c.quantization->defaults.group_size;
  return d;
}

py::dict config_dict(const ModelConfig& c) {
  py::dict d;
  d["architecture"] = c.architecture;
  d["model_type"] = c.model_type;
  d["hidden_size"] = c.hidden_size;
  d["intermediate_size"] = c.intermediate_size;
  d["num_layers"] = c.num_layers;
  d["num_heads"] = c.num_heads;
  d["num_kv_heads"] = c.num_kv_heads;
  d["head_dim"] = c.head_dim;
  d["vocab_size"] = c.vocab_size;
  d["max_position_embeddings"] = c.max_position_embeddings;
  d["rms_norm_eps"] = c.rms_norm_eps;
  d["rope_theta"] = c.rope_theta;
  d["tie_word_embeddings"] = c.tie_word_embeddings;
  d["attention_bias"] = c.attention_bias;
  d["dtype"] = c.dtype;
  d["bos_token_id"] =
      c.bos_token_id ? py::object(py::int_(*c.bos_token_id)) : py::object(py::none());
  d["eos_token_ids"] = c.eos_token_ids;
  d["quantization"] = quantization(c);
  auto opt = [](const auto& v) { return v ? py::cast(*v) : py::object(py::none()); };
  d["gen_temperature"] = opt(c.gen_temperature);
  d["gen_top_p"] = opt(c.gen_top_p);
  d["gen_top_k"] = opt(c.gen_top_k);
  d["gen_repetition_penalty"] = opt(c.gen_repetition_penalty);
  return d;
}

std::vector<int> to_ids(const py::handle& h, const char* what) {
  if (py::isinstance<py::str>(h) || !py::isinstance<py::sequence>(h))
    throw py::type_error(cat(what, ": expected a list of token ids"));
  return h.cast<std::vector<int>>();
}

// All pairs in one batched teacher-forced pass (pairs sharing a prompt prefill it once), without
// the GIL. score_completions checks each pair (a prompt, every id in the vocabulary), naming it.
std::vector<std::vector<double>> score_pairs(const PyModel& self, const std::vector<std::vector<int>>& prompts,
                                             const std::vector<std::vector<int>>& completions) {
  py::gil_scoped_release release;
  std::shared_lock guard(self.lock);
  self.use_threads();
  return score_completions(*self.m.net, prompts, completions);
}

py::dict score_dict(const std::vector<double>& lp) {
  double sum = 0;
  for (double v : lp) sum += v;
  py::dict d;
  d["logprobs"] = lp;
  d["sum"] = sum;
  return d;
}

py::object score(const PyModel& self, const py::object& prompt_ids,
                 const py::object& completion_ids) {
  if (!py::isinstance<py::sequence>(prompt_ids) || py::isinstance<py::str>(prompt_ids))
    throw py::type_error("score: prompt_ids must be a list of token ids or a list of such lists");
  py::sequence prompts = prompt_ids;
  const bool batched = py::len(prompts) > 0 && py::isinstance<py::sequence>(prompts[0]);
  if (!batched) {
    const auto lps = score_pairs(self, {to_ids(prompt_ids, "prompt_ids")},
                                 {to_ids(completion_ids, "completion_ids")});
    return score_dict(lps[0]);
  }
  py::sequence completions = completion_ids;
  if (py::len(completions) != py::len(prompts))
    fail("score: ", py::len(prompts), " prompts but ", py::len(completions), " completions");
  std::vector<std::vector<int>> ps, cs;
  for (size_t i = 0; i < py::len(prompts); ++i) {
    ps.push_back(to_ids(prompts[i], "prompt_ids[i]"));
    cs.push_back(to_ids(completions[i], "completion_ids[i]"));
  }
  py::list out;
  for (const auto& lp : score_pairs(self, ps, cs)) out.append(score_dict(lp));
  return out;
}

}  // namespace

void bind_model(py::module_& mod) {
  py::class_<PyModel> cls(mod, "Model",
                          "A model folder (Hugging Face or MLX layout, float or quantized).");
  cls.def(py::init<const std::string&, std::optional<int>, const std::string&>(), py::arg("path"),
          py::arg("threads") = py::none(), py::arg("kv_cache_dtype") = "f32",
          "Loads a model folder. threads: OpenMP workers for this model's calls (default: physical "
          "cores). kv_cache_dtype: 'f32' (exact, default) or 'f16' (half the KV memory).")
      .def_property_readonly("kv_cache_dtype",
                             [](const PyModel& s) { return kv_dtype_name(s.m.net->kv_dtype()); })
      .def_property_readonly("vocab_size",
                             [](const PyModel& s) { return s.m.net->config().vocab_size; })
      .def_property_readonly("config",
                             [](const PyModel& s) { return config_dict(s.m.net->config()); })
      .def_property_readonly(
          "quantization", [](const PyModel& s) { return quantization(s.m.net->config()); },
          "None for a float model, else {bits, group_size} (the defaults of config.json)")
      .def_property_readonly("stop_ids", [](const PyModel& s) { return s.m.stop_ids; })
      .def_property_readonly("has_chat_template",
                             [](const PyModel& s) { return s.m.chat_template != nullptr; })
      .def_readonly("threads", &PyModel::threads)
      .def(
          "tokenize",
          [](const PyModel& s, const std::string& text, bool add_bos) {
            const Tokenizer& t = s.m.require_tokenizer("tokenize");
            std::vector<int> ids;
            if (add_bos && t.add_bos() && t.bos_id()) ids.push_back(*t.bos_id());
            std::vector<int> rest = t.encode(text);
            ids.insert(ids.end(), rest.begin(), rest.end());
            return ids;
          },
          py::arg("text"), py::arg("add_bos") = false,
          "Token ids of text (special tokens in the text are recognised); add_bos prepends BOS "
          "when the "
          "tokenizer adds one, as a plain-text prompt does.")
      .def(
          "detokenize",
          [](const PyModel& s, const std::vector<int>& ids, bool skip_special) {
            return py::bytes(s.m.require_tokenizer("detokenize").decode(ids, skip_special))
                .attr("decode")("utf-8", "replace");
          },
          py::arg("ids"), py::arg("skip_special") = false)
      .def("score", &score, py::arg("prompt_ids"), py::arg("completion_ids"),
           "Teacher-forced log p(completion | prompt) per token. Lists of lists -> a list of "
           "{logprobs, sum}, all pairs batched in one pass (pairs with the same prompt prefill "
           "it once); one pair of lists -> one dict. Releases the GIL.");
  bind_generate(cls);
  bind_weights(cls);
}

}  // namespace qlm::py_binding

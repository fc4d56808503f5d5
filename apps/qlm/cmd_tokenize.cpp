// qlm tokenize: text -> token ids (and pieces with --verbose), with the model's tokenizer.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "text_input.h"

namespace qlm::cli {

namespace {
struct TokenizeFlags {
  std::string model, text, file;
  bool verbose = false, json = false, no_special = false, no_bos = false;
};

void run_tokenize(const TokenizeFlags& f) {
  auto tok = load_tokenizer_for(f.model, "tokenize");
  std::string text = f.file.empty() ? f.text : read_text_file(f.file, "--file");
  std::vector<int> ids;
  if (!f.no_bos && tok->add_bos() && tok->bos_id()) ids.push_back(*tok->bos_id());
  std::vector<int> body = tok->encode(text, !f.no_special);
  ids.insert(ids.end(), body.begin(), body.end());
  if (f.json) {
    nlohmann::json j = {{"ids", ids}};
    if (f.verbose) {
      nlohmann::json pieces = nlohmann::json::array();
      for (int id : ids) pieces.push_back(tok->piece(id));
      j["pieces"] = pieces;
    }
    std::cout << j.dump() << std::endl;
    return;
  }
  if (f.verbose) {
    for (int id : ids) std::printf("%8d  %s\n", id, nlohmann::json(tok->piece(id)).dump().c_str());
    std::printf("%zu tokens\n", ids.size());
    return;
  }
  for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? ",%d" : "%d", ids[i]);
  std::printf("\n");
}
}  // namespace

void add_tokenize(CLI::App& app) {
  auto f = std::make_shared<TokenizeFlags>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Token ids of a text with the model's tokenizer");
  cmd->add_option("-m,--model", f->model, "Model folder (its tokenizer.json or vocab.json + merges.txt)")->required();
  cmd->add_option("text", f->text, "Text to tokenize");
  cmd->add_option("--file", f->file, "Read the text from this file instead");
  cmd->add_flag("--verbose,-v", f->verbose, "Show each token's piece");
  cmd->add_flag("--json", f->json, "JSON output");
  cmd->add_flag("--no-special", f->no_special, "Treat special-token strings (e.g. <|im_start|>) as plain text");
  cmd->add_flag("--no-bos", f->no_bos, "Do not prepend BOS even if the tokenizer adds one");
  cmd->callback([f] { run_tokenize(*f); });
}

}  // namespace qlm::cli

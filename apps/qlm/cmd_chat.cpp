// qlm chat: interactive multi-turn chat in the terminal with the model's chat template. The
// conversation's KV cache is kept between turns: each turn re-renders the conversation, keeps
// the cached prefix it shares with the new tokens and prefills only the rest.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "commands.h"
#include "runtime/generator.h"
#include "runtime/loaded_model.h"
#include "runtime/prompt.h"
#include "runtime/token_ids.h"

namespace qlm::cli {

namespace {
std::atomic<bool> g_interrupt{false};
extern "C" void on_sigint(int) { g_interrupt.store(true); }

struct ChatFlags {
  std::string model, system;
  int max_tokens = 1024, ctx = 8192;
};

void run_chat(const ChatFlags& f) {
  LoadedModel m = load_model(f.model);
  const Tokenizer& tok = m.require_tokenizer("chat");
  if (!m.chat_template) fail(f.model, ": the model has no chat template, which qlm chat needs");
  const ModelConfig& cfg = m.net->config();
  const int ctx = std::min(f.ctx, cfg.max_position_embeddings);
  KVCache cache(cfg, ctx, m.net->kv_dtype());
  ForwardScratch scratch = m.net->make_scratch(256);
  std::vector<int> cached;  // the tokens whose K/V are in the cache, in order
  std::string system = f.system;
  nlohmann::ordered_json history = nlohmann::ordered_json::array();

  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  const bool tty = ::isatty(STDIN_FILENO);
  std::fprintf(stderr, "qlm chat: /reset clears the conversation, /system TEXT sets the system prompt, /exit quits; "
                       "Ctrl-C stops an answer.\n");
  std::string line;
  while (true) {
    std::printf(tty ? "\n> " : "> ");
    std::fflush(stdout);
    g_interrupt.store(false);
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      history = nlohmann::ordered_json::array();
      std::printf("(conversation cleared)\n");
      continue;
    }
    if (line.rfind("/system", 0) == 0) {
      system = line.size() > 8 ? line.substr(8) : "";
      history = nlohmann::ordered_json::array();
      std::printf("(system prompt set; conversation cleared)\n");
      continue;
    }
    if (line.empty()) continue;
    history.push_back({{"role", "user"}, {"content", line}});
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
    for (const auto& msg : history) messages.push_back(msg);
    std::vector<int> ids = tok.encode(render_chat(m, messages, true), /*allow_special=*/true);
    if (static_cast<int>(ids.size()) + 1 >= ctx) {
      std::printf("(the conversation no longer fits the context of %d tokens: /reset)\n", ctx);
      history.erase(history.end() - 1);
      continue;
    }
    // Reuse the longest cached prefix; prefill only what follows it.
    const size_t keep = common_prefix(cached, ids, ids.size() - 1);
    cache.set_size(static_cast<int>(keep));
    cached.resize(keep);
    StreamDecoder decoder(tok, /*skip_special=*/true);
    std::string answer;
    auto on_token = [&](int id) {
      if (g_interrupt.load()) return false;
      if (std::find(m.stop_ids.begin(), m.stop_ids.end(), id) != m.stop_ids.end()) return true;
      std::string piece = decoder.push(id);
      answer += piece;
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    };
    GenerateStats st;
    const int budget = std::min(f.max_tokens, ctx - static_cast<int>(ids.size()) - 1);
    std::vector<int> out = generate_continue(*m.net, cache, scratch, std::span<const int>(ids).subspan(keep),
                                             GenerateParams{.max_new_tokens = budget, .stop_ids = m.stop_ids},
                                             nullptr, on_token, &st);
    std::string tail = decoder.flush();
    answer += tail;
    std::printf("%s\n", tail.c_str());
    if (g_interrupt.load()) std::printf("(stopped)\n");
    cached = ids;
    cached.insert(cached.end(), out.begin(), out.end());
    cached.resize(static_cast<size_t>(cache.size()));  // the last token was not run through the model
    history.push_back({{"role", "assistant"}, {"content", answer}});
    std::fprintf(stderr, "[%zu prompt tokens reused, %d prefilled, %d generated at %.1f tok/s]\n", keep,
                 st.prompt_tokens, st.generated_tokens, st.generated_tokens / std::max(st.decode_seconds, 1e-9));
  }
  std::printf("\n");
}
}  // namespace

void add_chat(CLI::App& app) {
  auto f = std::make_shared<ChatFlags>();
  CLI::App* cmd = app.add_subcommand("chat", "Interactive multi-turn chat in the terminal (the model's chat template)");
  cmd->add_option("-m,--model", f->model, "Model folder")->required();
  cmd->add_option("--system", f->system, "System prompt");
  cmd->add_option("--max-tokens", f->max_tokens, "Maximum tokens per answer")->capture_default_str();
  cmd->add_option("--ctx", f->ctx, "Context length for the conversation (KV cache size)")->capture_default_str();
  cmd->callback([f] { run_chat(*f); });
}

}  // namespace qlm::cli

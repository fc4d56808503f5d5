// Sampling flags; validate() (in the sampler) checks ranges and names the flag.
#include "sampling_flags.h"

namespace qlm::cli {

void add_sampling_flags(CLI::App* cmd, SamplingParams& p) {
  cmd->add_option("--temperature,--temp", p.temperature, "Sampling temperature; 0 = greedy (the default)")
      ->capture_default_str();
  cmd->add_option("--top-k", p.top_k, "Keep the k most likely tokens (0 = off)")->capture_default_str();
  cmd->add_option("--top-p", p.top_p, "Keep the smallest set with this much probability (1 = off)")->capture_default_str();
  cmd->add_option("--min-p", p.min_p, "Drop tokens below min_p x the top probability (0 = off)")->capture_default_str();
  cmd->add_option("--repetition-penalty", p.repetition_penalty, "Divide logits of seen tokens (1 = off)")
      ->capture_default_str();
  cmd->add_option("--presence-penalty", p.presence_penalty, "Subtract from logits of generated tokens (0 = off)")
      ->capture_default_str();
  cmd->add_option("--frequency-penalty", p.frequency_penalty, "Subtract per occurrence in the output (0 = off)")
      ->capture_default_str();
  cmd->add_option("--seed", p.seed, "Random seed (same seed, same output)")->capture_default_str();
}

}  // namespace qlm::cli

// validate(SamplingParams): range checks whose messages name the CLI flag at fault.
#include <cmath>

#include "base/error.h"
#include "sampler/sampler.h"

namespace qlm {

void validate(const SamplingParams& p) {
  // Written as !(ok) so that NaN fails every check.
  if (!(p.temperature >= 0.0f) || std::isinf(p.temperature))
    fail("--temperature: must be >= 0 and finite (got ", p.temperature, ")");
  if (p.top_k < 0) fail("--top-k: must be >= 0, 0 = off (got ", p.top_k, ")");
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) fail("--top-p: ", p.top_p, " is not in (0, 1]");
  if (!(p.min_p >= 0.0f && p.min_p < 1.0f)) fail("--min-p: ", p.min_p, " is not in [0, 1)");
  if (!(p.repetition_penalty > 0.0f) || std::isinf(p.repetition_penalty))
    fail("--repetition-penalty: must be > 0 and finite, 1 = off (got ", p.repetition_penalty, ")");
  if (!(p.presence_penalty >= -2.0f && p.presence_penalty <= 2.0f))
    fail("--presence-penalty: ", p.presence_penalty, " is not in [-2, 2]");
  if (!(p.frequency_penalty >= -2.0f && p.frequency_penalty <= 2.0f))
    fail("--frequency-penalty: ", p.frequency_penalty, " is not in [-2, 2]");
}

}  // namespace qlm

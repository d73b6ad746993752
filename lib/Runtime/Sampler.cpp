//===- Sampler.cpp - Next-token choice from logits ------------------------===//
#include "Sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

using namespace mlir::hymba;

int32_t Sampler::next(const float *logits, int64_t vocab) {
  if (opts.temperature <= 0.0f)
    return int32_t(std::max_element(logits, logits + vocab) - logits);

  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  int64_t keep = opts.topK > 0 ? std::min<int64_t>(opts.topK, vocab) : vocab;
  std::partial_sort(
      order.begin(), order.begin() + keep, order.end(),
      [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  order.resize(keep);

  std::vector<double> probs(keep);
  double maxLogit = logits[order[0]], sum = 0;
  for (int64_t i = 0; i < keep; ++i)
    sum += probs[i] =
        std::exp((logits[order[i]] - maxLogit) / opts.temperature);
  // Nucleus: the smallest prefix whose mass reaches top_p.
  double mass = 0;
  int64_t cut = keep;
  for (int64_t i = 0; i < keep; ++i) {
    mass += probs[i] / sum;
    if (mass >= opts.topP) {
      cut = i + 1;
      break;
    }
  }
  std::discrete_distribution<int64_t> pick(probs.begin(), probs.begin() + cut);
  return order[pick(rng)];
}

//===- Sampler.h - Next-token choice from logits ----------------*- C++ -*-===//
#ifndef HYMBA_RUNTIME_SAMPLER_H
#define HYMBA_RUNTIME_SAMPLER_H

#include <cstdint>
#include <random>

namespace mlir::hymba {

struct SamplingOptions {
  float temperature = 0.0f; // 0: greedy
  int topK = 0;             // 0: all tokens
  float topP = 1.0f;
  uint64_t seed = 0;
};

class Sampler {
public:
  explicit Sampler(const SamplingOptions &opts) : opts(opts), rng(opts.seed) {}
  int32_t next(const float *logits, int64_t vocab);

private:
  SamplingOptions opts;
  std::mt19937_64 rng;
};

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_SAMPLER_H

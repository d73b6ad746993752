//===- Perplexity.cpp - exe --perplexity FILE -----------------------------===//
//
// The runtime's quality measurement: later work (quantization, bf16 compute)
// reports what it costs as a change of this number. The loss is summed in
// double from the model's float32 logits.
//
//===----------------------------------------------------------------------===//

#include "Perplexity.h"
#include "Session.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace mlir::hymba;

namespace {
/// -log softmax(row)[target], in double.
double negLogProb(const float *row, int64_t vocab, int32_t target) {
  float peak = *std::max_element(row, row + vocab);
  double sum = 0;
  for (int64_t v = 0; v < vocab; ++v)
    sum += std::exp(double(row[v]) - peak);
  return std::log(sum) + peak - double(row[target]);
}
} // namespace

bool mlir::hymba::runPerplexity(const ModelFile &model,
                                const Tokenizer &tokenizer,
                                const std::string &path, int64_t ctx,
                                std::string &error) {
  if (ctx < 2) {
    error = "--ctx must be at least 2 (a BOS and one scored token)";
    return false;
  }
  // stdio, not ifstream: reading a directory through a filebuf throws.
  std::string text;
  FILE *f = std::fopen(path.c_str(), "rb");
  bool readOk = f != nullptr;
  int err = errno;
  char buf[1 << 16];
  while (readOk) {
    size_t n = std::fread(buf, 1, sizeof(buf), f);
    text.append(buf, n);
    if (n < sizeof(buf)) {
      readOk = !std::ferror(f);
      err = errno;
      break;
    }
  }
  if (f)
    std::fclose(f);
  if (!readOk) {
    error = path + ": cannot read it (" + std::strerror(err) + ")";
    return false;
  }
  std::vector<int32_t> ids = tokenizer.encode(text);
  if (ids.empty()) {
    error = path + ": the text has no tokens to score";
    return false;
  }
  int32_t bos = int32_t(model.meta("bos_token_id"));
  int64_t step = ctx - 1, vocab = 0;
  double total = 0;
  size_t scored = 0, chunkIndex = 0;
  std::vector<float> logits;
  for (size_t start = 0; start < ids.size(); start += size_t(step)) {
    size_t end = std::min(ids.size(), start + size_t(step));
    std::vector<int32_t> input{bos};
    input.insert(input.end(), ids.begin() + start, ids.begin() + end - 1);
    Session session(model);
    if (!session.start(error))
      return false;
    if (int64_t(input.size()) > session.capacity()) {
      error = "--ctx " + std::to_string(ctx) + " is more than the " +
              std::to_string(session.capacity()) +
              " tokens this executable holds";
      return false;
    }
    if (!session.feed(input, logits, /*allRows=*/true, error))
      return false;
    vocab = session.vocab();
    for (size_t j = start; j < end; ++j)
      total += negLogProb(logits.data() + (j - start) * vocab, vocab, ids[j]);
    scored += end - start;
    std::printf("[%zu] %.4f\n", ++chunkIndex, std::exp(total / scored));
    std::fflush(stdout);
  }
  std::printf("perplexity: %.6f over %zu tokens in chunks of %lld\n",
              std::exp(total / scored), scored, (long long)ctx);
  return true;
}

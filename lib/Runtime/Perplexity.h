//===- Perplexity.h - exe --perplexity FILE ---------------------*- C++ -*-===//
#ifndef HYMBA_RUNTIME_PERPLEXITY_H
#define HYMBA_RUNTIME_PERPLEXITY_H

#include "ModelFile.h"
#include "Tokenizer.h"

#include <cstdint>
#include <string>

namespace mlir::hymba {

/// Scores the text of `path` the way llama.cpp's llama-perplexity does:
/// the whole text is tokenized (no BOS) and cut into chunks of ctx-1 tokens;
/// each chunk runs as a fresh sequence after a BOS and every one of its
/// tokens is scored. Prints the running perplexity after each chunk and the
/// final one (exp of the mean negative log-likelihood) to stdout.
/// python/hymba_tools/perplexity.py computes the same number with PyTorch.
bool runPerplexity(const ModelFile &model, const Tokenizer &tokenizer,
                   const std::string &path, int64_t ctx, std::string &error);

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_PERPLEXITY_H

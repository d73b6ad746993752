//===- ModelConfig.h - Hymba config.json, validated -------------*- C++ -*-===//
//
// The inference-relevant content of a HuggingFace Hymba config.json, with
// HF's defaults applied and every derived size computed once (SPEC.md 1).
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_IMPORT_MODELCONFIG_H
#define HYMBA_IMPORT_MODELCONFIG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::hymba {

struct ModelConfig {
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKVHeads = 0;
  int64_t headDim = 0;  // q/k head dim
  int64_t vHeadDim = 0; // d_inner / num_heads
  int64_t dInner = 0;   // SSM channels = attention output width
  int64_t dtRank = 0;
  int64_t dState = 0;
  int64_t dConv = 0;
  int64_t numMeta = 0;
  double rmsEps = 1e-6;
  std::optional<int64_t> slidingWindow; // none: every layer global
  std::vector<int64_t> globalLayers;
  std::vector<std::vector<int64_t>> kvGroups;
  bool rope = true;
  double ropeBase = 10000.0; // effective base, NTK applied
  bool tiedEmbeddings = true;
  int64_t maxPositions = 0;
  int64_t bosTokenId = 1;
  int64_t eosTokenId = 2;

  /// Parses and validates `text`, the contents of `path` (used in messages).
  static llvm::Expected<ModelConfig> parse(llvm::StringRef text,
                                           llvm::StringRef path);
  static llvm::Expected<ModelConfig> load(llvm::StringRef path);

  bool isGlobal(int64_t layer) const;
  /// The layer whose keys and values `layer` attends with (itself for owners).
  int64_t kvSource(int64_t layer) const;
  bool ownsKV(int64_t layer) const { return kvSource(layer) == layer; }
  /// The last layer of `layer`'s KV group (itself when it shares nothing).
  int64_t lastKVReader(int64_t owner) const;
  int64_t inProjRows(int64_t layer) const;
  int64_t qWidth() const { return numHeads * headDim; }
  int64_t kWidth() const { return numKVHeads * headDim; }
  int64_t vWidth() const { return numKVHeads * vHeadDim; }
};

} // namespace mlir::hymba

#endif // HYMBA_IMPORT_MODELCONFIG_H

//===- ModelBuilder.h - Build Hymba IR for a model config -------*- C++ -*-===//
//
// Emits the Hymba-dialect module for a validated config. The module has
//   @hymba_start(params, state, ids, n) -> logits   first chunk: meta tokens
//                                                    are prepended at pos 0
//   @hymba_continue(params, state, ids, n, pos) -> logits
//                                                    any later chunk, rows at
//                                                    positions pos.. (>= M)
// where the logits are those of the chunk's last min(n, tokens) rows,
// and a private @hymba_layers they share. Weights are hymba.weight references
// into `params`; KV caches, conv windows and SSM states are
// hymba.state_buffer references into `state`.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_IMPORT_MODELBUILDER_H
#define HYMBA_IMPORT_MODELBUILDER_H

#include "hymba/Import/ModelConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace mlir::hymba {

/// How weights are stored in the executable. INT8 and INT4 quantize the
/// projection weights (and the embedding table) per group along their
/// input dimension and keep every other tensor in f32.
enum class WeightType { F32, BF16, INT8, INT4 };

struct BuildOptions {
  /// Element type the weights are stored with in the executable.
  WeightType weightType = WeightType::F32;
  /// Inputs per quantization scale (INT8 and INT4 only).
  int64_t quantGroup = 32;
  /// Tokens (after the meta prefix) a sequence may hold; sizes global caches.
  int64_t maxSeqLen = 0;
  /// Each decoder layer a function of its own (@hymba_layer_<i>, called by
  /// @hymba_layers), which lets the CPU pipeline lower one body per kind of
  /// layer. Off: every layer inline in @hymba_layers (the CUDA target, whose
  /// host code waits for the GPU stream wherever a function returns).
  bool layerFunctions = true;
};

mlir::OwningOpRef<mlir::ModuleOp> buildModel(mlir::MLIRContext &ctx,
                                             const ModelConfig &config,
                                             const BuildOptions &options);

/// Names of the exported entry points.
inline constexpr const char *kStartFn = "hymba_start";
inline constexpr const char *kContinueFn = "hymba_continue";

} // namespace mlir::hymba

#endif // HYMBA_IMPORT_MODELBUILDER_H

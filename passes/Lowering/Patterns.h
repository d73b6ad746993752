//===- Patterns.h - Stateful Hymba ops to loops -----------------*- C++ -*-===//
//
// One populate function per op family. Each file under passes/Lowering/
// holds the patterns of one family; hymba-lower-stateful-to-loops applies
// them all under a ConversionTarget on which these ops are illegal, so an
// op no pattern lowers is an error of the pass, not a leftover that fails
// later in LLVM translation.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_PASSES_LOWERING_PATTERNS_H
#define HYMBA_PASSES_LOWERING_PATTERNS_H

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::hymba {

/// hymba.state_buffer -> memref.view of the state arena (StateViews.cpp).
void populateStateViewLoweringPatterns(RewritePatternSet &patterns);

/// hymba.attention -> scf.parallel over (row, head) items (CPU) or (row,
/// head, value column) items (GPU). `vectorWidth`: f32 lanes of the CPU
/// form's row vectors (0: scalar) (Attention.cpp).
void populateAttentionLoweringPatterns(RewritePatternSet &patterns,
                                       KernelForm form, int64_t vectorWidth);

/// hymba.kv_cache_write -> one scf.parallel copy into the cache rows
/// (KVCache.cpp).
void populateKVCacheLoweringPatterns(RewritePatternSet &patterns);

/// hymba.causal_conv1d -> the conv and the conv-window update: CPU form
/// with `vectorWidth` > 1, items of that many channels carrying the window
/// in registers; else (and for the channels past the last full block) one
/// item per element (Conv1d.cpp).
void populateConv1dLoweringPatterns(RewritePatternSet &patterns,
                                    KernelForm form, int64_t vectorWidth);

/// hymba.selective_scan -> the channel-tile loop nest (CPU, small static
/// channel counts) or one register-state channel per item (Scan.cpp).
void populateScanLoweringPatterns(RewritePatternSet &patterns, KernelForm form);

/// hymba.parallel_branches -> one scf.parallel running both branches
/// (ParallelBranches.cpp).
void populateParallelBranchesLoweringPatterns(RewritePatternSet &patterns,
                                              KernelForm form,
                                              int64_t vectorWidth);

/// The ops the patterns above lower: illegal after the pass.
void addStatefulOpsIllegal(ConversionTarget &target);

} // namespace mlir::hymba

#endif // HYMBA_PASSES_LOWERING_PATTERNS_H

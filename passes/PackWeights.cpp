//===- PackWeights.cpp - Store projection weights in panels ---------------===//
//
// The projections read their weights in the order the generated kernel
// wants only if the payload stores them that way. The weights are known at
// compile time, so the layout is chosen here, once: every weight that only
// feeds projections (and the embedding lookup that may share the output
// head's table) gets the #hymba.panels encoding, and hymba-compile writes it
// panel-major into the executable.
//
//===----------------------------------------------------------------------===//

#include "dialects/hymba/HymbaOps.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAPACKWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;
using namespace mlir::hymba;

namespace {
/// True if `use` reads its operand as the [out, in] weight of a projection,
/// or as an embedding table (a row lookup works in any layout). The values
/// and scales of a quantized weight qualify when every use of the
/// dequantized weight does.
bool readsAsProjectionWeight(OpOperand &use) {
  Operation *user = use.getOwner();
  Value v = use.get();
  if (auto dequantize = dyn_cast<DequantizeOp>(user))
    return llvm::all_of(dequantize->getUses(), readsAsProjectionWeight);
  if (auto linear = dyn_cast<LinearOp>(user))
    return v == linear.getWeight() && v != linear.getInput();
  if (auto mlp = dyn_cast<SwiGLUMLPOp>(user))
    return v != mlp.getInput();
  if (auto merge = dyn_cast<HybridMergeOp>(user))
    return v == merge.getOutProj();
  if (auto embed = dyn_cast<EmbedOp>(user))
    return v == embed.getTable();
  return false;
}

struct PackWeightsPass : hymba::impl::HymbaPackWeightsBase<PackWeightsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (panel <= 0) {
      getOperation()->emitError("hymba-pack-weights: panel must be positive");
      return signalPassFailure();
    }
    if (interleave <= 0 || int8Interleave <= 0) {
      getOperation()->emitError(
          "hymba-pack-weights: interleave must be positive");
      return signalPassFailure();
    }
    // One decision per checkpoint tensor: every op naming it must agree,
    // since they share one slot in the parameter buffer.
    llvm::MapVector<StringRef, SmallVector<WeightOp>> byName;
    llvm::StringSet<> unpackable, quantized;
    bool failed = false;
    getOperation()->walk([&](WeightOp op) {
      byName[op.getName()].push_back(op);
      auto type = cast<RankedTensorType>(op.getResult().getType());
      bool ok = type.getRank() == 2 && !type.getEncoding() &&
                llvm::all_of(op->getUses(), readsAsProjectionWeight);
      if (!ok)
        unpackable.insert(op.getName());
      if (llvm::any_of(op->getUsers(),
                       [](Operation *u) { return isa<DequantizeOp>(u); }))
        quantized.insert(op.getName());
      if (ok && panel % 2 != 0 && type.getElementType().isInteger(4)) {
        op.emitOpError("holds i4 values, which panels pack two per byte: "
                       "the panel width must be even, got ")
            << int64_t(panel);
        failed = true;
      }
    });
    if (failed)
      return signalPassFailure();
    auto plain = PanelsAttr::get(&getContext(), panel, 1);
    // Only float weights are interleaved: the quantized kernels read their
    // values and scales in plain panels.
    auto interleaved = PanelsAttr::get(&getContext(), panel, interleave);
    // int8 and int4 values in runs of int8Interleave inputs, where every run
    // lies in one group: K and the group size are multiples of it.
    auto int8Encoding = [&](WeightOp op, RankedTensorType type) {
      if (int8Interleave == 1 || op.getScales() ||
          !(type.getElementType().isInteger(8) ||
            type.getElementType().isInteger(4)) ||
          type.getDimSize(1) % int8Interleave != 0)
        return plain;
      for (Operation *user : op->getUsers())
        if (auto dequantize = dyn_cast<DequantizeOp>(user);
            !dequantize || dequantize.getGroupSize() % int8Interleave != 0)
          return plain;
      return PanelsAttr::get(&getContext(), panel, int8Interleave);
    };
    for (auto &[name, ops] : byName) {
      if (unpackable.contains(name))
        continue;
      for (WeightOp op : ops) {
        auto type = cast<RankedTensorType>(op.getResult().getType());
        auto encoding =
            quantized.contains(name) ? int8Encoding(op, type) : interleaved;
        op.getResult().setType(RankedTensorType::get(
            type.getShape(), type.getElementType(), encoding));
      }
    }
  }
};
} // namespace

//===- AssignBufferLayout.cpp - Offsets for named weights and state -------===//
#include "dialects/hymba/HymbaOps.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAASSIGNBUFFERLAYOUT
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;
using namespace mlir::hymba;

namespace {
constexpr int64_t kAlignment = 64;

/// Bytes of a slot: a weight's storage (panel padding included), or a
/// state buffer's elements.
int64_t byteSize(ShapedType type) {
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return storageBytes(tensor);
  return type.getNumElements() *
         static_cast<int64_t>(type.getElementTypeBitWidth() / 8);
}

/// Hands out aligned slots, one per distinct name (a quantized tensor's
/// scales have their own), in order of first request.
class SlotAllocator {
public:
  FailureOr<int64_t> slotFor(Operation *op, const std::string &name,
                             ShapedType type) {
    auto [it, inserted] = slots.try_emplace(name, Slot{type, end});
    if (inserted) {
      end += (byteSize(type) + kAlignment - 1) / kAlignment * kAlignment;
      return it->second.offset;
    }
    if (it->second.type != type)
      return op->emitOpError()
             << "uses '" << name << "' as " << type
             << " but an earlier use has type " << it->second.type;
    return it->second.offset;
  }
  int64_t totalBytes() const { return end; }

private:
  struct Slot {
    ShapedType type;
    int64_t offset;
  };
  llvm::StringMap<Slot> slots;
  int64_t end = 0;
};

struct AssignBufferLayoutPass
    : hymba::impl::HymbaAssignBufferLayoutBase<AssignBufferLayoutPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SlotAllocator params, state;
    Builder b(module.getContext());
    WalkResult result = module.walk([&](Operation *op) {
      FailureOr<int64_t> offset = failure();
      if (auto w = dyn_cast<WeightOp>(op)) {
        offset = params.slotFor(op, w.getSlotName(), w.getResult().getType());
      } else if (auto s = dyn_cast<StateBufferOp>(op)) {
        offset = state.slotFor(op, s.getName().str(), s.getResult().getType());
      } else {
        return WalkResult::advance();
      }
      if (failed(offset))
        return WalkResult::interrupt();
      op->setAttr("offset", b.getI64IntegerAttr(*offset));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    auto *dialect = getContext().getLoadedDialect<HymbaDialect>();
    dialect->getParamsBytesAttrHelper().setAttr(
        module, b.getI64IntegerAttr(params.totalBytes()));
    dialect->getStateBytesAttrHelper().setAttr(
        module, b.getI64IntegerAttr(state.totalBytes()));
  }
};
} // namespace

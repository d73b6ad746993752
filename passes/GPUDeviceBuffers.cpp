//===- GPUDeviceBuffers.cpp - Model buffers live in GPU memory ------------===//
//
// After kernel outlining the host side of the model only allocates, launches
// and frees. This pass moves the model's buffers to device memory and checks
// that the host never dereferences one, which is what lets the runtime queue
// all work on one stream without synchronizing after each launch.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAGPUDEVICEBUFFERS
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;

namespace {
/// The buffer a memref value views (through views, casts and metadata).
Value rootOf(Value v) {
  while (Value source = hymba::viewedBuffer(v))
    v = source;
  return v;
}

bool onHost(Operation *op) {
  return !op->getParentOfType<gpu::GPUModuleOp>() &&
         !op->getParentOfType<gpu::LaunchOp>();
}

/// Functions that launch kernels, directly or through calls.
DenseSet<Operation *> modelFunctions(ModuleOp module) {
  DenseSet<Operation *> model;
  bool changed = true;
  while (changed) {
    changed = false;
    module.walk([&](func::FuncOp f) {
      if (model.contains(f))
        return;
      WalkResult r = f.walk([&](Operation *op) {
        if (isa<gpu::LaunchFuncOp>(op))
          return WalkResult::interrupt();
        if (auto call = dyn_cast<func::CallOp>(op))
          if (model.contains(module.lookupSymbol(call.getCallee())))
            return WalkResult::interrupt();
        return WalkResult::advance();
      });
      if (r.wasInterrupted()) {
        model.insert(f);
        changed = true;
      }
    });
  }
  return model;
}

struct GPUDeviceBuffersPass
    : hymba::impl::HymbaGPUDeviceBuffersBase<GPUDeviceBuffersPass> {
  DenseSet<Operation *> model;

  /// Whether a value (or a view of it) reaches a kernel, another model
  /// function or a return: the model's data. Host bookkeeping (the
  /// ownership flags of buffer deallocation) reaches none of these.
  bool isModelData(Value v) {
    for (Operation *user : v.getUsers()) {
      if (isa<gpu::LaunchFuncOp, func::ReturnOp>(user))
        return true;
      if (auto call = dyn_cast<func::CallOp>(user)) {
        if (model.contains(getOperation().lookupSymbol(call.getCallee())))
          return true;
        continue;
      }
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        if (view.getViewSource() == v && isModelData(view->getResult(0)))
          return true;
      if (auto meta = dyn_cast<memref::ExtractStridedMetadataOp>(user))
        if (isModelData(meta.getBaseBuffer()))
          return true;
    }
    return false;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    model = modelFunctions(module);
    DenseSet<Value> device;
    SmallVector<memref::AllocOp> allocs;
    for (Operation *f : model) {
      for (Value arg : cast<func::FuncOp>(f).getArguments())
        if (isa<MemRefType>(arg.getType()))
          device.insert(arg);
      f->walk([&](Operation *op) {
        auto a = dyn_cast<memref::AllocOp>(op);
        if (a && onHost(a) && isModelData(a.getResult()))
          allocs.push_back(a);
        // What a model function returns is model data too.
        if (auto call = dyn_cast<func::CallOp>(op))
          if (model.contains(module.lookupSymbol(call.getCallee())))
            for (Value r : call.getResults())
              if (isa<MemRefType>(r.getType()))
                device.insert(r);
      });
    }
    for (memref::AllocOp a : allocs) {
      OpBuilder b(a);
      auto gpuAlloc = gpu::AllocOp::create(
          b, a.getLoc(), a.getType(), /*asyncToken=*/Type(),
          /*asyncDependencies=*/ValueRange{}, a.getDynamicSizes(),
          a.getSymbolOperands(), /*hostShared=*/UnitAttr());
      a.replaceAllUsesWith(gpuAlloc.getMemref());
      a.erase();
      device.insert(gpuAlloc.getMemref());
    }

    // The host never touches device memory.
    bool ok = true;
    SmallVector<memref::DeallocOp> deallocs;
    for (Operation *f : model)
      f->walk([&](Operation *op) {
        if (!onHost(op))
          return;
        if (auto d = dyn_cast<memref::DeallocOp>(op)) {
          if (device.contains(rootOf(d.getMemref())))
            deallocs.push_back(d);
          return;
        }
        auto effects = dyn_cast<MemoryEffectOpInterface>(op);
        if (!effects || isa<gpu::GPUDialect>(op->getDialect()))
          return;
        for (Value operand : op->getOperands()) {
          if (!isa<MemRefType>(operand.getType()) ||
              !device.contains(rootOf(operand)))
            continue;
          if (effects.getEffectOnValue<MemoryEffects::Read>(operand) ||
              effects.getEffectOnValue<MemoryEffects::Write>(operand)) {
            op->emitOpError("accesses device memory from host code; every "
                            "access to model buffers must be inside a kernel");
            ok = false;
          }
        }
      });
    if (!ok)
      return signalPassFailure();

    // Synchronous here; gpu-async-region chains them on the stream.
    for (memref::DeallocOp d : deallocs) {
      OpBuilder b(d);
      gpu::DeallocOp::create(b, d.getLoc(), Type(), ValueRange{},
                             d.getMemref());
      d.erase();
    }
  }
};
} // namespace

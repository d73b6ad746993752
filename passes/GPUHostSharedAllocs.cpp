//===- GPUHostSharedAllocs.cpp - Buffers both host and kernels can reach --===//
//
// After the parallel loops become GPU kernels, the host code still creates
// buffers with memref.alloc (malloc), which kernels cannot dereference. This
// pass turns host-side allocations into gpu.alloc host_shared (CUDA managed
// memory) and their deallocations into gpu.dealloc, so every buffer the
// model code creates is valid on both sides. The sequential glue that stays
// on the host (cache writes, window updates) then reads and writes the same
// memory the kernels use.
//
//===----------------------------------------------------------------------===//

#include "hymba/Passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAGPUHOSTSHAREDALLOCS
#include "hymba/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;

namespace {
struct GPUHostSharedAllocsPass
    : hymba::impl::HymbaGPUHostSharedAllocsBase<GPUHostSharedAllocsPass> {
  void runOnOperation() override {
    SmallVector<memref::AllocOp> allocs;
    SmallVector<memref::DeallocOp> deallocs;
    getOperation()->walk([&](Operation *op) {
      // Kernel bodies keep their own (thread-local) allocations.
      if (op->getParentOfType<gpu::GPUModuleOp>() ||
          op->getParentOfType<gpu::LaunchOp>())
        return;
      if (auto a = dyn_cast<memref::AllocOp>(op))
        allocs.push_back(a);
      else if (auto d = dyn_cast<memref::DeallocOp>(op))
        deallocs.push_back(d);
    });
    for (memref::AllocOp a : allocs) {
      OpBuilder b(a);
      auto shared = gpu::AllocOp::create(
          b, a.getLoc(), a.getType(), /*asyncToken=*/Type(),
          /*asyncDependencies=*/ValueRange{}, a.getDynamicSizes(),
          a.getSymbolOperands(), /*hostShared=*/b.getUnitAttr());
      a.replaceAllUsesWith(shared.getMemref());
      a.erase();
    }
    // gpu-to-llvm lowers only the asynchronous dealloc: free on a fresh
    // stream and wait for it.
    for (memref::DeallocOp d : deallocs) {
      OpBuilder b(d);
      Location loc = d.getLoc();
      auto tokenType = gpu::AsyncTokenType::get(b.getContext());
      Value ready =
          gpu::WaitOp::create(b, loc, tokenType, ValueRange{}).getAsyncToken();
      Value freed = gpu::DeallocOp::create(b, loc, tokenType, ValueRange{ready},
                                           d.getMemref())
                        .getAsyncToken();
      gpu::WaitOp::create(b, loc, Type(), ValueRange{freed});
      d.erase();
    }
  }
};
} // namespace

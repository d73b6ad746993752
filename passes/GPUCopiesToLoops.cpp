//===- GPUCopiesToLoops.cpp - Buffer copies become kernels ----------------===//
//
// Bufferization materialises some tensor ops as memref.copy (the meta rows
// and the chunk written into one buffer by hymba.prepend_meta, for one). On
// the host a memref.copy is a memcpy through host pointers, which device
// buffers do not have. This pass turns each copy outside kernels into an
// scf.parallel element copy, which the GPU mapping makes a kernel like any
// other loop.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAGPUCOPIESTOLOOPS
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;

namespace {
struct GPUCopiesToLoopsPass
    : hymba::impl::HymbaGPUCopiesToLoopsBase<GPUCopiesToLoopsPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp copy) {
      if (!copy->getParentOfType<gpu::LaunchOp>() &&
          !copy->getParentOfType<gpu::GPUModuleOp>())
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      ImplicitLocOpBuilder b(copy.getLoc(), copy);
      auto type = cast<MemRefType>(copy.getSource().getType());
      Value c0 = arith::ConstantIndexOp::create(b, 0);
      Value c1 = arith::ConstantIndexOp::create(b, 1);
      SmallVector<Value> lbs, ubs, steps;
      for (int64_t d = 0; d < type.getRank(); ++d) {
        lbs.push_back(c0);
        ubs.push_back(memref::DimOp::create(b, copy.getSource(), d));
        steps.push_back(c1);
      }
      if (type.getRank() == 0) { // one element: a one-item loop
        lbs.push_back(c0);
        ubs.push_back(c1);
        steps.push_back(c1);
      }
      bool scalar = type.getRank() == 0;
      scf::ParallelOp::create(
          b, lbs, ubs, steps, [&](OpBuilder &nb, Location loc, ValueRange iv) {
            ValueRange idx = scalar ? ValueRange{} : iv;
            Value v = memref::LoadOp::create(nb, loc, copy.getSource(), idx);
            memref::StoreOp::create(nb, loc, v, copy.getTarget(), idx);
            scf::ReduceOp::create(nb, loc);
          });
      copy.erase();
    }
  }
};
} // namespace

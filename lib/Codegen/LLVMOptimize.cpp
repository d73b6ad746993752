//===- LLVMOptimize.cpp - The model's LLVM IR optimization ----------------===//
//
// Every layer of the model lowers to the same loops on other buffers, so
// the outlined parallel regions (the OpenMP bodies: projection kernels,
// attention, scan tiles) of a 32-layer model are ~340 functions of which
// ~50 differ; their buffers arrive through the argument struct, not as
// constants. Merging the identical ones before O3 lets O3 and instruction
// selection see each once: for the 1.5B shape it halves the time spent in
// LLVM and the object's code size, and the code that runs is the same.
// The functions outside the regions are optimized for size (below).
//
//===----------------------------------------------------------------------===//

#include "hymba/Codegen/LLVMOptimize.h"

#include "mlir/ExecutionEngine/OptUtils.h"

#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/IPO/MergeFunctions.h"

using namespace mlir::hymba;

llvm::Error mlir::hymba::optimizeModel(llvm::Module &module,
                                       llvm::TargetMachine &tm,
                                       mlir::TimingScope &timing) {
  {
    mlir::TimingScope merging = timing.nest("merge identical functions");
    // The generated code never compares function addresses (the outlined
    // regions are only handed to __kmpc_fork_call), so a merged function
    // can replace its twins everywhere instead of keeping them as thunks.
    for (llvm::Function &f : module)
      if (f.hasLocalLinkage())
        f.setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    llvm::MergeFunctionsPass::runOnModule(module);
  }
  // The kernels are the outlined regions (local linkage). The functions
  // around them hold the glue: the regions' arguments packed for the fork
  // calls and the serial loops between them, already vectorized by the
  // passes. Optimized for size, O3 does not unroll or re-vectorize them,
  // which halves the time LLVM spends on the 1.5B model's layer function
  // (its run time did not change, A/B on a 6-layer 1.5B-width model).
  for (llvm::Function &f : module)
    if (!f.isDeclaration() && !f.hasLocalLinkage())
      f.addFnAttr(llvm::Attribute::OptimizeForSize);
  mlir::TimingScope optimizing = timing.nest("LLVM O3");
  auto optimize = mlir::makeOptimizingTransformer(3, 0, &tm);
  return optimize(&module);
}

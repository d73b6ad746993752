//===- LLVMOptimize.cpp - The model's LLVM IR optimization ----------------===//
//
// Every layer of the model lowers to the same loops on other buffers, so
// the outlined parallel regions (the OpenMP bodies: projection kernels,
// attention, scan tiles) of a 32-layer model are ~340 functions of which
// ~50 differ; their buffers arrive through the argument struct, not as
// constants. Merging the identical ones before O3 lets O3 and instruction
// selection see each once: for the 1.5B shape it halves the time spent in
// LLVM and the object's code size, and the code that runs is the same.
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
  mlir::TimingScope optimizing = timing.nest("LLVM O3");
  auto optimize = mlir::makeOptimizingTransformer(3, 0, &tm);
  return optimize(&module);
}

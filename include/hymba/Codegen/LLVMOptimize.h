//===- LLVMOptimize.h - The model's LLVM IR optimization -------*- C++ -*-===//
#ifndef HYMBA_CODEGEN_LLVMOPTIMIZE_H
#define HYMBA_CODEGEN_LLVMOPTIMIZE_H

#include "mlir/Support/Timing.h"

#include "llvm/Support/Error.h"

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace mlir::hymba {

/// Optimizes the translated model for `tm`: identical functions merged
/// first, then LLVM's O3 pipeline. With --mlir-timing each step is timed
/// under `timing`.
llvm::Error optimizeModel(llvm::Module &module, llvm::TargetMachine &tm,
                          mlir::TimingScope &timing);

} // namespace mlir::hymba

#endif // HYMBA_CODEGEN_LLVMOPTIMIZE_H

//===- OutlineParallelRegions.h - One function per OpenMP region -*- C++
//-*-===//
#ifndef HYMBA_CODEGEN_OUTLINEPARALLELREGIONS_H
#define HYMBA_CODEGEN_OUTLINEPARALLELREGIONS_H

#include "mlir/IR/BuiltinOps.h"

namespace mlir::hymba {

/// Moves every outermost omp.parallel of an LLVM-dialect module into an
/// internal llvm.func of its own, called where the region was: the values
/// it captures become arguments, the constant expressions it uses are
/// cloned in. Semantics are unchanged; the OpenMP translation then scans
/// one small function per region instead of the whole layer stack.
void outlineParallelRegions(mlir::ModuleOp module);

} // namespace mlir::hymba

#endif // HYMBA_CODEGEN_OUTLINEPARALLELREGIONS_H
